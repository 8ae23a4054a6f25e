"""What `GET /status` of `ccf serve`'s API shows: calls in progress, queues, agents.

An event sink beside the call store; must not write anything. Waiting counts come from
AMI, the longest wait from the calls this server runs (AMI gives no join time per caller).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ccdsl.runtime.asterisk.names import queue_name
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.operations.live_calls import LiveCall, StatusTracker  # noqa: F401 (importers)


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
