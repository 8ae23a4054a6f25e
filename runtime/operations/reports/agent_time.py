"""The agents' time in each state and their occupancy, from the console's `agent_state` rows.

runtime/operations/agent_desk.py writes a `centre_events` row (kind `agent_state`) at every
change of an agent's state: the new state and reason, the one left (`from`, `from_reason`)
and how long it lasted (`seconds_in_previous`). Here those rows become time per state over
a report's window, clipped to it (docs/reports.md "agent_time"). Never writes to the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ccdsl.runtime.operations.reports.model import Column, Filters, Section
from ccdsl.runtime.operations.reports.sql import Window

KIND = "agent_state"
LOGGED_OUT = "logged_out"
# the states counted, as agent_desk.STATES names them; logged in is every one but logged_out
COUNTED = ("ready", "paused", "ringing", "on_call", "wrapup")
# how far before the window a state is looked for: an agent with no change in the window
# and none in the week before it is not in the report (docs/reports.md "agent_time")
LOOKBACK_MS = 7 * 86_400_000


@dataclass(frozen=True)
class Change:
    """One `agent_state` row."""

    at_ms: int
    agent: str
    state: str
    reason: str | None
    before: str | None  # `from`
    before_reason: str | None
    before_ms: int | None  # how long `from` lasted, from seconds_in_previous

    @staticmethod
    def of(at_ms: int, data: str) -> Change | None:
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        if not isinstance(doc, dict) or not isinstance(doc.get("agent"), str) \
                or not isinstance(doc.get("state"), str):
            return None
        seconds = doc.get("seconds_in_previous")
        ok = isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds >= 0
        return Change(at_ms, doc["agent"], doc["state"], _text(doc.get("reason")),
                      _text(doc.get("from")), _text(doc.get("from_reason")),
                      round(seconds * 1000) if ok else None)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class AgentTime:
    """One agent's milliseconds per state in the window, paused ones per reason."""

    agent: str
    ms: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    paused: dict[str | None, int] = field(default_factory=dict)
    changed_in_window: bool = False

    def add(self, state: str | None, reason: str | None, start: int, end: int) -> None:
        if state not in self.ms or end <= start:
            return  # logged out, or a state this report does not know
        self.ms[state] += end - start
        if state == "paused":
            self.paused[reason] = self.paused.get(reason, 0) + end - start

    @property
    def logged_in_ms(self) -> int:
        return sum(self.ms.values())

    @property
    def occupancy_pct(self) -> float | None:
        """(on_call + wrapup) / (logged in - paused), a percentage."""
        available = self.logged_in_ms - self.ms["paused"]
        if available <= 0:
            return None
        return round(100.0 * (self.ms["on_call"] + self.ms["wrapup"]) / available, 1)


def intervals(changes: list[Change], end_ms: int) -> Iterable[tuple[str | None, str | None,
                                                                      int, int]]:
    """One agent's (state, reason, start, end) from its changes in time order; the last
    state lasts until end_ms.

    Each change says what it left: when it follows on from the change before (its `from` is
    that one's state), the earlier state lasted until it. When it does not (the server
    restarted in between and began the agent afresh, or a row was lost), the earlier state
    lasted until the left one began, as seconds_in_previous tells. The first change's `from`
    lasted seconds_in_previous before it."""
    previous: Change | None = None
    for change in changes:
        began = change.at_ms - change.before_ms if change.before_ms is not None else change.at_ms
        if previous is None:
            yield change.before, change.before_reason, began, change.at_ms
        elif (previous.state, previous.reason) == (change.before, change.before_reason):
            yield previous.state, previous.reason, previous.at_ms, change.at_ms
        else:
            cut = min(max(began, previous.at_ms), change.at_ms)
            yield previous.state, previous.reason, previous.at_ms, cut
            yield change.before, change.before_reason, cut, change.at_ms
        previous = change
    if previous is not None:
        yield previous.state, previous.reason, previous.at_ms, end_ms


