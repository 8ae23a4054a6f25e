"""The report's figures: one function per section, each one SQL aggregation over the call store.

Each reads an indexed range (docs/reports.md "Speed"); every figure is defined in
docs/reports.md. Never writes to the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ccdsl.runtime.operations.reports.model import Column, Filters, Options, Section
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

DAY_MS = 86_400_000
# Local time is at most 14 hours ahead of UTC (Kiribati) and 12 behind.
_AHEAD_MS = 14 * 3_600_000
_BEHIND_MS = 12 * 3_600_000
_EPOCH = datetime(1970, 1, 1)
# how long a call without an outcome still counts as in progress in the
# realtime view: older ones belong to a process that died mid-call
IN_PROGRESS_LOOKBACK_MS = DAY_MS
# a period's label, from the local ISO text: `2026-11-30 10:00` for an hour
# (and `2026-11-30 10:05` for a minute), else the text's first characters
PERIOD = {
    "realtime": "substr({t}, 1, 10) || ' ' || substr({t}, 12, 5)",
    "hour": "substr({t}, 1, 10) || ' ' || substr({t}, 12, 2) || ':00'",
    "day": "substr({t}, 1, 10)",
    "month": "substr({t}, 1, 7)",
    "year": "substr({t}, 1, 4)",
}


@dataclass(frozen=True)
class Window:
    """The time a report covers: an indexed UTC ms range [lo, hi) and,
    for local date ranges, the exact local bounds [start, end) compared
    with the first 19 characters of the stored ISO text."""

    lo: int | None = None
    hi: int | None = None
    start: str | None = None
    end: str | None = None

    def where(self, ms: str, text: str, out: list[str], args: dict[str, Any]) -> None:
        """Add this window's conditions on the columns `ms` and `text`."""
        if self.lo is not None:
            out.append(f"{ms} >= :lo")
            args["lo"] = self.lo
        if self.hi is not None:
            out.append(f"{ms} < :hi")
            args["hi"] = self.hi
        if self.start is not None:
            out.append(f"substr({text}, 1, 19) >= :start")
            args["start"] = self.start
        if self.end is not None:
            out.append(f"substr({text}, 1, 19) < :end")
            args["end"] = self.end


def _naive_ms(local: str) -> int:
    """A local `YYYY-MM-DDTHH:MM:SS` read as if it were UTC, in epoch ms."""
    return int((datetime.fromisoformat(local) - _EPOCH).total_seconds() * 1000)


def local_window(filters: Filters) -> Window:
    """The window of a local date range (or of everything)."""
    lo = _naive_ms(filters.start) - _AHEAD_MS if filters.start else None
    hi = _naive_ms(filters.end) + _BEHIND_MS + 1 if filters.end else None
    return Window(lo, hi, filters.start, filters.end)


def realtime_window(now: datetime, minutes: int) -> Window:
    """The last `minutes` minutes up to `now` (the minute now is in included)."""
    now_ms = int(now.timestamp() * 1000)
    minute_start = now_ms - now_ms % 60_000
    return Window(minute_start - (minutes - 1) * 60_000, minute_start + 60_000)


# ---- opening the store ----------------------------------------------------------------


class ReportError(Exception):
    """The store cannot be reported on (missing, not a call store, too new)."""


_TABLES = ("calls", "queue_visits", "agent_legs", "node_visits")


def open_store(path: str) -> sqlite3.Connection:
    """A read-only connection to a call store. The file is never created
    or migrated: a report reads what is there."""
    file = Path(path)
    if not file.exists():
        raise ReportError(f"there is no call store at `{path}`")
    if not file.is_file():
        raise ReportError(f"`{path}` is a directory, not a call store file")
    db = None
    try:
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
        db.execute("PRAGMA busy_timeout=5000")
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        if db is not None:
            db.close()
        raise ReportError(f"`{path}` is not a call store: {exc}") from None
    missing = [t for t in ("meta", *_TABLES) if t not in names]
    if missing:
        db.close()
        raise ReportError(f"`{path}` is not a call store (no table {', '.join(missing)}); "
                          "`ccf simulate --store FILE` and `ccf serve` write one")
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    if version is None or version > SCHEMA_VERSION:
        db.close()
        raise ReportError(f"`{path}`: call store schema version {row[0] if row else '?'} "
                          f"is not one this ccdsl reads (1 to {SCHEMA_VERSION})")
    return db


# ---- filters as SQL -----------------------------------------------------------------------


