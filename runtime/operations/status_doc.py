"""A centre's status document (calls, queues, agents): what GET /status and the wallboard read.

Shared by ccf serve on Asterisk and the simulated live centre; must not import either, nor
write anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.operations.live_calls import LiveCall


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def seconds_since(since: datetime | None, now: datetime) -> float | None:
    if since is None:
        return None
    return round(max(0.0, (now - since).total_seconds()), 1)


def status_document(*, calls: Sequence[LiveCall], agents: Sequence[Agent],
                    members: Mapping[str, Sequence[Agent]], waiting: Callable[[str], int],
                    server: dict[str, Any], now: datetime,
                    queue_label: Callable[[str], str | None] = lambda q: None,
                    agent_queues: Callable[[Agent], Iterable[str]] | None = None,
                    ) -> dict[str, Any]:
    """`members`: each queue (the flows' names) -> its member agents, in
    order; `waiting(queue)`: the phone system's own count of callers there
    (the calls this centre runs in the queue count too, whichever is more);
    `queue_label`: the queue's name on the phone system (the `asterisk` field);
    `agent_queues(agent)`: an agent's queues as the phone system has them
    (Asterisk may have queues the flows do not name); None: the queues of
    `members` it is in."""
    out_calls = [{"call_id": c.call_id, "flow": c.flow, "version": c.version,
                  "caller": c.caller, "started": iso(c.started),
                  "seconds": seconds_since(c.started, now), "step": c.step, "state": c.state,
                  "queue": c.queue, "agent": c.agent} for c in calls]
    out_queues = []
    queues_of: dict[str, list[str]] = {}
    for queue, in_queue in members.items():
        waiting_here = [c for c in calls if c.state == "queue" and c.queue == queue]
        longest = max((seconds_since(c.joined, now) or 0.0 for c in waiting_here), default=0.0)
        for agent in in_queue:
            queues_of.setdefault(agent.id, []).append(queue)
        out_queues.append({"queue": queue, "asterisk": queue_label(queue),
                           "waiting": max(waiting(queue), len(waiting_here)),
                           "longest_wait_s": longest, "members": len(in_queue),
                           "available": sum(1 for a in in_queue
                                            if a.state == AgentState.AVAILABLE)})
    on_call = {c.agent: c.call_id for c in calls if c.state == "agent" and c.agent}
    out_agents = [{"id": a.id, "name": a.name or a.id, "state": str(a.state),
                   "current_call": on_call.get(a.id),
                   "queues": sorted(agent_queues(a) if agent_queues is not None
                                    else queues_of.get(a.id, []))}
                  for a in sorted(agents, key=lambda a: a.id)]
    return {"server": dict(server), "calls": out_calls, "queues": out_queues,
            "agents": out_agents}
