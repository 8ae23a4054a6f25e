"""The agent's desk: one live page with state, day, call, CRM record, wrap-up, follow-ups.

GET /desk renders it on the server (every caller and CRM value autoescaped); desk.js keeps it
live from the stream and the JSON reads below. The actions are in desk_actions.py. Must not
compute a figure the reports or the operations already compute: it calls them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ccdsl import json_text
from ccdsl.runtime.console import desk_actions
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.desk_actions import may_wrap_up
from ccdsl.runtime.console.desk_wrapups import refresh as refresh_wrapups
from ccdsl.runtime.console.guard import AGENT, agent_of, need, need_agent, reply
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.console.templates import page, text_of
from ccdsl.runtime.core.durations import clock_text
from ccdsl.runtime.operations.centre_control import TARGET_KINDS, TRANSFER_MODES
from ccdsl.runtime.operations.centre_time import local_text
from ccdsl.runtime.operations.ivr_path import path_text
from ccdsl.runtime.operations.voicemail import list_messages
from ccdsl.runtime.operations.wrapup import (
    WrapupError,
    WrapupField,
    WrapupForm,
    asked_of,
    call_form,
    form_from_event,
)

log = logging.getLogger("ccdsl.console")

FOLLOWUPS = 50  # the newest voicemail follow-ups shown
AGAIN_S = 30.0  # an agent's day figures are made again after this long (a call stored late)
LANGUAGES = ("zh-CN", "en-US", "en-GB", "fr-FR", "de-DE", "es-ES")  # read to caller's select
# how each wrap-up field type is entered (wrapup.typed reads the text)
INPUTS = {"text": "text", "number": "number", "bool": "yesno", "date": "date",
          "datetime": "datetime-local", "time": "time", "duration": "text",
          "list": "textarea", "map": "textarea", "any": "text"}
HINTS = {"duration": "such as 90s or 5m", "list": 'JSON, such as ["a", "b"]',
         "map": 'JSON, such as {"a": 1}', "datetime": "date and time"}


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    day = DayFigures(ctx)

    async def desk(request: Request) -> Response:
        session = need(request, AGENT)
        agent = agent_of(session)
        await refresh_wrapups(ctx, agent)  # a restart, another worker: the store's forms
        status = ctx.desk.status(agent)
        pop = ctx.pops.by_agent.get(agent)
        form, form_error = None, None
        due = form_due(status)
        if due:
            form, form_error, _ = await off_loop(wrapup_form, ctx, due, agent)
        return page(request, "desk.html", me=status.to_json(), pop=pop_view(pop, ctx.zone(), agent),
                    now=ctx.now().isoformat(),
                    today=await day.of(agent),
                    followups=await off_loop(followups, ctx, agent),
                    reasons=ctx.settings.pause_reasons, can_answer=can_answer(ctx),
                    target_kinds=TARGET_KINDS, transfer_modes=TRANSFER_MODES,
                    languages=LANGUAGES, wrapup=form_view(form) if form else None,
                    wrapup_error=form_error, wrapup_call=due if form else None,
                    agent_name=session.name or agent,
                    # a log-out refused (a plain form's post, no script): why, if still so
                    logout_refused=ctx.desk.why_not_leave(agent)
                    if request.query_params.get("refused") == "logout" else None)

    async def summary(request: Request) -> Response:
        """The page's parts that change with calls ending: the day, the follow-ups."""
        agent = need_agent(request)
        await refresh_wrapups(ctx, agent)
        return reply(me=ctx.desk.status(agent).to_json(), today=await day.of(agent),
                     followups=await off_loop(followups, ctx, agent))

    async def wrapup(request: Request) -> Response:
        """The wrap-up form of a call this agent may wrap up, as JSON fields."""
        agent = need_agent(request)
        call_id = request.path_params["call_id"]
        await off_loop(may_wrap_up, ctx, agent, call_id)
        form, error, over = await off_loop(wrapup_form, ctx, call_id, agent)
        if form is None:
            if over:
                ctx.desk.forget_wrapup(agent, call_id)  # its form will never come
            return reply(404, error=error)
        return reply(call_id=call_id, fields=form_view(form))

    return [Route("/desk", desk, methods=["GET"]),
            Route("/desk/summary", summary, methods=["GET"]),
            Route("/desk/wrapup/{call_id}", wrapup, methods=["GET"]),
            *desk_actions.routes(ctx)]


