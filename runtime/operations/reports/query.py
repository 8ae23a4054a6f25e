"""The report's figures: one function per section, each one SQL aggregation over the call store.

Each reads an indexed range (docs/reports.md "Speed"); every figure is defined in
docs/reports.md. Never writes to the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from ccdsl.runtime.operations import database
from ccdsl.runtime.operations.centre_time import DAY_MS, local_to_ms, zone_name
from ccdsl.runtime.operations.reports import in_queue, periods, rolled_sections
from ccdsl.runtime.operations.reports.agent_time import sections as state_sections
from ccdsl.runtime.operations.reports.model import (
    STATE_SECTIONS,
    Column,
    Filters,
    Options,
    Section,
)
from ccdsl.runtime.operations.reports.periods import CALL_COLUMNS, CALL_FIGURES
from ccdsl.runtime.operations.reports.rolled_sections import Source
from ccdsl.runtime.operations.reports.sql import (
    Window,
    avg_ms,
    call_filters,
    fetch_rows,
    pct,
    visit_query,
)
from ccdsl.runtime.operations.rollup import ANSWERED_HANDLING, CONTAINED, ENDED
from ccdsl.runtime.operations.store_errors import MEND, fault, reason_of
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

# how long a call without an outcome still counts as in progress in the
# realtime view: older ones belong to a process that died mid-call
IN_PROGRESS_LOOKBACK_MS = DAY_MS


def local_window(filters: Filters, zone: tzinfo) -> Window:
    """The window of a local date range in `zone` (or of everything)."""
    lo = local_to_ms(filters.start, zone) if filters.start else None
    hi = local_to_ms(filters.end, zone) if filters.end else None
    if lo is not None and hi is not None and lo >= hi:  # a local bound and an offset's
        raise ReportError(f"--from {filters.start} is not before --to {filters.end} in "
                          f"{zone_name(zone)}: the range is empty")
    return Window(lo, hi)


def realtime_window(now: datetime, minutes: int) -> Window:
    """The last `minutes` minutes up to `now` (the minute now is in included)."""
    now_ms = int(now.timestamp() * 1000)
    minute_start = now_ms - now_ms % 60_000
    return Window(minute_start - (minutes - 1) * 60_000, minute_start + 60_000)


# ---- opening the store ----------------------------------------------------------------


class ReportError(Exception):
    """The store cannot be reported on (missing, not a call store, too new)."""


class StoreUnreachable(ReportError):
    """The store cannot be read now (a PostgreSQL server down or lost, a file locked): the
    same report may be asked for again."""


class StoreNeedsMending(ReportError):
    """The store cannot be read until someone mends it (its login or database refused, a
    table or column missing): asking again will not help."""


def _unreadable(exc: sqlite3.OperationalError, said: str) -> ReportError:
    """The error of a store that could not be read: mended, or asked again."""
    if fault(exc):
        return StoreNeedsMending(f"{reason_of(exc)}; {MEND}")
    return StoreUnreachable(said)


_TABLES = ("calls", "queue_visits", "agent_legs", "node_visits")


def open_store(path: str) -> sqlite3.Connection:
    """A read-only connection to a call store: a SQLite file, or a PostgreSQL database named
    by its postgresql:// URL (database.connect). The store is never created or migrated: a
    report reads what is there."""
    if database.is_postgres(path):
        return _checked(_open_postgres(path), database.shown(path))
    file = Path(path)
    if not file.exists():
        raise ReportError(f"there is no call store at `{path}`")
    if not file.is_file():
        raise ReportError(f"`{path}` is a directory, not a call store file")
    try:
        db = database.connect(path, read_only=True)
    except sqlite3.Error as exc:
        raise ReportError(f"`{path}` is not a call store: {exc}") from None
    return _checked(db, path)


def _open_postgres(url: str):
    try:
        return database.connect(url, read_only=True)
    except sqlite3.OperationalError as exc:  # both drivers' error for a server not reached
        # PostgreSQL's words on one line; the cause says whether the server did not answer
        raise _unreadable(exc, reason_of(exc)) from exc
    except (database.TargetError, sqlite3.Error) as exc:
        raise ReportError(str(exc)) from None


def _checked(db, path: str):
    """The connection when it is to a call store this version reads; else closed, and
    ReportError."""
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.OperationalError as exc:  # a lost server, a locked file: not its contents
        db.close()
        # the cause kept: it says whether a server did not answer (cli/common.store_exit)
        raise _unreadable(exc, f"the call store `{path}` cannot be read now: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        db.close()
        raise ReportError(f"`{path}` is not a call store: {exc}") from None
    missing = [t for t in ("meta", *_TABLES) if t not in names]
    if missing and "meta" in names and "calls" in names:  # a call store with a table dropped
        db.close()
        raise StoreNeedsMending(f"`{path}` lacks the table {', '.join(missing)} a report "
                                f"reads; {MEND}")
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


# ---- sections -----------------------------------------------------------------------------

def calls_where(window: Window, filters: Filters) -> tuple[str, dict]:
    """The WHERE clause (with its leading space; "" for none) and arguments keeping the
    calls (aliased t) of the window and the filters."""
    where: list[str] = []
    args: dict[str, Any] = {}
    window.where("t.started_ms", where, args)
    call_filters("calls", filters, where, args)
    return (" WHERE " + " AND ".join(where)) if where else "", args


def summary(db: sqlite3.Connection, window: Window, filters: Filters,
            now_ms: int | None = None, src: Source | None = None) -> Section:
    """Totals over the window. With `now_ms` (realtime), in progress counts
    every call of the last day up to now that has no outcome yet."""
    rolled = None if src is None else rolled_sections.summary(src)
    if rolled is not None:
        row, asa, aht = rolled
    else:
        row, asa, aht = _summary_rows(db, window, filters)
    row[1:7] = [v or 0 for v in row[1:7]]  # sum() of no rows is NULL
    ended = row.pop() or 0
    contained = row.pop() or 0
    if now_ms is not None:
        recent = Window(now_ms - IN_PROGRESS_LOOKBACK_MS, now_ms + 1)
        where, args = calls_where(recent, filters)
        cond = " AND t.outcome IS NULL" if where else " WHERE t.outcome IS NULL"
        row[5] = db.execute(f"SELECT count(*) FROM calls t{where}{cond}", args).fetchone()[0]
    answered_pct = round(100.0 * row[1] / row[0], 1) if row[0] else None
    contained_pct = round(100.0 * contained / ended, 1) if ended else None
    return Section("summary", "Summary",
                   (*CALL_COLUMNS, Column("avg_wait_ms", "Avg wait in queues", "ms"),
                    Column("answered_pct", "Answered %", "pct"),
                    Column("asa_ms", "Avg speed of answer (ASA)", "ms"),
                    Column("aht_ms", "Avg handling time (AHT)", "ms"),
                    Column("ivr_contained", "Contained in the IVR"),
                    Column("ivr_containment_pct", "IVR containment %", "pct")),
                   ((*row, answered_pct, asa, aht, contained, contained_pct),))


def _summary_rows(db: sqlite3.Connection, window: Window, filters: Filters
                  ) -> tuple[list, Any, Any]:
    """The summary's figures from the rows: the calls' (CALL_FIGURES, the mean wait, the
    contained and the ended calls), the speed of answer and the handling time."""
    window_sql, window_args = calls_where(window, filters)
    row = list(db.execute(f"SELECT {', '.join(CALL_FIGURES)}, {avg_ms('t.wait_ms')}, "
                          f"sum({CONTAINED}), sum({ENDED}) FROM calls t{window_sql}",
                          window_args).fetchone())
    # the speed of answer and the handling time of the same calls: their visits and offers
    # are looked up by call_id, the leading column of each table's key
    of_calls = f"call_id IN (SELECT t.call_id FROM calls t{window_sql})"
    asa = db.execute(f"SELECT {avg_ms('t.wait_ms')} FROM queue_visits t WHERE {of_calls} "
                     "AND t.outcome = 'answered'", window_args).fetchone()[0]
    aht = db.execute(f"SELECT {avg_ms(ANSWERED_HANDLING)} FROM agent_legs t WHERE {of_calls}",
                     window_args).fetchone()[0]
    return row, asa, aht


def queues(db: sqlite3.Connection, window: Window, filters: Filters,
           within_ms: int, src: Source | None = None) -> Section:
    """Per queue: what happened to the calls that joined it."""
    rolled = None if src is None else rolled_sections.queues(src, within_ms)
    if rolled is not None:
        return _queues_section(within_ms, *rolled)
    select = ", ".join((
        "t.queue", "count(*)",
        "sum(t.outcome = 'answered')",
        "sum(t.outcome = 'hangup')",
        "sum(t.outcome = 'timeout')",
        "sum(t.outcome IN ('empty', 'full'))",
        "sum(t.outcome = 'answered' AND t.wait_ms <= :within)",
        pct("sum(t.outcome = 'answered' AND t.wait_ms <= :within)", "count(*)"),
        pct("sum(t.outcome = 'hangup')", "count(*)"),
        avg_ms("t.wait_ms"),
        "max(t.wait_ms)",
        avg_ms("CASE WHEN t.outcome = 'answered' THEN t.wait_ms END"),
        avg_ms("CASE WHEN t.outcome = 'answered' THEN t.talk_ms END"),
    ))
    sql, args = visit_query("queue_visits", "queue", "joined_ms", select, window,
                             filters, filters.queue, "GROUP BY t.queue ORDER BY t.queue")
    args["within"] = within_ms
    # the handling time is the agents' (talk + wrap-up), per queue of the offers they answered
    # of the calls the filters keep: --agent keeps a call offered to the agent, with every
    # answered offer of it, as it keeps all its queue visits
    aht_sql, aht_args = visit_query(
        "agent_legs", "agent", "offered_ms", f"t.queue, {avg_ms(ANSWERED_HANDLING)}",
        window, replace(filters, agent=None), None,
        ("" if filters.agent is None else "AND EXISTS (SELECT 1 FROM agent_legs a WHERE "
         "a.call_id = t.call_id AND +a.agent = :agent) ")
        + "AND t.queue IS NOT NULL GROUP BY t.queue")
    if filters.agent is not None:
        aht_args["agent"] = filters.agent
    return _queues_section(within_ms, fetch_rows(db, sql, args),
                           dict(fetch_rows(db, aht_sql, aht_args)))


def _queues_section(within_ms: int, rows: tuple[tuple, ...], handling: dict) -> Section:
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
        Column("avg_handling_ms", "Avg handling (AHT)", "ms"),
    ), tuple((*row, handling.get(row[0])) for row in rows))


def agents(db: sqlite3.Connection, window: Window, filters: Filters,
           src: Source | None = None) -> Section:
    """Per agent: the calls offered to them and what they made of them."""
    answered = "t.outcome = 'answered'"
    select = ", ".join((
        "t.agent", "count(*)",
        f"sum({answered})",
        "sum(t.outcome = 'missed')",
        "sum(t.outcome = 'caller_gone')",
        pct(f"sum({answered})", "count(*)"),
        f"sum(CASE WHEN {answered} THEN coalesce(t.talk_ms, 0) ELSE 0 END)",
        avg_ms(f"CASE WHEN {answered} THEN coalesce(t.talk_ms, 0) END"),
        f"sum(CASE WHEN {answered} THEN coalesce(t.wrapup_ms, 0) ELSE 0 END)",
        avg_ms(f"CASE WHEN {answered} THEN coalesce(t.talk_ms, 0) "
             "+ coalesce(t.wrapup_ms, 0) END"),
        avg_ms(f"CASE WHEN {answered} THEN t.ring_ms END"),
    ))
    sql, args = visit_query("agent_legs", "agent", "offered_ms", select, window,
                             filters, filters.agent, "GROUP BY t.agent ORDER BY t.agent")
    rows = fetch_rows(db, sql, args) if src is None else rolled_sections.agents(src)
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
    ), rows)


def nodes(db: sqlite3.Connection, window: Window, filters: Filters,
          src: Source | None = None) -> Section:
    """Per step (and handler) of the flows: visits, time spent, drops."""
    select = ", ".join((
        "t.node", "t.node_kind", "count(*)",
        "sum(t.choice IS NOT NULL)",
        "sum(coalesce(t.duration_ms, 0))",
        avg_ms("t.duration_ms"),
        "sum(t.dropped)",
        pct("sum(t.dropped)", "count(*)"),
    ))
    sql, args = visit_query("node_visits", "node", "entered_ms", select, window,
                             filters, None,
                             "GROUP BY t.node, t.node_kind "
                             "ORDER BY count(*) DESC, t.node, t.node_kind")
    rows = None if src is None else rolled_sections.nodes(src)
    return Section("nodes", "Per node: steps, waits in queues, handlers", (
        Column("node", "Node", "text"),
        Column("kind", "Kind", "text"),
        Column("visits", "Visits"),
        Column("choices", "Choices made"),
        Column("total_ms", "Time spent", "ms"),
        Column("avg_ms", "Avg time", "ms"),
        Column("dropped", "Dropped"),
        Column("dropped_pct", "Dropped %", "pct"),
    ), fetch_rows(db, sql, args) if rows is None else rows)


def choices(db: sqlite3.Connection, window: Window, filters: Filters,
            src: Source | None = None) -> Section:
    """Per node, the choices callers made (the last one of each visit)."""
    select = ("t.node, t.choice, count(*), round(100.0 * count(*) / "
              "sum(count(*)) OVER (PARTITION BY t.node), 1)")
    sql, args = visit_query("node_visits", "node", "entered_ms", select, window,
                             filters, None, "AND t.choice IS NOT NULL GROUP BY t.node, t.choice "
                             "ORDER BY t.node, count(*) DESC, t.choice")
    rows = None if src is None else rolled_sections.choices(src)
    return Section("choices", "Menu choices", (
        Column("node", "Node", "text"),
        Column("choice", "Choice", "text"),
        Column("times", "Times"),
        Column("pct", "Share %", "pct"),
    ), fetch_rows(db, sql, args) if rows is None else rows)


def span_of(db: sqlite3.Connection, window: Window, filters: Filters) -> Window | None:
    """The time the report covers: the window, its open ends closed by the first and the
    last call's start (the last one's included); None when it is open and there is no
    call."""
    if window.lo is not None and window.hi is not None:
        return window
    where, args = calls_where(window, filters)
    first, last = db.execute(f"SELECT min(t.started_ms), max(t.started_ms) FROM calls t"
                             f"{where}", args).fetchone()
    if first is None:
        return None
    return Window(window.lo if window.lo is not None else first,
                  window.hi if window.hi is not None else last + 1)


def sections(db: sqlite3.Connection, filters: Filters, options: Options,
             wanted: tuple[str, ...], now: datetime, zone: tzinfo
             ) -> tuple[tuple[Section, ...], Options, Window | None]:
    """The sections asked for, in the order of model.SECTIONS, periods and
    ranges in `zone`; the options with the interval `auto` made the one the
    range calls for; and the time covered (None: no range, no call)."""
    if options.interval == "realtime":
        window = realtime_window(now, options.minutes)
        now_ms: int | None = int(now.timestamp() * 1000)
    else:
        window = local_window(filters, zone)
        now_ms = None
    span = span_of(db, window, filters)
    if options.interval == "auto":
        options = replace(options, interval=periods.auto_interval(span))
    # the agents' states count up to now, in realtime and in a range still going on
    states = state_sections(db, window.lo, window.hi, int(now.timestamp() * 1000), filters,
                            [name for name in STATE_SECTIONS if name in wanted])
    window_sql, window_args = calls_where(window, filters)
    # the rollups where the store keeps them; realtime's minutes read the rows
    src = rolled_sections.source(db, window, filters) if now_ms is None else None
    makers = {
        "summary": lambda: summary(db, window, filters, now_ms, src),
        "calls": lambda: periods.calls_per_period(db, window_sql, window_args, span,
                                                  options.interval, zone, src),
        "service": lambda: periods.service_per_period(db, window, filters, options.within_ms,
                                                      span, options.interval, zone, src),
        "queues": lambda: queues(db, window, filters, options.within_ms, src),
        "agents": lambda: agents(db, window, filters, src),
        "agent_time": lambda: states["agent_time"],
        "agent_pauses": lambda: states["agent_pauses"],
        "nodes": lambda: nodes(db, window, filters, src),
        "choices": lambda: choices(db, window, filters, src),
        "queue_choices": lambda: in_queue.queue_choices(db, window, filters, src),
        "callbacks": lambda: in_queue.callbacks(db, window, filters),
    }
    return tuple(makers[name]() for name in makers if name in wanted), options, span
