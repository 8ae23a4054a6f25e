"""The wallboard's picture of the centre: queues, agents with their state and call, IVR steps.

Built from the live status document and the agents' desk; must not query the call store
on every change (today's figures are read at most every TODAY_S seconds, through the
report's own queries: the same service level and abandoned counts `ccf report` gives).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.operations.centre_time import zone_named

log = logging.getLogger("ccdsl.console")

TODAY_S = 10.0  # today's figures are read from the store at most this often


@dataclass
class _Today:
    ctx: ConsoleContext
    read_at: float = float("-inf")
    day: str = ""
    by_queue: dict[str, dict[str, Any]] = field(default_factory=dict)
    within_s: float = 20.0


_CACHE: dict[int, _Today] = {}


def centre_zone(ctx: ConsoleContext) -> tzinfo:
    """The centre's zone: ccf.toml's, else the one the store was made with."""
    if ctx.timezone:
        try:
            return zone_named(ctx.timezone)
        except Exception:  # noqa: BLE001 - a bad name: the store's
            pass
    return ctx.store.zone()


def today_figures(ctx: ConsoleContext, now: datetime,
                  clock=time.monotonic) -> tuple[dict[str, dict[str, Any]], float]:
    """Per queue, today's (the centre's day) offered, answered, abandoned and
    service level % from the report's queues section; and the threshold in
    seconds. Read at most every TODAY_S seconds and when the day changes."""
    from ccdsl.runtime.operations.reports import make_report
    from ccdsl.runtime.operations.reports.model import Options
    from ccdsl.runtime.operations.reports.options import filters

    cached = _CACHE.get(id(ctx))
    if cached is None or cached.ctx is not ctx:
        cached = _CACHE[id(ctx)] = _Today(ctx)
    zone = centre_zone(ctx)
    day = now.astimezone(zone).date().isoformat()
    tick = clock()
    if day == cached.day and tick - cached.read_at < TODAY_S:
        return cached.by_queue, cached.within_s
    cached.read_at, cached.day = tick, day
    options = Options(interval="day", zone=getattr(zone, "key", None) or ctx.timezone)
    try:
        made = make_report(ctx.store.path, filters(day, day), options, ("queues",), now=now)
        section = made.section("queues")
    except Exception as exc:  # noqa: BLE001 - the board goes on without today's figures
        log.warning("wallboard: today's figures not read: %s", exc)
        return cached.by_queue, cached.within_s
    cached.by_queue = {r["queue"]: {"offered": r["offered"], "answered": r["answered"],
                                    "abandoned": r["abandoned"],
                                    "answered_within": r["answered_within"],
                                    "service_level_pct": r["service_level_pct"]}
                       for r in section.records()}
    cached.within_s = options.within_ms / 1000
    return cached.by_queue, cached.within_s


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
                       "queue": call.get("queue") if call else None,
                       "monitorable": bool(call) and s.state == "on_call"})
    today, within_s = today_figures(ctx, now)
    queues = []
    for q in status.get("queues", []):
        members = [a for a in ctx.agents() if q["queue"] in (a.queues or ())] or []
        states = Counter(desk[a.id].state for a in members if a.id in desk)
        figures = today.get(q["queue"], {})
        queues.append({"queue": q["queue"], "waiting": q.get("waiting", 0),
                       "longest_wait_s": q.get("longest_wait_s", 0.0),
                       "ready": states["ready"],
                       "busy": states["ringing"] + states["on_call"] + states["wrapup"],
                       "paused": states["paused"],
                       "offered_today": figures.get("offered", 0),
                       "abandoned_today": figures.get("abandoned", 0),
                       "sl_today_pct": figures.get("service_level_pct")})
    ivr = Counter(c.get("step") or "(starting)" for c in calls if c.get("state") == "ivr")
    return {"at": now.isoformat(timespec="seconds"), "mode": ctx.mode, "queues": queues,
            "agents": agents, "ivr": sorted(ivr.items(), key=lambda kv: (-kv[1], kv[0])),
            "calls": len(calls), "sl_within_s": within_s}