def form_due(status: Any) -> str | None:
    """The call whose wrap-up form the desk shows: the oldest not saved
    (whatever the agent's state now), else the call being talked on (a form
    asked for while the agent still talks). A call wrapped up now is in the
    list until saved: saved, it has no form though the agent is still paused."""
    if status.wrapups:
        return status.wrapups[0]
    if status.call_id and status.state == "on_call":
        return status.call_id
    return None


def can_answer(ctx: ConsoleContext) -> bool:
    """Only a simulated centre has an Answer button: on Asterisk the phone answers."""
    return callable(getattr(ctx.control, "answer", None))


# ---- the agent's day ---------------------------------------------------------------------


class DayFigures:
    """Each agent's calls handled and talk time today (the centre's zone): the
    `agents` section of `ccf report` for the agent and day, made again when
    the agent's desk state has changed since (a call taken or ended) or
    AGAIN_S have passed, not for every page load and summary."""

    def __init__(self, ctx: ConsoleContext, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.clock = clock
        self._read: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}

    async def of(self, agent: str) -> dict[str, Any]:
        zone = self.ctx.zone()
        day = self.ctx.now().astimezone(zone).date().isoformat()
        status = self.ctx.desk.status(agent)
        key = (day, status.state, status.since, status.call_id, int(self.clock() // AGAIN_S))
        read = self._read.get(agent)
        if read is None or read[0] != key:
            # the store's flush and the report's query: off the event loop, calls go on
            figures = await off_loop(
                self._make, agent, day, getattr(zone, "key", None) or self.ctx.timezone)
            if figures["calls"] is None:
                return figures  # not read: tried again next time
            read = self._read[agent] = key, figures
        return read[1]

    def _make(self, agent: str, day: str, zone: str | None) -> dict[str, Any]:
        from ccdsl.runtime.operations.reports import make_report
        from ccdsl.runtime.operations.reports.model import Options
        from ccdsl.runtime.operations.reports.options import filters

        store = self.ctx.store
        try:
            store.flush(store.wait_s if store.wait_s is not None else 1.0)
            report = make_report(store.path, filters(day, day, agent=agent),
                                 Options(zone=zone), wanted=("agents",))
            rows = report.section("agents").records()
        except Exception as exc:  # noqa: BLE001 - the desk works without its day's figures
            log.warning("the day's figures of agent %s not read: %s", agent, exc)
            return {"calls": None, "talk_ms": None, "talk": "?"}
        row = rows[0] if rows else {}
        talk_ms = int(row.get("talk_ms") or 0)
        return {"calls": int(row.get("answered") or 0), "talk_ms": talk_ms,
                "talk": clock_text(talk_ms // 1000)}


def followups(ctx: ConsoleContext, agent: str) -> list[dict[str, Any]]:
    """The voicemail messages left for this agent not marked done, newest first."""
    try:
        messages = list_messages(ctx.store, for_agent=agent, limit=FOLLOWUPS)
    except Exception as exc:  # noqa: BLE001 - the desk works without its follow-ups
        log.warning("the follow-ups of agent %s not read: %s", agent, exc)
        return []
    zone = ctx.zone()
    out = []
    for m in messages:
        if m.get("done"):
            continue
        out.append({"call_id": m["call_id"], "caller": m.get("caller"),
                    "customer_id": m.get("customer_id"),
                    "left": local_text(m.get("started"), zone)[5:16],  # MM-DD HH:MM
                    "length": clock_text(int(m["duration_ms"]) // 1000)
                    if m.get("duration_ms") else "",
                    "called_back": m.get("called_back") or "",
                    "recording": f"/recordings/{m['call_id']}"})
    return out


# ---- the pop -----------------------------------------------------------------------------


def _pop_wrapups(recent: dict[str, Any]) -> str:
    """A last call's saved wrap-ups as text: each agent's, named, when several agents saved
    one (a transferred call), else the one's values."""
    def values(found: Any) -> str:
        return (", ".join(f"{k}: {text_of(v)}" for k, v in found.items())
                if isinstance(found, dict) else text_of(found or ""))

    saved = [w for w in recent.get("wrapups") or () if isinstance(w, dict)]
    if len(saved) > 1:
        return "; ".join(f"{text_of(w.get('agent') or '?')}: {values(w.get('values'))}"
                         for w in saved)
    return values(recent.get("wrapup"))


def pop_view(pop: dict[str, Any] | None, zone: tzinfo,
             viewer: str | None = None) -> dict[str, Any] | None:
    """The screen pop (screenpop.payload) as the template shows it: text only,
    times in the centre's zone. A last call links to its page only when the
    viewer (an agent) took it, as the calls pages allow, and to its recording
    only when it was recorded too."""
    if not pop:
        return None
    call = pop.get("call") or {}
    customer = pop.get("customer") or {}
    recent = []
    for r in pop.get("recent_calls") or []:
        mine = viewer is not None and r.get("agent") == viewer
        recent.append({"call_id": text_of(r.get("call_id")), "linked": mine,
                       "recorded": mine and bool(r.get("recorded")),
                       "time": local_text(text_of(r.get("time")), zone),
                       "outcome": text_of(r.get("outcome")), "agent": text_of(r.get("agent")),
                       "wrapup": _pop_wrapups(r)})
    # one shape ringing or answered: the CRM record is shown as a flow's chosen record is
    chosen = flow_items(pop.get("items")) or (flow_items([customer])
                                              if isinstance(customer, dict) else [])
    return {"call_id": text_of(call.get("id")), "caller": text_of(call.get("caller")),
            "caller_name": text_of(call.get("caller_name")),
            "dialled": text_of(call.get("dialled")), "flow": text_of(call.get("flow")),
            "path": path_text(call.get("path") or []),
            # what the flow's `screen_pop` chose, when it chose something (desk.js: flowItems)
            "customer": chosen,
            "recent": recent}


def flow_items(items: Any) -> list[tuple[str, str | None]]:
    """A flow's screen_pop items as rows: a record gives a heading (kind and
    id, value None) and its fields; a plain value one row."""
    rows: list[tuple[str, str | None]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            head = " ".join(text_of(item[k]) for k in ("kind", "id") if item.get(k) is not None)
            if head:
                rows.append((head, None))
            rows.extend((text_of(k), value_text(v))
                        for k, v in item.items() if k not in ("kind", "id"))
        else:
            rows.append(("flow", text_of(item)))
    return rows


def value_text(value: Any) -> str:
    """A pop value as text: a duration ({"duration_ms": N}) as a clock, a
    record or list as JSON, else its text (desk.js: shown)."""
    if isinstance(value, dict) and set(value) == {"duration_ms"} \
            and isinstance(value["duration_ms"], (int, float)):
        return clock_text(int(value["duration_ms"]) // 1000)
    return text_of(json_text.dumps(value, ensure_ascii=False)
                   if isinstance(value, (dict, list)) else value)


# ---- the wrap-up form --------------------------------------------------------------------


def wrapup_form(ctx: ConsoleContext, call_id: str,
                agent: str | None = None) -> tuple[WrapupForm | None, str | None, bool]:
    """The call's form asked of `agent` as `ccf wrapup` finds it (its `wrapup_requested`
    event); names without types (a call stored before types were kept)
    become text fields. (None, why, over) when there is none: `over` when the
    call is gone or has ended, so the form will not come (while it runs, the
    flow may still ask for it as the conversation ends)."""
    record = ctx.store.call(call_id)
    if record is None:
        return None, f"no call {call_id} in the call store", True
    over = record.get("outcome") is not None
    events = ctx.store.events(call_id)
    try:
        form = call_form(events, record.get("flow"), record.get("flow_version"), None, agent)
        return form, None, over
    except WrapupError as exc:
        data = asked_of(events, agent)
        if data is None:
            return None, str(exc), over
        _, names = form_from_event(data)
        fields = tuple(WrapupField(n, "any") for n in names)
        return WrapupForm(fields, data.get("agent")), None, over


def form_view(form: WrapupForm) -> list[dict[str, Any]]:
    out = []
    for f in form.fields:
        builtin = f.type in INPUTS
        out.append({"name": f.name, "type": f.type, "required": not f.optional,
                    "input": INPUTS.get(f.type, "text"),
                    "hint": HINTS.get(f.type) if builtin else f"the id of a {f.type} record"})
    return out
