"""A busy day for the HTML report's tests: the known calls (tests/reports/known.py) moved
onto one day in Shanghai with an empty lunch hour, names a peer or the CRM could have
written (markup in an agent's, a queue's and a flow's name), and the agents' states the
console records, so that every chart of the report has something to draw."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from ccdsl.runtime.operations.store import CallStore
from reports import known

DAY = "2026-11-30"
HOURS = (8, 9, 10, 11, 14, 15, 16, 17, 18)  # 12:00 and 13:00 without calls: lunch
HOSTILE_AGENT = '<script>alert("agent")</script>'
HOSTILE_QUEUE = "<b>vip</b> & co"
HOSTILE_FLOW = "<img src=x onerror=alert(1)>"


def busy_calls(count: int = 500, seed: int = 11) -> list[known.Call]:
    rng = random.Random(seed)
    calls = known.make_calls(seed=seed, count=count)
    for n, call in enumerate(calls):
        call.start = datetime(2026, 11, 30, rng.choice(HOURS), rng.randint(0, 59),
                              rng.randint(0, 59), tzinfo=known.SHANGHAI)
        if n % 13 == 0:
            call.flow = HOSTILE_FLOW
        for visit in call.visits:
            if visit.queue == "vip":
                visit.queue = HOSTILE_QUEUE
            for offer in visit.offers:
                if offer.agent == "zhao":
                    offer.agent = HOSTILE_AGENT
        known._place(call)
    return calls


def _states(agent: str, rng: random.Random) -> list[tuple[datetime, str, str | None, str,
                                                        str | None, int]]:
    """One agent's day: log in at 08:00, calls (ringing, on a call, wrap-up) with ready
    time between, lunch 12:00-13:00 paused, log out at 19:00."""
    rows = []
    at = datetime.fromisoformat(f"{DAY}T08:00:00").replace(tzinfo=known.SHANGHAI)
    state, reason, since = "logged_out", None, at - timedelta(hours=14)

    def change(to: str, why: str | None = None) -> None:
        nonlocal state, reason, since
        rows.append((at, to, why, state, reason, int((at - since).total_seconds())))
        state, reason, since = to, why, at

    change("ready")
    lunch = at.replace(hour=12)
    end = at.replace(hour=19)
    while at < end:
        at += timedelta(seconds=rng.randint(30, 600))
        if lunch <= at < lunch + timedelta(hours=1):
            at = lunch
            change("paused", "lunch")
            at += timedelta(hours=1)
            change("ready")
            continue
        for to, seconds in (("ringing", rng.randint(3, 20)), ("on_call", rng.randint(60, 600)),
                            ("wrapup", rng.randint(10, 120))):
            change(to)
            at += timedelta(seconds=seconds)
        change("ready")
    change("logged_out")
    return rows


def write_busy_store(path: Path, calls: list[known.Call] | None = None,
                     states: bool = True) -> str:
    known.write_store(str(path), busy_calls() if calls is None else calls)
    if states:
        rng = random.Random(3)
        with CallStore(str(path), timezone=known.CENTRE) as store:
            for agent in ("li", "wang", "zhang", HOSTILE_AGENT):
                for at, state, reason, before, before_reason, seconds in _states(agent, rng):
                    store.record_centre_event("console", "agent_state", {
                        "agent": agent, "state": state, "reason": reason, "from": before,
                        "from_reason": before_reason, "seconds_in_previous": seconds}, at=at)
    return str(path)
