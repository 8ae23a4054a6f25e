"""The wallboard's picture of the centre: queues, agents with their state and call, IVR steps,
every worker's calls (this one's and those of the other workers up that answer: wall_peers.py)
and the ccf serve workers of the call store.

Built from the live status document and the agents' desk, once per tick for every open
wallboard (WallBoard.current); must not query the call store on every change (today's
figures are read at most every TODAY_S seconds, through the report's own queries: the same
service level and abandoned counts `ccf report` gives).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ccdsl.runtime.asterisk.status_merge import merged, others
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.console.wall_peers import Fetched, Peers

log = logging.getLogger("ccdsl.console")

TODAY_S = 10.0  # today's figures are read from the store at most this often
TICK_S = 1.0  # one snapshot serves every wallboard asking within this, while nothing changes
CALLS_SHOWN = 200  # the longest-running calls listed; the count says how many there are


class WallBoard:
    """The wallboard of one console: its snapshot, shared by every supervisor's page."""

    def __init__(self, ctx: ConsoleContext, clock: Callable[[], float] = time.monotonic,
                 sessions: Callable[[], Iterable[Any]] = tuple) -> None:
        self.ctx = ctx
        self.clock = clock
        self.sessions = sessions  # the console's live sessions (Sessions.users)
        self._today: tuple[str, float, dict[str, dict[str, Any]], float] | None = None
        self._shot: tuple[tuple[int, int], dict[str, Any]] | None = None
        self.peers = Peers(lambda: ctx.api_token, clock)

    def _key(self) -> tuple[int, int]:
        return self.ctx.feed.published, int(self.clock() // TICK_S)

    async def current(self) -> dict[str, Any]:
        """The board now, made again once a tick has passed or the live feed has published a
        change since the last one: today's figures are read in a worker thread, and the other
        workers' status too (Peers.current); the status and the desk (the loop's own) here."""
        key = self._key()
        if self._shot is None or self._shot[0] != key:
            now = self.ctx.now()
            today = await off_loop(self.today, now)
            status = self.ctx.status()
            peers = await self.peers.current(_asked(self.ctx, status))
            self._shot = key, wall_snapshot(self.ctx, now, *today, status=status, peers=peers,
                                            consoles=consoles_of(self.sessions()))
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


def own_api(ctx: ConsoleContext) -> str | None:
    return ctx.api_address() if ctx.api_address is not None else None


def _asked(ctx: ConsoleContext, status: dict[str, Any]) -> tuple[str, ...]:
    """The API addresses of the other workers to ask: none while this one's is not known."""
    own = own_api(ctx)
    return tuple(others(status, own)) if own else ()


def consoles_of(sessions: Iterable[Any]) -> dict[str, int]:
    """Agent id -> how many console sessions it has open now (the agents page's Console)."""
    return dict(Counter(s.agent for s in sessions if s.agent is not None))


def wall_snapshot(ctx: ConsoleContext, now: datetime, today: dict[str, dict[str, Any]],
                  within_s: float, *, status: dict[str, Any],
                  peers: Fetched, consoles: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The board at `now`, with today's figures per queue (WallBoard.today); `status` this
    worker's, `peers` the other workers' (wall_peers.py): their calls join this one's and a
    queue's wait is the longest any saw (status_merge.merged). A hold is timed from when
    the desk held the call (held_seconds; the agents page reads the same); held_by says who
    holds it ("console", "phone": a phone's hold is resumed only on the phone). `consoles`: each
    agent's open console sessions (consoles_of), so the agents page's Console column is live."""
    own = own_api(ctx)
    if own:
        status = merged(status, own, peers.get)
    calls = [c for c in status.get("calls") or () if isinstance(c, dict)]
    # the agents are this worker's desk: a call of another worker is not monitored from here
    by_call = {c.get("call_id"): c for c in calls if c.get("worker", own) == own}
    desk = {s.agent: s for s in ctx.desk.all()}
    known = ctx.agents()
    names = {a.id: a.name or a.id for a in known}
    agents = []
    for agent_id in sorted(desk):
        s = desk[agent_id]
        call = by_call.get(s.call_id or "") if s.call_id else None
        agents.append({"id": agent_id, "name": names.get(agent_id, agent_id),
                       "state": s.state, "reason": s.reason,
                       "seconds": s.seconds(now),
                       "held": s.held,
                       "held_seconds": s.held_seconds(now),
                       "held_by": list(s.holders) if s.held else [],
                       "call_id": s.call_id,
                       "caller": call.get("caller") if call else None,
                       "step": call.get("step") if call else None,
                       "queue": call.get("queue") if call else None,
                       "monitorable": bool(call) and s.state == "on_call",
                       "console": (consoles or {}).get(agent_id, 0)})
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
    server = status.get("server") or {}
    workers = workers_of(status.get("workers"), own, server.get("workers_answering"),
                         server.get("workers_not_answering"))
    return {"at": now.isoformat(timespec="seconds"), "mode": ctx.mode, "queues": queues,
            "agents": agents, "ivr": sorted(ivr.items(), key=lambda kv: (-kv[1], kv[0])),
            "calls": len(calls), "sl_within_s": within_s,
            "call_rows": call_rows(calls, status.get("workers"), own),
            "not_answering": [w["host"] for w in workers if w["answering"] is False],
            "workers": workers}


CALL_FIELDS = ("call_id", "flow", "caller", "step", "state", "queue", "agent", "seconds")


def call_rows(calls: list[dict[str, Any]], listed: Any, own: str | None
              ) -> list[dict[str, Any]]:
    """The CALLS_SHOWN longest-running calls, each naming its worker: the host of the worker
    row whose API it came from (its address when no row says); `here`: this worker's."""
    hosts = {w.get("api"): w.get("host") for w in listed if isinstance(w, dict)} \
        if isinstance(listed, list) else {}
    longest = sorted(calls, key=lambda c: -_seconds(c.get("seconds")))[:CALLS_SHOWN]
    return [{**{key: c.get(key) for key in CALL_FIELDS},
             "worker": str(hosts.get(c.get("worker")) or c.get("worker") or ""),
             "here": c.get("worker", own) == own} for c in longest]


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0


WORKER_FIELDS = ("host", "pid", "address", "status", "calls_running", "served", "version",
                 "seconds_since_heartbeat")


def workers_of(listed: Any, own: str | None = None, answering: Any = None,
               silent: Any = None) -> list[dict[str, Any]]:
    """Every ccf serve of the call store as the status document lists them (docs/workers.md);
    none for a centre without (the simulated one). `answering`: whether the wall has its
    calls (True: this one, or it answered; False: listed up, but its API did not answer;
    None: not asked, as a worker down or stopped)."""
    if not isinstance(listed, list):
        return []
    yes = set(answering or ()) | ({own} if own else set())
    no = set(silent or ())

    def answers(api: Any) -> bool | None:
        return True if api in yes else False if api in no else None

    return [{**{key: w.get(key) for key in WORKER_FIELDS}, "answering": answers(w.get("api"))}
            for w in listed if isinstance(w, dict)]
