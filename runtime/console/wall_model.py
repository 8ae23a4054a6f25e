"""The wallboard's picture of the centre: queues, agents with their state and call, IVR steps,
and the ccf serve workers of the call store.

Built from the live status document and the agents' desk, once per tick for every open
wallboard (WallBoard.snapshot); must not query the call store on every change (today's
figures are read at most every TODAY_S seconds, through the report's own queries: the same
service level and abandoned counts `ccf report` gives).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.off_loop import off_loop

log = logging.getLogger("ccdsl.console")

TODAY_S = 10.0  # today's figures are read from the store at most this often
TICK_S = 1.0  # one snapshot serves every wallboard asking within this, while nothing changes


class WallBoard:
    """The wallboard of one console: its snapshot, shared by every supervisor's page."""

    def __init__(self, ctx: ConsoleContext, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.clock = clock
        self._today: tuple[str, float, dict[str, dict[str, Any]], float] | None = None
        self._shot: tuple[tuple[int, int], dict[str, Any]] | None = None

    def _key(self) -> tuple[int, int]:
        return self.ctx.feed.published, int(self.clock() // TICK_S)

    def snapshot(self) -> dict[str, Any]:
        """The board now: made again once a tick has passed or the live feed
        has published a change since the last one. Reads the store in this
        thread: the pages and the stream use `current`."""
        key = self._key()
        if self._shot is None or self._shot[0] != key:
            now = self.ctx.now()
            self._shot = key, wall_snapshot(self.ctx, now, *self.today(now))
        return self._shot[1]

    async def current(self) -> dict[str, Any]:
        """`snapshot` for a handler on the event loop: today's figures are read
        in a worker thread; the status and the desk (the loop's own) here."""
        key = self._key()
        if self._shot is None or self._shot[0] != key:
            now = self.ctx.now()
            today = await off_loop(self.today, now)
            self._shot = key, wall_snapshot(self.ctx, now, *today)
        return self._shot[1]

    def today(self, now: datetime) -> tuple[dict[str, dict[str, Any]], float]:
        """Per queue, today's (the centre's day) offered, answered, abandoned and
        service level % from the report's queues section; and the threshold in
        seconds. Read at most every TODAY_S seconds and when the day changes."""
        from ccdsl.runtime.operations.reports import make_report
        from ccdsl.runtime.operations.reports.model import Options
        from ccdsl.runtime.operations.reports.options import filters

        zone = self.ctx.zone()
        day = now.astimezone(zone).date().isoformat()
        tick = self.clock()
        if self._today is not None:
            read_day, read_at, by_queue, within_s = self._today
            if day == read_day and tick - read_at < TODAY_S:
                return by_queue, within_s
        by_queue, within_s = self._today[2:] if self._today else ({}, 20.0)
        options = Options(interval="day", zone=getattr(zone, "key", None) or self.ctx.timezone)
        try:
            made = make_report(self.ctx.store.path, filters(day, day), options, ("queues",),
                               now=now)
            by_queue = {r["queue"]: {"offered": r["offered"], "answered": r["answered"],
                                     "abandoned": r["abandoned"],
                                     "answered_within": r["answered_within"],
                                     "service_level_pct": r["service_level_pct"]}
                        for r in made.section("queues").records()}
            within_s = options.within_ms / 1000
        except Exception as exc:  # noqa: BLE001 - the board goes on without today's figures
            log.warning("wallboard: today's figures not read: %s", exc)
        self._today = day, tick, by_queue, within_s
        return by_queue, within_s


def wall_snapshot(ctx: ConsoleContext, now: datetime, today: dict[str, dict[str, Any]],
                  within_s: float) -> dict[str, Any]:
    """The board at `now`, with today's figures per queue (WallBoard.today)."""
    status = ctx.status()
    calls = status.get("calls", [])
    by_call = {c["call_id"]: c for c in calls}
    desk = {s.agent: s for s in ctx.desk.all()}
    known = ctx.agents()
    names = {a.id: a.name or a.id for a in known}
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
    queues = []
    for q in status.get("queues", []):
        states = Counter(desk[a.id].state for a in known
                         if q["queue"] in (a.queues or ()) and a.id in desk)
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
            "calls": len(calls), "sl_within_s": within_s,
            "workers": workers_of(status.get("workers"))}


WORKER_FIELDS = ("host", "pid", "address", "status", "calls_running", "served", "version",
                 "seconds_since_heartbeat")


def workers_of(listed: Any) -> list[dict[str, Any]]:
    """Every ccf serve of the call store as the status document lists them (docs/workers.md);
    none for a centre without (the simulated one)."""
    if not isinstance(listed, list):
        return []
    return [{key: w.get(key) for key in WORKER_FIELDS} for w in listed if isinstance(w, dict)]
