"""The agent desk's actions: state changes, call control, wrap-up, follow-ups. JSON replies.

Each goes through need_form (an agent's session, same origin, CSRF) and is checked on the
server: an agent acts only on the call its desk names now, wraps up only its own calls and
follows up only its own messages. Must not act on the phones except through ctx.control.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.guard import Refused, need_agent_form, reply
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.operations.centre_control import (
    TARGET_KINDS,
    TRANSFER_MODES,
    ControlError,
    Target,
)
from ccdsl.runtime.operations.voicemail import mark_done, message

log = logging.getLogger("ccdsl.console")

MAX_READ = 500  # characters read to a caller at once
FIELD_PREFIX = "f."  # a wrap-up value's form field: f.NAME (never clashes with csrf)
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
CALL_ACTIONS = ("hangup", "hold", "resume", "transfer", "add_party", "read", "answer")

Handler = Callable[[ConsoleContext, str, str, dict[str, str]], Awaitable[dict[str, Any]]]


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    async def ready(request: Request) -> Response:
        agent, _ = await need_agent_form(request)
        return _state(await ctx.desk.ready(agent))

    async def pause(request: Request) -> Response:
        agent, fields = await need_agent_form(request)
        reason = fields.get("reason", "").strip()
        if reason not in ctx.settings.pause_reasons:
            return reply(400, error=f"choose a pause reason: one of "
                                    f"{', '.join(ctx.settings.pause_reasons)}")
        return _state(await ctx.desk.pause(agent, reason))

    async def leave(request: Request) -> Response:
        agent, _ = await need_agent_form(request)
        return _state(await ctx.desk.logout(agent))

    async def join(request: Request) -> Response:
        """Back into the queues after leaving them (the page stays open)."""
        agent, _ = await need_agent_form(request)
        return _state(await ctx.desk.login(agent))

    async def call_action(request: Request) -> Response:
        agent, fields = await need_agent_form(request)
        call_id, action = request.path_params["call_id"], request.path_params["action"]
        if action not in CALL_ACTIONS:
            return reply(404, error=f"no call action {action!r}; one of "
                                    f"{', '.join(CALL_ACTIONS)}")
        status = ctx.desk.status(agent)
        if status.call_id != call_id:
            mine = f"call {status.call_id}" if status.call_id else "no call"
            return reply(403, error=f"call {call_id} is not the call on your desk ({mine}): "
                                    "you may act only on your own call")
        refusal = _not_now(action, status.state, call_id)
        if refusal:
            return reply(409, error=refusal)
        try:
            done = await ACTIONS[action](ctx, agent, call_id, fields)
        except ValueError as exc:
            return reply(400, error=str(exc))
        log.info("console: agent %s: %s on call %s", agent, action, call_id)
        # only hold and resume answer with the desk's state: for the others the live feed
        # says what became of the call (a hang-up's 'on call' could undo the feed's 'wrap-up')
        return reply(call_id=call_id, action=action, **done)

    async def wrapup(request: Request) -> Response:
        agent, fields = await need_agent_form(request)
        call_id = request.path_params["call_id"]
        await off_loop(may_wrap_up, ctx, agent, call_id)
        values = {k[len(FIELD_PREFIX):]: v for k, v in fields.items()
                  if k.startswith(FIELD_PREFIX)}
        status, body = await ctx.wrapup(call_id, {"agent": agent, "fields": values})
        if status == 409 and body.get("already") == "saved":
            # saved before: its form waits no more
            return reply(409, error=body.get("error"), **await _wrapped_up(ctx, agent, call_id))
        if status == 404:  # no such call in the store (pruned): its form can never be saved,
            # so it waits no more, as after a save (an agent wrapping it up is ready again).
            # The store's file says so, not this worker's memory: a call another worker
            # stored is found (tests/console/test_wrapup_other_worker.py)
            return reply(404, error=body.get("error"), **await _wrapped_up(ctx, agent, call_id))
        if status != 200 or not body.get("ok"):
            problems = [str(p) for p in body.get("problems") or []]
            by_field: dict[str, list[str]] = {}
            other: list[str] = []
            for problem in problems:
                name, _, said = problem.partition(": ")
                (by_field.setdefault(name, []).append(said) if name in values
                 else other.append(problem))
            return reply(status if status >= 400 else 400,
                         error=body.get("error") or "; ".join(problems) or "not stored",
                         problems=by_field, other=other)
        body = {k: v for k, v in body.items() if k != "ok"}
        return reply(**body, **await _wrapped_up(ctx, agent, call_id))

    async def callback(request: Request) -> Response:
        agent, _ = await need_agent_form(request)
        call_id = request.path_params["call_id"]
        await off_loop(_own_message, ctx, agent, call_id)
        return reply(call_id=call_id, outcome=await ctx.control.callback(call_id, agent))

    async def done(request: Request) -> Response:
        agent, _ = await need_agent_form(request)
        call_id = request.path_params["call_id"]
        await off_loop(_own_message, ctx, agent, call_id)
        return reply(call_id=call_id,
                     done=await off_loop(mark_done, ctx.store, call_id, agent))

    return [Route("/desk/ready", ready, methods=["POST"]),
            Route("/desk/pause", pause, methods=["POST"]),
            Route("/desk/leave", leave, methods=["POST"]),
            Route("/desk/join", join, methods=["POST"]),
            Route("/desk/call/{call_id}/{action}", call_action, methods=["POST"]),
            Route("/desk/wrapup/{call_id}", wrapup, methods=["POST"]),
            Route("/desk/callback/{call_id}", callback, methods=["POST"]),
            Route("/desk/done/{call_id}", done, methods=["POST"])]


async def _wrapped_up(ctx: ConsoleContext, agent: str, call_id: str) -> dict[str, Any]:
    """The desk told the call's wrap-up is saved; what the reply says of the desk then.
    The form no longer waits even when the phone system refuses to take the agent off
    the wrap-up pause: the reply warns (not ready) instead of failing the save."""
    try:
        await ctx.desk.wrapped_up(agent, call_id)
    except ControlError as exc:
        return {"ready": False, "warning": str(exc), "me": ctx.desk.status(agent).to_json()}
    return {"me": ctx.desk.status(agent).to_json()}


def _state(status: Any) -> Response:
    """The desk's state after a change (a ControlError is answered by the app)."""
    return reply(me=status.to_json())


