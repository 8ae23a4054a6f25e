"""What `GET /status` of `ccf serve`'s API shows: calls in progress, queues, agents.

An event sink beside the call store; must not write anything. Waiting counts come from
AMI, the longest wait from the calls this server runs (AMI gives no join time per caller).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ccdsl.runtime.asterisk.names import queue_name
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.events import Event


@dataclass
class LiveCall:
    call_id: str
    started: datetime
    flow: str | None = None
    version: str | None = None
    caller: str | None = None
    step: str | None = None
    state: str = "ivr"  # ivr | queue | agent
    queue: str | None = None
    joined: datetime | None = None  # when it joined the queue it waits in
    agent: str | None = None


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
            elif kind == "step_entered":
                call.step = str(data.get("step"))
            elif kind == "handler_entered" and data.get("handler") != "answered_by_agent":
                # `on answered by agent` runs inside the step that rang the agent
                # and ends without an event: the call is still in that step
                call.step = f"on {data.get('handler')}"
            elif kind == "queue_joined":
                call.state, call.queue, call.joined = "queue", data.get("queue"), event.at
            elif kind == "queue_left":
                if data.get("outcome") != "answered":
                    call.state, call.joined = "ivr", None
            elif kind == "agent_answered":
                call.state, call.agent, call.joined = "agent", data.get("agent"), None
            elif kind == "conversation_ended":
                call.state, call.agent = "ivr", None
            elif kind == "call_ended":
                del self.calls[event.call_id]

    def running(self) -> list[LiveCall]:
        with self._lock:
            return sorted((LiveCall(**vars(c)) for c in self.calls.values()),
                          key=lambda c: (c.started, c.call_id))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _seconds(since: datetime | None, now: datetime) -> float | None:
    if since is None:
        return None
    return round(max(0.0, (now - since).total_seconds()), 1)


def snapshot(*, tracker: StatusTracker, centre, queues: list[str], version: str | None,
             started: datetime, served: int, ami: str, now: datetime | None = None,
             limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """The GET /status document. `centre` is the AmiCentre (a CentreView
    with agents and queue counts); `queues` the flows' queue names; `ami`
    "up", "down" or "off"; `limits` where each of ccf serve's limits stands
    (a `limits` object when given)."""
    now = now or datetime.now(UTC)
    calls = tracker.running()
    out_calls = [{"call_id": c.call_id, "flow": c.flow, "version": c.version,
                  "caller": c.caller, "started": _iso(c.started),
                  "seconds": _seconds(c.started, now), "step": c.step, "state": c.state,
                  "queue": c.queue, "agent": c.agent} for c in calls]
    agents = centre.agents() if centre is not None else []
    out_queues = []
    for queue in queues:
        waiting_here = [c for c in calls if c.state == "queue" and c.queue == queue]
        members = [a for a in agents if queue in a.queues]
        longest = max((_seconds(c.joined, now) or 0.0 for c in waiting_here), default=0.0)
        ami_waiting = centre.queue_waiting(queue) if centre is not None else 0
        out_queues.append({"queue": queue, "asterisk": queue_name(queue),
                           "waiting": max(ami_waiting, len(waiting_here)),
                           "longest_wait_s": longest, "members": len(members),
                           "available": sum(1 for a in members
                                            if a.state == AgentState.AVAILABLE)})
    on_call = {c.agent: c.call_id for c in calls if c.state == "agent" and c.agent}
    out_agents = [{"id": a.id, "name": a.name or a.id, "state": str(a.state),
                   "current_call": on_call.get(a.id), "queues": sorted(a.queues)}
                  for a in sorted(agents, key=lambda a: a.id)]
    out = {"server": {"version": version, "started": _iso(started), "calls_served": served,
                      "ami": ami},
           "calls": out_calls, "queues": out_queues, "agents": out_agents}
    if limits is not None:
        out["limits"] = dict(limits)
    return out
