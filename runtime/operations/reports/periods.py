"""The report's sections per period: calls per period and the queues' service per period
(service level, abandon rate, speed of answer), every period of the range listed, the
interval chosen by the range when none is asked for.

Plain SQL aggregations on a read-only connection (docs/reports.md "calls", "service");
must not write or render.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, tzinfo

from ccdsl.runtime.operations.centre_time import DAY_MS, local_ms_sql, offset_ms, period_start
from ccdsl.runtime.operations.reports import rolled_sections
from ccdsl.runtime.operations.reports.model import Column, Filters, Section
from ccdsl.runtime.operations.reports.rolled_sections import Source
from ccdsl.runtime.operations.reports.sql import Window, avg_ms, fetch_rows, pct, visit_query

# a period, from the local epoch ms: a number of whole units (labelled in
# Python) or, for months and years, SQLite's own calendar
UNITS = {"realtime": (60_000, "%Y-%m-%d %H:%M"), "hour": (3_600_000, "%Y-%m-%d %H:00"),
         "day": (DAY_MS, "%Y-%m-%d")}
CALENDAR = {"month": "%Y-%m", "year": "%Y"}
# beyond this many periods only those with calls are listed: a decade per hour is not a
# table anyone reads, and the empty rows would dwarf the rest
MAX_PERIODS = 10_000
# the interval a report without --interval counts in, by the length of its range
AUTO = ((2 * DAY_MS, "hour"), (92 * DAY_MS, "day"))


def auto_interval(span: Window | None) -> str:
    """hour for a range of up to two days, day up to 92 days, month beyond (docs/reports.md)."""
    if span is None or span.lo is None or span.hi is None:
        return "day"
    length = span.hi - span.lo
    return next((name for most, name in AUTO if length <= most), "month")


def _local_ms(ms: int, zone: tzinfo) -> int:
    return ms + offset_ms(zone, ms)


def period_sql(column: str, interval: str, zone: tzinfo, lo: int, hi: int) -> str:
    """SQL for the period of the UTC ms `column`: an integer for minute, hour and day
    (labelled by `label`), the calendar text for month and year."""
    local = local_ms_sql(column, zone, lo, hi)
    if interval in CALENDAR:
        return f"strftime('{CALENDAR[interval]}', {local} / 1000, 'unixepoch')"
    return f"{local} / {UNITS[interval][0]}"


def label(period: int | str, interval: str) -> str:
    if interval in CALENDAR:
        return str(period)
    unit, shape = UNITS[interval]
    return period_start(int(period), unit).strftime(shape)


def every_period(span: Window, interval: str, zone: tzinfo) -> list[str] | None:
    """The labels of every period from span.lo to span.hi (end excluded), in order;
    None when there are more than MAX_PERIODS."""
    assert span.lo is not None and span.hi is not None
    last = max(span.lo, span.hi - 1)
    if interval in CALENDAR:
        first_day = datetime.fromtimestamp(span.lo / 1000, zone).date()
        last_day = datetime.fromtimestamp(last / 1000, zone).date()
        if interval == "year":
            return [str(y) for y in range(first_day.year, last_day.year + 1)][:MAX_PERIODS]
        months = (last_day.year - first_day.year) * 12 + last_day.month - first_day.month
        return [date(first_day.year + (first_day.month - 1 + m) // 12,
                     (first_day.month - 1 + m) % 12 + 1, 1).strftime("%Y-%m")
                for m in range(months + 1)][:MAX_PERIODS]
    unit = UNITS[interval][0]
    first = _local_ms(span.lo, zone) // unit
    final = _local_ms(last, zone) // unit
    if final - first >= MAX_PERIODS:
        return None
    # a local period met twice (the hour repeated when summer time ends) is one label
    return list(dict.fromkeys(label(p, interval) for p in range(first, final + 1)))


def _filled(rows: tuple[tuple, ...], labels: list[str] | None,
            empty: tuple) -> tuple[tuple, ...]:
    """The rows, with a row of `empty` figures for every period of `labels` without one."""
    if labels is None:
        return rows
    found = {row[0]: row for row in rows}
    every = sorted(set(labels) | set(found))
    return tuple(found.get(name, (name, *empty)) for name in every)


CALL_FIGURES = (
    "count(*)",
    "sum(t.talked_to_agent)",
    "sum(t.outcome = 'abandoned')",
    "sum(t.outcome = 'voicemail')",
    # a call handed back to the dialplan at shutdown went on in the dialplan
    # like a transferred one: never a drop or an abandon (docs/reports.md)
    "sum(t.outcome IN ('transfer', 'handed_back'))",
    "sum(t.outcome IS NULL)",
    # closed by a later ccf serve after the run that had it died (docs/store.md)
    "sum(t.outcome = 'interrupted')",
    avg_ms("t.duration_ms"),
)
CALL_COLUMNS = (
    Column("calls", "Calls"),
    Column("answered", "Answered by an agent"),
    Column("abandoned", "Abandoned"),
    Column("voicemail", "Voicemail"),
    Column("transferred", "Transferred"),
    Column("in_progress", "In progress"),
    Column("interrupted", "Interrupted"),
    Column("avg_duration_ms", "Avg duration", "ms"),
)


def calls_per_period(db: sqlite3.Connection, where: str, args: dict, span: Window | None,
                     interval: str, zone: tzinfo, src: Source | None = None) -> Section:
    """Calls per minute, hour, day, month or year of their start in `zone`'s local time,
    every period of `span` listed (0 calls in the empty ones). `where`: the calls' window
    and filters as made by query.calls_where."""
    name = "minute" if interval == "realtime" else interval
    columns = (Column("period", name.capitalize(), "text"), *CALL_COLUMNS)
    title = f"Calls per {name}"
    if span is None:  # no call at all
        return Section("calls", title, columns, ())
    assert span.lo is not None and span.hi is not None
    period = period_sql("t.started_ms", interval, zone, span.lo, span.hi)
    rows = None if src is None else rolled_sections.calls_per_period(
        src, (period_sql("bucket", interval, zone, span.lo, span.hi), period), interval, zone,
        span)
    if rows is None:
        rows = fetch_rows(db, f"SELECT {period} AS period, {', '.join(CALL_FIGURES)} "
                          f"FROM calls t{where} GROUP BY period ORDER BY period", args)
    rows = tuple((label(row[0], interval), *row[1:]) for row in rows)
    empty = (0, 0, 0, 0, 0, 0, 0, None)
    return Section("calls", title, columns, _filled(rows, every_period(span, interval, zone),
                                                    empty))


SERVICE_COLUMNS = (
    Column("offered", "Offered to queues"),
    Column("answered", "Answered"),
    Column("answered_within", "Answered in time"),
    Column("abandoned", "Abandoned"),
    Column("service_level_pct", "Service level %", "pct"),
    Column("abandoned_pct", "Abandon rate %", "pct"),
    Column("avg_answer_ms", "Avg speed of answer", "ms"),
)


def service_per_period(db: sqlite3.Connection, window: Window, filters: Filters,
                       within_ms: int, span: Window | None, interval: str,
                       zone: tzinfo, src: Source | None = None) -> Section:
    """Per period of the joins, over every queue the filters keep: the queues' figures of
    docs/reports.md "service" (the per-queue section's, summed over queues)."""
    name = "minute" if interval == "realtime" else interval
    columns = (Column("period", name.capitalize(), "text"), *SERVICE_COLUMNS)
    title = f"Service level and abandon rate per {name}"
    if span is None:
        return Section("service", title, columns, ())
    assert span.lo is not None and span.hi is not None
    period = period_sql("t.joined_ms", interval, zone, span.lo, span.hi)
    quick = "sum(t.outcome = 'answered' AND t.wait_ms <= :within)"
    select = ", ".join((
        f"{period} AS period",
        "count(*)", "sum(t.outcome = 'answered')", quick, "sum(t.outcome = 'hangup')",
        pct(quick, "count(*)"), pct("sum(t.outcome = 'hangup')", "count(*)"),
        avg_ms("CASE WHEN t.outcome = 'answered' THEN t.wait_ms END"),
    ))
    sql, args = visit_query("queue_visits", "queue", "joined_ms", select, window, filters,
                            filters.queue, "GROUP BY period ORDER BY period")
    args["within"] = within_ms
    rows = None if src is None else rolled_sections.service_per_period(
        src, (period_sql("bucket", interval, zone, span.lo, span.hi), period), interval, zone,
        span, within_ms)
    if rows is None:
        rows = fetch_rows(db, sql, args)
    rows = tuple((label(row[0], interval), *row[1:]) for row in rows)
    empty = (0, 0, 0, 0, None, None, None)
    return Section("service", title, columns, _filled(rows, every_period(span, interval, zone),
                                                      empty))