def _not_now(action: str, state: str, call_id: str) -> str | None:
    """Why the action does not fit the call's state now, or None. A call that
    still rings is the queue's: hanging it up (or holding, transferring it)
    would drop a caller who is still waiting for an agent."""
    if action == "answer":
        return None if state == "ringing" else f"call {call_id} is already answered"
    if state == "ringing":
        return (f"call {call_id} is ringing and not answered yet: answer it, or let it "
                "ring on; the caller stays in the queue for the next agent")
    if state != "on_call" and action not in ("hold", "resume"):  # AgentDesk.hold says so
        return f"call {call_id} is over on your desk: nothing to {action.replace('_', ' ')}"
    return None


def _own_message(ctx: ConsoleContext, agent: str, call_id: str) -> dict[str, Any]:
    found = message(ctx.store, call_id)
    if found is None:
        raise Refused(404, f"call {call_id} left no voicemail message")
    if found.get("mailbox") != agent:
        raise Refused(403, f"the message of call {call_id} is not one of your follow-ups")
    return found


def may_wrap_up(ctx: ConsoleContext, agent: str, call_id: str) -> None:
    """Refused unless this agent took the call: its desk names it, or the
    call's record or wrap-up request names the agent. Another agent's call
    gets the same 404 as a call that does not exist (docs/console.md: an
    agent learns nothing of other agents' calls)."""
    status = ctx.desk.status(agent)
    if status.call_id == call_id or call_id in status.wrapups:
        return
    missing = Refused(404, f"no call {call_id} of yours in the call store")
    record = ctx.store.call(call_id)
    if record is None:
        raise missing
    if record.get("agent") == agent:
        return
    # asked of this agent, whoever was asked after (a transfer asks both agents)
    if any(w.get("agent") == agent for w in record.get("wrapups") or ()):
        return
    raise missing