def _call_filters(table: str, filters: Filters, out: list[str], args: dict[str, Any]) -> None:
    """Conditions keeping the rows of `table` (aliased t) whose call the
    filters keep: of the flow, that joined the queue, offered to the agent.
    Each is a look-up by call_id, the leading column of every table's key;
    the unary + keeps SQLite from reading the (queue, time) or (agent, time)
    index instead, every visit of the queue for every row."""
    if filters.flow is not None:
        args["flow"] = filters.flow
        if table == "calls":
            out.append("t.flow = :flow")
        else:
            out.append("EXISTS (SELECT 1 FROM calls c WHERE c.call_id = t.call_id "
                       "AND +c.flow = :flow)")
    if filters.queue is not None:
        args["queue"] = filters.queue
        if table in ("queue_visits", "agent_legs"):
            out.append("t.queue = :queue")
        else:
            out.append("EXISTS (SELECT 1 FROM queue_visits q WHERE q.call_id = t.call_id "
                       "AND +q.queue = :queue)")
    if filters.agent is not None:
        args["agent"] = filters.agent
        if table == "agent_legs":
            out.append("t.agent = :agent")
        else:
            out.append("EXISTS (SELECT 1 FROM agent_legs a WHERE a.call_id = t.call_id "
                       "AND +a.agent = :agent)")


def _keys_sql(table: str, key: str) -> str:
    """The distinct non-NULL values of an indexed key column, by a loose
    index scan: one seek per value instead of reading the whole index."""
    return (f"WITH RECURSIVE keys(v) AS (SELECT (SELECT min({key}) FROM {table}) "
            f"UNION ALL SELECT (SELECT min({key}) FROM {table} WHERE {key} > keys.v) "
            "FROM keys WHERE keys.v IS NOT NULL) ")


def _visit_query(table: str, key: str, ms: str, text: str, select: str, window: Window,
                 filters: Filters, fixed: str | None, tail: str) -> tuple[str, dict]:
    """SELECT `select` FROM `table` t over the window and filters, every
    key's time range read through the (key, time) index."""
    where: list[str] = []
    args: dict[str, Any] = {}
    if fixed is not None:
        where.append(f"t.{key} = :key")
        args["key"] = fixed
        prefix = ""
    else:
        where.append(f"t.{key} IN (SELECT v FROM keys WHERE v IS NOT NULL)")
        prefix = _keys_sql(table, key)
    window.where(f"t.{ms}", f"t.{text}", where, args)
    _call_filters(table, filters, where, args)
    sql = f"{prefix}SELECT {select} FROM {table} t WHERE {' AND '.join(where)} {tail}"
    return sql, args


def _rows(db: sqlite3.Connection, sql: str, args: dict) -> tuple[tuple, ...]:
    return tuple(tuple(r) for r in db.execute(sql, args).fetchall())


def _avg(expr: str) -> str:
    """A mean in whole ms (NULL when there is nothing to average)."""
    return f"CAST(round(avg({expr})) AS INTEGER)"


def _pct(part: str, whole: str) -> str:
    return f"round(100.0 * ({part}) / nullif({whole}, 0), 1)"


# ---- sections -----------------------------------------------------------------------------

_CALL_FIGURES = (
    "count(*)",
    "sum(t.talked_to_agent)",
    "sum(t.outcome = 'abandoned')",
    "sum(t.outcome = 'voicemail')",
    # a call handed back to the dialplan at shutdown went on in the dialplan
    # like a transferred one: never a drop or an abandon (docs/reports.md)
    "sum(t.outcome IN ('transfer', 'handed_back'))",
    "sum(t.outcome IS NULL)",
    _avg("t.duration_ms"),
)
_CALL_COLUMNS = (
    Column("calls", "Calls"),
    Column("answered", "Answered by an agent"),
    Column("abandoned", "Abandoned"),
    Column("voicemail", "Voicemail"),
    Column("transferred", "Transferred"),
    Column("in_progress", "In progress"),
    Column("avg_duration_ms", "Avg duration", "ms"),
)


def _calls_where(window: Window, filters: Filters) -> tuple[str, dict]:
    where: list[str] = []
    args: dict[str, Any] = {}
    window.where("t.started_ms", "t.started", where, args)
    _call_filters("calls", filters, where, args)
    return (" WHERE " + " AND ".join(where)) if where else "", args


