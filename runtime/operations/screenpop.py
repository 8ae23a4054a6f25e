"""Screen pop: tells an agent's desktop who is calling, by webhook or AMI UserEvent.

An event sink that never delays the call: `emit` starts a task and returns (docs/asterisk.md
"The HTTP API, screen pop and wrap-up"). Must not import Asterisk code: AMI comes in as a callable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.redact import shown_url
from ccdsl.runtime.core.values import Record, to_json
from ccdsl.runtime.operations.ivr_path import PATH_KINDS, path_entry, step_after

log = logging.getLogger("ccdsl.screenpop")

RECENT_CALLS = 5
SENT_KEPT = 1000  # the sends `ScreenPop.sent` remembers (the simulator reads them)
USER_EVENT = "ccf-screen-pop"
CRM_TIMEOUT_S = 2.0
DRAIN_S = 5.0  # at shutdown, how long pops under way may still finish


@dataclass(frozen=True)
class PopTarget:
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    timeout_s: float = 3.0


@dataclass
class _Call:
    call_id: str
    started: datetime
    caller: str | None = None
    caller_name: str | None = None  # the caller id's name, as the network sent it
    dialled: str | None = None
    flow: str | None = None
    customer: dict[str, Any] | None = None  # the CRM query's result (a summary)
    step: str | None = None
    path: list[dict[str, Any]] = field(default_factory=list)  # ivr_path's entries so far


def _call_json(call: _Call) -> dict[str, Any]:
    return {"id": call.call_id, "caller": call.caller, "caller_name": call.caller_name,
            "dialled": call.dialled,
            "flow": call.flow, "started": call.started.isoformat(), "path": list(call.path)}


def recent_calls(history: Callable[[str, str, int], list[dict]], caller: str | None,
                 exclude: str, limit: int = RECENT_CALLS) -> list[dict[str, Any]]:
    """The caller's last calls from the call store (its `recent_calls`),
    newest first, as the pop shows them: every agent's saved wrap-up of each
    (`wrapups`, a transferred call's two), and `wrapup` the last one's values."""
    if not caller:
        return []
    rows = history(caller, exclude, limit)
    out = []
    for row in rows:
        saved = [{"agent": w["agent"], "values": json.loads(w["values"])}
                 for w in row.get("wrapups") or ()]
        out.append({"call_id": row["call_id"], "time": row["started"],
                    "outcome": row["outcome"], "agent": row["agent"],
                    "wrapup": saved[-1]["values"] if saved else None, "wrapups": saved,
                    "recorded": bool(row.get("recording"))})
    return out


def _copy(call: _Call) -> _Call:
    """The call as it is now, for a pop that runs on while the call goes on."""
    return _Call(**{**vars(call), "path": list(call.path)})


def _customer_of(data: Mapping[str, Any]) -> dict[str, Any] | None:
    result = data.get("result")
    if not isinstance(result, Mapping) or result.get("id") is None:
        return None
    if result.get("kind") == "customer" or "customer" in str(data.get("operation") or ""):
        return dict(result)
    return None


class ScreenPop:
    """The screen pop sink (module doc).

    target: the webhook (None or no url: no webhook).
    crm: the CRM to read the customer's full record from (None: the
      call's query result as it is).
    history: the call store's `recent_calls` (None: no recent calls).
    ami: the AMI link now (None or not connected: no UserEvent).
    ami_for: agent -> the AMI link of the server the agent's phone lives on, now (several
      Asterisk servers: the agent's desktop listens there); given, it is asked instead of ami.
    record: (kind, data, call_id) -> None, writes a `centre_events` row.
    on_pop: (agent, payload) -> None, the console's live feed (None: none).
    """

    def __init__(self, target: PopTarget | None, *, crm=None,
                 history: Callable[..., list[dict]] | None = None,
                 ami: Callable[[], Any] | None = None,
                 ami_for: Callable[[str], Any] | None = None,
                 record: Callable[[str, dict, str], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 finish_s: float | None = None,
                 on_pop: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.target = target if target is not None and target.url else None
        self.crm = crm
        self.history = history
        self.ami = ami
        self.ami_for = ami_for
        self.record = record
        self.clock = clock
        self.finish_s = finish_s  # how long finish() lets pops under way take
        self.on_pop = on_pop
        self.calls: dict[str, _Call] = {}
        # the latest sends' outcomes (each also a centre_events row): bounded,
        # a long-running ccf serve must not keep one per call for ever
        self.sent: deque[dict[str, Any]] = deque(maxlen=SENT_KEPT)
        self._tasks: set[asyncio.Task] = set()
        self._client = None  # httpx.AsyncClient, made on the first webhook

    # -- EventSink ---------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        kind, data = event.kind, event.data
        call = self.calls.get(event.call_id)
        if call is None:
            if kind == "call_ended":
                return
            call = self.calls[event.call_id] = _Call(event.call_id, event.at)
        if kind == "call_started":
            call.caller, call.dialled, call.flow = (data.get("caller"), data.get("dialled"),
                                                    data.get("flow"))
            call.caller_name = data.get("caller_name")
        elif kind == "crm_query" and call.customer is None:
            call.customer = _customer_of(data)
        elif kind in PATH_KINDS:
            entry = path_entry(kind, data, call.step)
            call.step = step_after(kind, data, call.step)
            if entry is not None:
                call.path.append(entry)
        elif kind == "agent_offered" and data.get("agent"):
            self._start(self.pop(_copy(call), str(data["agent"])))
        elif kind == "screen_pop":
            # the flow's own `screen_pop` statement (in `on answered by agent`):
            # what it chose goes to the console at once, and to the webhook as
            # a second post
            agent = str(data.get("agent") or "")
            if self.on_pop is not None and agent:
                self.on_pop(agent, {"pop": "flow", "call": _call_json(call), "agent": agent,
                                    "items": data.get("data")})
            if self.target is not None:
                self._start(self.flow_pop(_copy(call), agent, data.get("data")))
        elif kind == "call_ended":
            del self.calls[event.call_id]

    def _start(self, job) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- one pop -----------------------------------------------------------------------

    async def flow_pop(self, call: _Call, agent: str, items: Any) -> None:
        """The webhook post of a flow's `screen_pop` statement: the call, the
        agent and the items the flow chose (`"pop": "flow"`)."""
        try:
            await self._webhook({"pop": "flow", "call": _call_json(call), "agent": agent,
                                 "items": items}, call, agent)
        except Exception as exc:  # noqa: BLE001 - a pop never breaks the server
            log.exception("screen pop of the flow for call %s failed", call.call_id)
            self._note("screen_pop_failed", call, agent, "webhook", error=str(exc))

    async def pop(self, call: _Call, agent: str) -> None:
        try:
            link = (self.ami_for(agent) if self.ami_for is not None
                    else self.ami() if self.ami is not None else None)
            if self.target is None and link is None and self.on_pop is None:
                return  # nowhere to pop to: no webhook, Asterisk not linked, no console
            payload = await self.payload(call, agent)
            if self.on_pop is not None:
                self.on_pop(agent, payload)
            if self.target is not None:
                await self._webhook(payload, call, agent)
            if link is not None:
                await self._user_event(link, payload, call, agent)
        except Exception as exc:  # noqa: BLE001 - a pop never breaks the server
            log.exception("screen pop for call %s failed", call.call_id)
            self._note("screen_pop_failed", call, agent, "payload", error=str(exc))

    async def payload(self, call: _Call, agent: str) -> dict[str, Any]:
        customer = await self._customer(call)
        recent = []
        if self.history is not None:
            try:
                # a read of the call store (a PostgreSQL round trip), off the event loop
                # that runs the calls
                recent = await asyncio.to_thread(recent_calls, self.history, call.caller,
                                                 call.call_id)
            except Exception as exc:  # noqa: BLE001 - a pop without history is still a pop
                log.warning("screen pop for call %s: recent calls not read: %s",
                            call.call_id, exc)
        return {"pop": "offer", "call": _call_json(call), "agent": agent,
                "customer": customer, "recent_calls": recent}

    async def _customer(self, call: _Call) -> dict[str, Any] | None:
        found = call.customer
        if self.crm is None:
            return found
        try:
            async with asyncio.timeout(CRM_TIMEOUT_S):
                if found is not None:
                    record = await self.crm.find("customer", {"id": found["id"]})
                elif call.caller:
                    record = await self.crm.find_customer(call.caller)
                else:
                    record = None
        except Exception as exc:  # noqa: BLE001 - the CRM's trouble is not the pop's
            log.warning("screen pop for call %s: the CRM did not answer (%s); sending what "
                        "the call found", call.call_id, exc)
            return found
        if isinstance(record, Record):
            return to_json(record)
        return found

    async def _webhook(self, payload: dict[str, Any], call: _Call, agent: str) -> None:
        import httpx  # deferred: only a webhook target sends anything

        assert self.target is not None and self.target.url is not None
        headers = {"Content-Type": "application/json", "User-Agent": "ccf-serve screen-pop"}
        if self.target.token:
            headers["Authorization"] = f"Bearer {self.target.token}"
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.target.timeout_s,
                                             follow_redirects=False)
        started = time.perf_counter()
        body = json_text.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            async with asyncio.timeout(self.target.timeout_s):
                reply = await self._client.post(self.target.url, content=body,
                                                headers=headers)
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            reason = (f"no answer within {self.target.timeout_s:g} s"
                      if isinstance(exc, (TimeoutError, httpx.TimeoutException))
                      else type(exc).__name__ + (f": {exc}" if str(exc) else ""))
            log.warning("screen pop webhook %s for call %s failed: %s",
                        shown_url(self.target.url), call.call_id, reason)
            self._note("screen_pop_failed", call, agent, "webhook", error=reason)
            return
        ms = round((time.perf_counter() - started) * 1000, 1)
        if reply.is_success:
            self._note("screen_pop_sent", call, agent, "webhook", status=reply.status_code,
                       ms=ms)
        else:
            log.warning("screen pop webhook %s for call %s answered %s",
                        shown_url(self.target.url), call.call_id, reply.status_code)
            self._note("screen_pop_failed", call, agent, "webhook", status=reply.status_code,
                       error=f"HTTP {reply.status_code}", ms=ms)

    async def _user_event(self, link, payload: dict[str, Any], call: _Call,
                          agent: str) -> None:
        customer = payload.get("customer") or {}
        try:
            reply = await link.action("UserEvent", UserEvent=USER_EVENT, Agent=agent,
                                      CallId=call.call_id, Caller=call.caller or "",
                                      Customer=str(customer.get("id") or ""),
                                      Recent=len(payload.get("recent_calls") or ()))
        except ExternalError as exc:  # the AMI link's AmiError
            self._note("screen_pop_failed", call, agent, "ami", error=str(exc))
            return
        if reply.ok:
            self._note("screen_pop_sent", call, agent, "ami", action_id=reply.action_id)
        else:
            self._note("screen_pop_failed", call, agent, "ami", error=reply.message)

    def _note(self, kind: str, call: _Call, agent: str, via: str, **data: Any) -> None:
        row = {"agent": agent, "via": via, **data}
        self.sent.append({"kind": kind, "call_id": call.call_id, **row})
        if self.record is not None:
            try:
                self.record(kind, row, call.call_id)
            except Exception:  # noqa: BLE001 - the store's trouble is logged by the store
                log.exception("screen pop of call %s not recorded", call.call_id)

    # -- stopping ----------------------------------------------------------------------

    async def finish(self) -> None:
        """The end of a simulated call (runtime.sim.scenario's companion sink)."""
        await self.drain(self.finish_s if self.finish_s is not None else DRAIN_S)

    async def drain(self, timeout_s: float = DRAIN_S) -> None:
        """Let pops under way finish (at most timeout_s), then close."""
        tasks = list(self._tasks)
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