# ---- the call actions ----------------------------------------------------------------------


def target_of(ctx: ConsoleContext, fields: dict[str, str], agent: str) -> Target:
    kind = fields.get("kind", "").strip()
    value = fields.get("value", "").strip()
    if kind not in TARGET_KINDS:
        raise ValueError(f"kind: one of {', '.join(TARGET_KINDS)}")
    if not value:
        raise ValueError(f"value: the {kind} to connect is missing")
    if kind == "agent":
        if ctx.agent(value) is None:
            raise ValueError(f"value: no agent {value!r} in the agents file")
        if value == agent:
            raise ValueError("value: that is you")
    elif kind == "queue" and not _QUEUE.match(value):
        raise ValueError(f"value: {value!r} is not a queue name")
    elif kind == "number":
        value = value.replace(" ", "").replace("-", "")
        if not _NUMBER.match(value):
            raise ValueError(f"value: {value!r} is not a phone number (digits, + first)")
    return Target(kind, value)  # type: ignore[arg-type]


async def _hangup(ctx, agent, call_id, fields):
    await ctx.control.hangup(call_id)
    return {}


async def _hold(ctx, agent, call_id, fields):
    return {"me": (await ctx.desk.hold(agent, call_id, True)).to_json()}


async def _resume(ctx, agent, call_id, fields):
    return {"me": (await ctx.desk.hold(agent, call_id, False)).to_json()}


async def _transfer(ctx, agent, call_id, fields):
    target = target_of(ctx, fields, agent)
    mode = fields.get("mode", "blind").strip() or "blind"
    if mode not in TRANSFER_MODES:
        raise ValueError(f"mode: one of {', '.join(TRANSFER_MODES)}")
    await ctx.control.transfer(call_id, target, mode)
    return {"target": {"kind": target.kind, "value": target.value}, "mode": mode}


async def _add_party(ctx, agent, call_id, fields):
    target = target_of(ctx, fields, agent)
    await ctx.control.add_party(call_id, target)
    return {"target": {"kind": target.kind, "value": target.value}}


async def _read(ctx, agent, call_id, fields):
    text = fields.get("text", "").strip()
    if not text:
        raise ValueError("text: type what to read to the caller, or pick a CRM field")
    if len(text) > MAX_READ:
        raise ValueError(f"text: at most {MAX_READ} characters, got {len(text)}")
    language = fields.get("language", "").strip() or \
        await off_loop(call_language, ctx, call_id)
    if not _LANGUAGE.match(language):
        raise ValueError(f"language: {language!r} is not a language tag such as zh-CN")
    await ctx.control.read_to_caller(call_id, text, language)
    return {"language": language}


async def _answer(ctx, agent, call_id, fields):
    answer = getattr(ctx.control, "answer", None)
    if not callable(answer):
        raise ControlError("calls are answered on the phone here, not on the page", 409)
    result = answer(agent, call_id)
    if inspect.isawaitable(result):
        await result
    return {}


ACTIONS: dict[str, Handler] = {"hangup": _hangup, "hold": _hold, "resume": _resume,
                               "transfer": _transfer, "add_party": _add_party, "read": _read,
                               "answer": _answer}

DEFAULT_LANGUAGE = "en-US"


def call_language(ctx: ConsoleContext, call_id: str) -> str:
    """The language the call speaks now: its last `language_set`, else that
    of the last thing said to the caller, else DEFAULT_LANGUAGE."""
    try:
        events = ctx.store.events(call_id)
    except Exception:  # noqa: BLE001 - the default then
        return DEFAULT_LANGUAGE
    for event in reversed(events):
        data = event.get("data") or {}
        if event.get("kind") == "language_set" and data.get("language"):
            return str(data["language"])
        if event.get("kind") == "said" and data.get("language"):
            return str(data["language"])
        if event.get("kind") == "prompt_played":
            for sound in data.get("sounds") or []:
                if isinstance(sound, dict) and sound.get("language"):
                    return str(sound["language"])
    return DEFAULT_LANGUAGE
