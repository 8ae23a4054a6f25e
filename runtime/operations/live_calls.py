"""The calls a centre runs now, with their step, queue and agent: for /status and the wallboard.

An event sink beside the call store; must not write anything. Both ccf serve and the
simulated centre keep one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.ivr_path import step_after


@dataclass
class LiveCall:
    call_id: str
    started: datetime
    flow: str | None = None
    version: str | None = None
    caller: str | None = None
    step: str | None = None
    state: str = "ivr"  # ivr | queue | agent | party (an outside party joined by number)
    queue: str | None = None
    joined: datetime | None = None  # when it joined the queue it waits in
    agent: str | None = None
    party: str | None = None  # the outside party (a number) the caller talks to


@dataclass
class StatusTracker:
    """An EventSink keeping the calls in progress (module doc)."""

    calls: dict[str, LiveCall] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def emit(self, event: Event) -> None:
        kind, data = event.kind, event.data
        with self._lock:
            call = self.calls.get(event.call_id)
            if call is None:
                if kind == "call_ended":
                    return
                call = self.calls[event.call_id] = LiveCall(event.call_id, event.at)
            if kind == "call_started":
                call.flow, call.caller = data.get("flow"), data.get("caller")
                version = data.get("flow_version")
                call.version = None if version is None else str(version)
            elif kind == "step_entered" or kind == "handler_entered":
                call.step = step_after(kind, data, call.step)  # as a call's IVR path says
            elif kind == "queue_joined":
                call.state, call.queue, call.joined = "queue", data.get("queue"), event.at
            elif kind == "queue_left":
                if data.get("outcome") != "answered":
                    call.state, call.joined = "ivr", None
            elif kind == "agent_answered":
                call.state, call.agent, call.joined = "agent", data.get("agent"), None
            elif kind == "conversation_ended":
                call.state, call.agent = "ivr", None
            elif kind == "party_joined":  # a courier, not an agent: never in `agent`
                call.state, call.party = "party", data.get("party")
            elif kind == "party_left":
                call.state, call.party = "ivr", None
            elif kind == "call_ended":
                del self.calls[event.call_id]

    def running(self) -> list[LiveCall]:
        with self._lock:
            return sorted((LiveCall(**vars(c)) for c in self.calls.values()),
                          key=lambda c: (c.started, c.call_id))