def summary(db: sqlite3.Connection, window: Window, filters: Filters,
            now_ms: int | None = None) -> Section:
    """Totals over the window. With `now_ms` (realtime), in progress counts
    every call of the last day up to now that has no outcome yet."""
    where, args = _calls_where(window, filters)
    row = list(db.execute(f"SELECT {', '.join(_CALL_FIGURES)}, "
                          f"{_avg('t.wait_ms')} FROM calls t{where}", args).fetchone())
    row[1:6] = [v or 0 for v in row[1:6]]  # sum() of no rows is NULL
    if now_ms is not None:
        recent = Window(now_ms - IN_PROGRESS_LOOKBACK_MS, now_ms + 1)
        where, args = _calls_where(recent, filters)
        cond = " AND t.outcome IS NULL" if where else " WHERE t.outcome IS NULL"
        row[5] = db.execute(f"SELECT count(*) FROM calls t{where}{cond}", args).fetchone()[0]
    answered_pct = round(100.0 * row[1] / row[0], 1) if row[0] else None
    return Section("summary", "Summary",
                   (*_CALL_COLUMNS, Column("avg_wait_ms", "Avg wait in queues", "ms"),
                    Column("answered_pct", "Answered %", "pct")),
                   ((*row, answered_pct),))


def calls_per_period(db: sqlite3.Connection, window: Window, filters: Filters,
                     interval: str) -> Section:
    """Calls per local hour, day, month or year (or minute, for realtime)
    of their start."""
    period = PERIOD[interval].format(t="t.started")
    where, args = _calls_where(window, filters)
    rows = _rows(db, f"SELECT {period} AS period, "
                     f"{', '.join(_CALL_FIGURES)} FROM calls t{where} "
                     "GROUP BY period ORDER BY period", args)
    name = "minute" if interval == "realtime" else interval
    return Section("calls", f"Calls per {name}",
                   (Column("period", name.capitalize(), "text"), *_CALL_COLUMNS), rows)


def realtime_minutes(db: sqlite3.Connection, window: Window, filters: Filters,
                     now: datetime) -> Section:
    """Calls per minute of the window, every minute listed (0 when no call
    started in it), labelled in the zone of the calls found (else `now`'s)."""
    found = calls_per_period(db, window, filters, "realtime")
    by_minute = {row[0]: row for row in found.rows}
    zone = now.tzinfo
    newest = db.execute("SELECT started FROM calls WHERE started_ms >= :lo AND "
                        "started_ms < :hi ORDER BY started_ms DESC LIMIT 1",
                        {"lo": window.lo, "hi": window.hi}).fetchone()
    if newest:
        zone = datetime.fromisoformat(newest[0]).tzinfo or zone
    first = datetime.fromtimestamp(window.lo / 1000, zone)
    minutes = (window.hi - window.lo) // 60_000
    empty = (0, 0, 0, 0, 0, 0, None)
    rows = []
    for i in range(minutes):
        label = (first + timedelta(minutes=i)).isoformat(sep=" ")[:16]
        rows.append(by_minute.get(label, (label, *empty)))
    # calls of another zone than the newest one's keep their own labels
    listed = {row[0] for row in rows}
    rows.extend(row for label, row in by_minute.items() if label not in listed)
    return Section("calls", found.title, found.columns, tuple(sorted(rows)))


def queues(db: sqlite3.Connection, window: Window, filters: Filters,
           within_ms: int) -> Section:
    """Per queue: what happened to the calls that joined it."""
    select = ", ".join((
        "t.queue", "count(*)",
        "sum(t.outcome = 'answered')",
        "sum(t.outcome = 'hangup')",
        "sum(t.outcome = 'timeout')",
        "sum(t.outcome IN ('empty', 'full'))",
        "sum(t.outcome = 'answered' AND t.wait_ms <= :within)",
        _pct("sum(t.outcome = 'answered' AND t.wait_ms <= :within)", "count(*)"),
        _pct("sum(t.outcome = 'hangup')", "count(*)"),
        _avg("t.wait_ms"),
        "max(t.wait_ms)",
        _avg("CASE WHEN t.outcome = 'answered' THEN t.wait_ms END"),
        _avg("CASE WHEN t.outcome = 'answered' THEN t.talk_ms END"),
    ))
    sql, args = _visit_query("queue_visits", "queue", "joined_ms", "joined", select, window,
                             filters, filters.queue, "GROUP BY t.queue ORDER BY t.queue")
    args["within"] = within_ms
    seconds = f"{within_ms / 1000:g}"
    return Section("queues", "Per queue", (
        Column("queue", "Queue", "text"),
        Column("offered", "Offered"),
        Column("answered", "Answered"),
        Column("abandoned", "Abandoned"),
        Column("timeout", "Timed out"),
        Column("empty", "No agents"),
        Column("answered_within", f"Answered in {seconds}s"),
        Column("service_level_pct", "Service level %", "pct"),
        Column("abandoned_pct", "Abandoned %", "pct"),
        Column("avg_wait_ms", "Avg wait", "ms"),
        Column("max_wait_ms", "Longest wait", "ms"),
        Column("avg_answer_ms", "Avg speed of answer", "ms"),
        Column("avg_talk_ms", "Avg talk", "ms"),
    ), _rows(db, sql, args))


