"""The wallboard's picture of the centre: queues, agents with their state and call, IVR steps.

Built from the live status document and the agents' desk; must not query the call store
on every change (today's figures are read at most every TODAY_S seconds).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from ccdsl.runtime.console.context import ConsoleContext


def wall_snapshot(ctx: ConsoleContext, now: datetime) -> dict[str, Any]:
    status = ctx.status()
    calls = status.get("calls", [])
    by_call = {c["call_id"]: c for c in calls}
    desk = {s.agent: s for s in ctx.desk.all()}
    names = {a.id: a.name or a.id for a in ctx.agents()}
    agents = []
    for agent_id in sorted(desk):
        s = desk[agent_id]
        call = by_call.get(s.call_id or "") if s.call_id else None
        agents.append({"id": agent_id, "name": names.get(agent_id, agent_id),
                       "state": s.state, "reason": s.reason,
                       "seconds": round(max((now - s.since).total_seconds(), 0.0)),
                       "call_id": s.call_id,
                       "caller": call.get("caller") if call else None,
                       "step": call.get("step") if call else None,
                       "queue": call.get("queue") if call else None})
    queues = []
    for q in status.get("queues", []):
        members = [a for a in ctx.agents() if q["queue"] in (a.queues or ())] or []
        states = Counter(desk[a.id].state for a in members if a.id in desk)
        queues.append({"queue": q["queue"], "waiting": q.get("waiting", 0),
                       "longest_wait_s": q.get("longest_wait_s", 0.0),
                       "ready": states["ready"],
                       "busy": states["ringing"] + states["on_call"] + states["wrapup"],
                       "paused": states["paused"]})
    ivr = Counter(c.get("step") or "(starting)" for c in calls if c.get("state") == "ivr")
    return {"at": now.isoformat(timespec="seconds"), "mode": ctx.mode, "queues": queues,
            "agents": agents, "ivr": sorted(ivr.items(), key=lambda kv: (-kv[1], kv[0])),
            "calls": len(calls)}