def agent_times(db: sqlite3.Connection, lo: int | None, hi: int | None, now_ms: int,
                agent: str | None = None) -> list[AgentTime]:
    """Per agent, by id, the time in each state within [lo, min(hi, now, the store's last
    moment once no centre writes it)): a state begun before lo counts from lo, one open at
    the end to the end. Agents who were logged out the whole window, or have no row, are
    not listed."""
    end = min(now_ms if hi is None else min(hi, now_ms), open_until(db, now_ms))
    start = lo
    where = ["kind = :kind"]
    args: dict[str, object] = {"kind": KIND}
    Window(None if start is None else start - LOOKBACK_MS, end).where("at_ms", where, args)
    try:
        rows = db.execute(f"SELECT at_ms, data FROM centre_events WHERE {' AND '.join(where)} "
                          "ORDER BY at_ms, id", args).fetchall()
    except sqlite3.OperationalError:  # a store older than centre_events (schema 3)
        return []
    per_agent: dict[str, list[Change]] = defaultdict(list)
    for at_ms, data in rows:
        change = Change.of(at_ms, data)
        if change is not None and (agent is None or change.agent == agent):
            per_agent[change.agent].append(change)
    found = []
    for name in sorted(per_agent):
        times = AgentTime(name)
        changes = per_agent[name]
        times.changed_in_window = any(start is None or c.at_ms >= start for c in changes)
        for state, reason, begin, finish in intervals(changes, end):
            times.add(state, reason, begin if start is None else max(begin, start), finish)
        if times.logged_in_ms > 0 or times.changed_in_window:
            found.append(times)
    return found


def open_until(db: sqlite3.Connection, now_ms: int) -> int:
    """Until when a state still open at an agent's last row lasted: now while a centre
    writes the store (a run not ended, or none recorded yet); once every run ended, the
    last moment the store recorded. A simulated centre's clock is its own, days from the
    wall clock's now, and nobody is logged in to a centre that stopped."""
    try:
        if db.execute("SELECT count(*) = 0 OR count(*) > count(ended_ms) "
                      "FROM runs").fetchone()[0]:
            return now_ms
        # the later of a call's start and end, in SQL both back ends say alike (PostgreSQL
        # has no scalar max, and wants the subquery named)
        last = db.execute("SELECT max(ms) FROM (SELECT max(at_ms) AS ms FROM centre_events "
                          "UNION ALL SELECT max(CASE WHEN coalesce(ended_ms, 0) > started_ms "
                          "THEN ended_ms ELSE started_ms END) FROM calls) AS last").fetchone()[0]
    except sqlite3.OperationalError:  # a store older than runs and centre_events
        return now_ms
    return now_ms if last is None else min(last, now_ms)


def has_states(db: sqlite3.Connection) -> bool:
    """Whether the store has any agent_state row (a centre run with the console)."""
    try:
        return db.execute("SELECT 1 FROM centre_events WHERE kind = ? LIMIT 1",
                          (KIND,)).fetchone() is not None
    except sqlite3.OperationalError:
        return False


TIME_COLUMNS = (
    Column("agent", "Agent", "text"),
    Column("logged_in_ms", "Logged in", "ms"),
    Column("ready_ms", "Ready", "ms"),
    Column("paused_ms", "Paused", "ms"),
    Column("ringing_ms", "Ringing", "ms"),
    Column("talk_ms", "Talk (on a call)", "ms"),
    Column("wrapup_ms", "Wrap-up", "ms"),
    Column("occupancy_pct", "Occupancy %", "pct"),
)
PAUSE_COLUMNS = (
    Column("agent", "Agent", "text"),
    Column("reason", "Reason", "text"),
    Column("paused_ms", "Paused", "ms"),
    Column("paused_pct", "Share of logged in %", "pct"),
)


def sections(db: sqlite3.Connection, lo: int | None, hi: int | None, now_ms: int,
             filters: Filters, wanted: Iterable[str]) -> dict[str, Section]:
    """The `agent_time` and `agent_pauses` sections among `wanted`, by name."""
    wanted = tuple(wanted)
    if not wanted:
        return {}
    times = agent_times(db, lo, hi, now_ms, filters.agent)
    made: dict[str, Section] = {}
    if "agent_time" in wanted:
        made["agent_time"] = Section("agent_time", "Agents' time in state", TIME_COLUMNS, tuple(
            (t.agent, t.logged_in_ms, t.ms["ready"], t.ms["paused"], t.ms["ringing"],
             t.ms["on_call"], t.ms["wrapup"], t.occupancy_pct) for t in times))
    if "agent_pauses" in wanted:
        made["agent_pauses"] = Section("agent_pauses", "Pauses per agent and reason",
                                       PAUSE_COLUMNS, tuple(
            (t.agent, reason, ms, round(100.0 * ms / t.logged_in_ms, 1))
            for t in times for reason, ms in sorted(t.paused.items(),
                                                    key=lambda item: item[0] or "")))
    return made