def agents(db: sqlite3.Connection, window: Window, filters: Filters) -> Section:
    """Per agent: the calls offered to them and what they made of them."""
    answered = "t.outcome = 'answered'"
    select = ", ".join((
        "t.agent", "count(*)",
        f"sum({answered})",
        "sum(t.outcome = 'missed')",
        "sum(t.outcome = 'caller_gone')",
        _pct(f"sum({answered})", "count(*)"),
        f"sum(CASE WHEN {answered} THEN coalesce(t.talk_ms, 0) ELSE 0 END)",
        _avg(f"CASE WHEN {answered} THEN coalesce(t.talk_ms, 0) END"),
        f"sum(CASE WHEN {answered} THEN coalesce(t.wrapup_ms, 0) ELSE 0 END)",
        _avg(f"CASE WHEN {answered} THEN coalesce(t.talk_ms, 0) "
             "+ coalesce(t.wrapup_ms, 0) END"),
        _avg(f"CASE WHEN {answered} THEN t.ring_ms END"),
    ))
    sql, args = _visit_query("agent_legs", "agent", "offered_ms", "offered", select, window,
                             filters, filters.agent, "GROUP BY t.agent ORDER BY t.agent")
    return Section("agents", "Per agent", (
        Column("agent", "Agent", "text"),
        Column("offered", "Offered"),
        Column("answered", "Answered"),
        Column("missed", "Missed"),
        Column("caller_gone", "Caller hung up"),
        Column("answered_pct", "Answered %", "pct"),
        Column("talk_ms", "Talk time", "ms"),
        Column("avg_talk_ms", "Avg talk", "ms"),
        Column("wrapup_ms", "Wrap-up time", "ms"),
        Column("avg_handling_ms", "Avg handling", "ms"),
        Column("avg_ring_ms", "Avg ring", "ms"),
    ), _rows(db, sql, args))


def nodes(db: sqlite3.Connection, window: Window, filters: Filters) -> Section:
    """Per step (and handler) of the flows: visits, time spent, drops."""
    select = ", ".join((
        "t.node", "t.node_kind", "count(*)",
        "sum(t.choice IS NOT NULL)",
        "sum(coalesce(t.duration_ms, 0))",
        _avg("t.duration_ms"),
        "sum(t.dropped)",
        _pct("sum(t.dropped)", "count(*)"),
    ))
    sql, args = _visit_query("node_visits", "node", "entered_ms", "entered", select, window,
                             filters, None,
                             "GROUP BY t.node, t.node_kind ORDER BY count(*) DESC, t.node")
    return Section("nodes", "Per menu node", (
        Column("node", "Node", "text"),
        Column("kind", "Kind", "text"),
        Column("visits", "Visits"),
        Column("choices", "Choices made"),
        Column("total_ms", "Time spent", "ms"),
        Column("avg_ms", "Avg time", "ms"),
        Column("dropped", "Dropped"),
        Column("dropped_pct", "Dropped %", "pct"),
    ), _rows(db, sql, args))


def choices(db: sqlite3.Connection, window: Window, filters: Filters) -> Section:
    """Per node, the choices callers made (the last one of each visit)."""
    select = ("t.node, t.choice, count(*), round(100.0 * count(*) / "
              "sum(count(*)) OVER (PARTITION BY t.node), 1)")
    sql, args = _visit_query("node_visits", "node", "entered_ms", "entered", select, window,
                             filters, None, "AND t.choice IS NOT NULL GROUP BY t.node, t.choice "
                             "ORDER BY t.node, count(*) DESC, t.choice")
    return Section("choices", "Menu choices", (
        Column("node", "Node", "text"),
        Column("choice", "Choice", "text"),
        Column("times", "Times"),
        Column("pct", "Share %", "pct"),
    ), _rows(db, sql, args))


def sections(db: sqlite3.Connection, filters: Filters, options: Options,
             wanted: tuple[str, ...], now: datetime) -> tuple[Section, ...]:
    """The sections asked for, in the order of model.SECTIONS."""
    if options.interval == "realtime":
        window = realtime_window(now, options.minutes)
        now_ms: int | None = int(now.timestamp() * 1000)
    else:
        window = local_window(filters)
        now_ms = None
    makers = {
        "summary": lambda: summary(db, window, filters, now_ms),
        "calls": lambda: (realtime_minutes(db, window, filters, now)
                          if options.interval == "realtime"
                          else calls_per_period(db, window, filters, options.interval)),
        "queues": lambda: queues(db, window, filters, options.within_ms),
        "agents": lambda: agents(db, window, filters),
        "nodes": lambda: nodes(db, window, filters),
        "choices": lambda: choices(db, window, filters),
    }
    return tuple(makers[name]() for name in makers if name in wanted)
