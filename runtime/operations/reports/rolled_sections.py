"""The report's figures read through the rollups (reports/rolled.py): the same figures as
query.py's and periods.py's SQL over the rows, in the same order, for the reports the rollups
can answer (docs/reports.md "Rollups"). Reads only; never writes to the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from ccdsl.runtime.operations.reports.model import Filters
from ccdsl.runtime.operations.reports.rolled import (
    Part,
    Plan,
    RawQuery,
    aligned,
    figures,
    has_rollups,
    key,
    mean,
    plan,
    plan_periods,
    sum_of,
    union,
)
from ccdsl.runtime.operations.reports.sql import Window, call_filters, pct, visit_query
from ccdsl.runtime.operations.rollup import (
    CALLS,
    LEGS,
    NODES,
    NODES_BY_QUEUE,
    NONE,
    PREVIOUS,
    QUEUES,
    WITHIN_S,
    Rollup,
    _key,
)


@dataclass(frozen=True)
class Source:
    """What a report reads through the rollups: the store has them, and the report is not
    realtime (whose window is minutes of rows)."""

    db: sqlite3.Connection
    window: Window
    filters: Filters

    def plan(self, rollup: Rollup, *, crossed: tuple[str, ...] = ("queue", "agent"),
             grains: tuple[str, ...] | None = None) -> Plan | None:
        """The plan for `rollup`, None when a filter of `crossed` (one the rollup's rows do not
        carry: a call's other queues or agents) is set."""
        if any(getattr(self.filters, name) is not None for name in crossed):
            return None
        return plan(self.window, rollup.grains if grains is None else grains)

    def where(self, *conditions: str, **own: str | None) -> tuple[tuple[str, ...], dict]:
        """Conditions on a rollup row: `conditions`, the flow filter, and each key of `own`
        equal to its value (None: any)."""
        out = list(conditions)
        args: dict = {}
        if self.filters.flow is not None:
            out.append("flow = :rflow")
            args["rflow"] = _key(self.filters.flow)
        for column, value in own.items():
            if value is not None:
                out.append(f"{column} = :r{column}")
                args[f"r{column}"] = _key(value)
        return tuple(out), args


# beyond this many months or years, a report per month reads quarter hours: each period is a
# few members of one SQL statement, and SQLite takes at most 500
MAX_SPLIT = 100


def source(db: sqlite3.Connection, window: Window, filters: Filters) -> Source | None:
    """What a report over `window` reads the rollups through; None when the store keeps
    none (before schema 8): the one place a report chooses rollups or rows."""
    return Source(db, window, filters) if has_rollups(db) else None


def _starts(span: Window, interval: str, zone: tzinfo) -> list[int] | None:
    """The UTC ms of every month's or year's local start inside the span; None for other
    intervals, or too many."""
    if interval not in ("month", "year") or span.lo is None or span.hi is None:
        return None
    first = datetime.fromtimestamp(span.lo / 1000, zone).date()
    day = date(first.year + (interval == "year"), 1, 1) if interval == "year" else \
        date(first.year + first.month // 12, first.month % 12 + 1, 1)
    out: list[int] = []
    while len(out) <= MAX_SPLIT:
        ms = int(datetime(day.year, day.month, 1, tzinfo=zone).timestamp() * 1000)
        if ms >= span.hi:
            return out
        out.append(ms)
        day = date(day.year + 1, 1, 1) if interval == "year" else \
            date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return None


def _period_plan(src: Source, rollup: Rollup, crossed: tuple[str, ...], interval: str,
                 zone: tzinfo, span: Window) -> Plan | None:
    """The plan of a section per period: quarter hours, and for months and years whole days
    inside each; None when a crossed filter is set or the zone's hours are not on quarter
    hours."""
    if src.plan(rollup, crossed=crossed) is None or not aligned(zone, span):
        return None
    starts = _starts(span, interval, zone)
    return plan(src.window, ("q",)) if starts is None else plan_periods(src.window, starts)


def within_column(within_ms: int) -> str | None:
    """The queue rollup's count of answers within the threshold, if it keeps one."""
    seconds, rest = divmod(within_ms, 1000)
    return f"within_{seconds}" if not rest and seconds in WITHIN_S else None


def calls_raw(filters: Filters) -> RawQuery:
    def raw(select: str, window: Window, extra: str, group: str) -> tuple[str, dict]:
        where: list[str] = []
        args: dict = {}
        # the calls not in the rollups are found through the index of open calls, not by time
        window.where("+t.started_ms" if extra else "t.started_ms", where, args)
        call_filters("calls", filters, where, args)
        if extra:
            where.append(extra)
        text = f" WHERE {' AND '.join(where)}" if where else ""
        return f"SELECT {select} FROM calls t{text} {group}", args
    return raw


def visits_raw(table: str, column: str, ms: str, filters: Filters, fixed: str | None,
               cond: str = "") -> RawQuery:
    def raw(select: str, window: Window, extra: str, group: str) -> tuple[str, dict]:
        if not extra:
            return visit_query(table, column, ms, select, window, filters, fixed,
                               f"{cond} {group}")
        where = [extra]  # the rows of calls not in the rollups: found by call
        args: dict = {}
        window.where(f"+t.{ms}", where, args)
        if fixed is not None:
            where.append(f"t.{column} = :key")
            args["key"] = fixed
        else:
            where.append(f"t.{column} IS NOT NULL")
        call_filters(table, filters, where, args)
        return f"SELECT {select} FROM {table} t WHERE {' AND '.join(where)} {cond} {group}", args
    return raw


_SUMMARY = ("calls", "answered", "abandoned", "voicemail", "transferred", "in_progress",
            "interrupted", "duration_sum", "duration_n", "wait_sum", "wait_n", "contained",
            "ended", "asa_sum", "asa_n", "aht_sum", "aht_n")


def summary(src: Source) -> tuple[list, object, object] | None:
    """The summary's figures (query.summary's row, the speed of answer and the handling
    time), or None when the rollups cannot give them."""
    the_plan = src.plan(CALLS)
    if the_plan is None:
        return None
    outer = ", ".join((
        "coalesce(sum(u.calls), 0)",
        *(sum_of(n) for n in _SUMMARY[1:7]),
        mean("duration_sum", "duration_n"), mean("wait_sum", "wait_n"),
        sum_of("contained"), sum_of("ended"), mean("asa_sum", "asa_n"),
        mean("aht_sum", "aht_n")))
    row = list(union(src.db, CALLS, the_plan, [], figures(CALLS, *_SUMMARY), src.where(),
                     calls_raw(src.filters), outer, "")[0])
    aht, asa = row.pop(), row.pop()
    return row, asa, aht


def calls_per_period(src: Source, period: tuple[str, str], interval: str, zone: tzinfo,
                     span: Window) -> tuple[tuple, ...] | None:
    """The calls per period (periods.calls_per_period's rows, unlabelled); `period`: its SQL
    over a rollup's bucket and over the calls' start."""
    the_plan = _period_plan(src, CALLS, ("queue", "agent"), interval, zone, span)
    if the_plan is None:
        return None
    names = ("calls", "answered", "abandoned", "voicemail", "transferred", "in_progress",
             "interrupted")
    outer = ", ".join(("u.period", *(sum_of(n) for n in names),
                       mean("duration_sum", "duration_n")))
    return union(src.db, CALLS, the_plan, [Part("period", *period)],
                 figures(CALLS, *names, "duration_sum", "duration_n"), src.where(),
                 calls_raw(src.filters), outer, "GROUP BY u.period ORDER BY u.period")


def _queue_raw(src: Source, within_ms: int) -> RawQuery:
    raw = visits_raw("queue_visits", "queue", "joined_ms", src.filters, src.filters.queue)

    def with_within(select: str, window: Window, extra: str, group: str) -> tuple[str, dict]:
        sql, args = raw(select, window, extra, group)
        args["within"] = within_ms
        return sql, args
    return with_within


def service_per_period(src: Source, period: tuple[str, str], interval: str, zone: tzinfo,
                       span: Window, within_ms: int) -> tuple[tuple, ...] | None:
    """periods.service_per_period's rows, unlabelled."""
    the_plan = _period_plan(src, QUEUES, ("agent",), interval, zone, span)
    column = within_column(within_ms)
    if the_plan is None or column is None:
        return None
    outer = ", ".join(("u.period", sum_of("offered"), sum_of("answered"), sum_of("within"),
                       sum_of("hangup"), pct(sum_of("within"), sum_of("offered")),
                       pct(sum_of("hangup"), sum_of("offered")),
                       mean("answer_sum", "answer_n")))
    parts = figures(QUEUES, "offered", "answered", "hangup", "answer_sum", "answer_n",
                    within={"within": column})
    return union(src.db, QUEUES, the_plan, [Part("period", *period)], parts,
                 src.where(f"queue != '{NONE}'", queue=src.filters.queue),
                 _queue_raw(src, within_ms), outer, "GROUP BY u.period ORDER BY u.period")


def queues(src: Source, within_ms: int) -> tuple[tuple, dict] | None:
    """query.queues' rows (without the handling time) and the handling time per queue."""
    the_plan = src.plan(QUEUES, crossed=("agent",))
    column = within_column(within_ms)
    if the_plan is None or column is None:
        return None
    outer = ", ".join((
        "u.queue", *(sum_of(n) for n in ("offered", "answered", "hangup", "timeout",
                                         "no_agents", "within")),
        pct(sum_of("within"), sum_of("offered")), pct(sum_of("hangup"), sum_of("offered")),
        mean("wait_sum", "wait_n"), "max(u.wait_max)", mean("answer_sum", "answer_n"),
        mean("talk_sum", "talk_n")))
    parts = figures(QUEUES, "offered", "answered", "hangup", "timeout", "no_agents",
                    "wait_sum", "wait_n", "wait_max", "answer_sum", "answer_n", "talk_sum",
                    "talk_n", within={"within": column})
    rows = union(src.db, QUEUES, the_plan, [key("queue", "queue", "t.queue")], parts,
                 src.where(f"queue != '{NONE}'", queue=src.filters.queue),
                 _queue_raw(src, within_ms), outer, "GROUP BY u.queue ORDER BY u.queue")
    legs = plan(src.window, LEGS.grains)
    handling = union(src.db, LEGS, legs, [key("queue", "queue", "t.queue")],
                     figures(LEGS, "handling_sum", "handling_n"),
                     src.where(f"queue != '{NONE}'", f"agent != '{NONE}'",
                               queue=src.filters.queue),
                     visits_raw("agent_legs", "agent", "offered_ms",
                                replace(src.filters, agent=None), None,
                                "AND t.queue IS NOT NULL"),
                     f"u.queue, {mean('handling_sum', 'handling_n')}", "GROUP BY u.queue")
    return rows, dict(handling)


def agents(src: Source) -> tuple[tuple, ...] | None:
    """query.agents' rows."""
    the_plan = src.plan(LEGS, crossed=())
    assert the_plan is not None
    outer = ", ".join((
        "u.agent", *(sum_of(n) for n in ("offered", "answered", "missed", "caller_gone")),
        pct(sum_of("answered"), sum_of("offered")), sum_of("talk"),
        mean("talk", "handling_n"), sum_of("wrapup"), mean("handling_sum", "handling_n"),
        mean("ring_sum", "ring_n")))
    parts = figures(LEGS, "offered", "answered", "missed", "caller_gone", "talk", "wrapup",
                    "handling_sum", "handling_n", "ring_sum", "ring_n")
    return union(src.db, LEGS, the_plan, [key("agent", "agent", "t.agent")], parts,
                 src.where(f"agent != '{NONE}'", agent=src.filters.agent,
                           queue=src.filters.queue),
                 visits_raw("agent_legs", "agent", "offered_ms", src.filters, src.filters.agent),
                 outer, "GROUP BY u.agent ORDER BY u.agent")


def _nodes_of(src: Source) -> tuple[Rollup, Plan | None, tuple[tuple[str, ...], dict]]:
    """The node rollup a section reads, its plan and the conditions on its rows: with
    --queue, the node visits under the queues their call joined."""
    if src.filters.queue is None:
        return NODES, src.plan(NODES), src.where()
    return (NODES_BY_QUEUE, src.plan(NODES_BY_QUEUE, crossed=("agent",)),
            src.where(queue=src.filters.queue))


def nodes(src: Source) -> tuple[tuple, ...] | None:
    """query.nodes' rows."""
    rollup, the_plan, where = _nodes_of(src)
    if the_plan is None:
        return None
    outer = ", ".join(("u.node", "u.kind", sum_of("visits"), sum_of("chosen"), sum_of("total"),
                       mean("duration_sum", "duration_n"), sum_of("dropped"),
                       pct(sum_of("dropped"), sum_of("visits"))))
    parts = figures(NODES, "visits", "chosen", "total", "duration_sum", "duration_n", "dropped")
    return union(src.db, rollup, the_plan, [key("node", "node", "t.node"),
                                            key("kind", "kind", "t.node_kind")], parts,
                 where, visits_raw("node_visits", "node", "entered_ms", src.filters, None),
                 outer, "GROUP BY u.node, u.kind ORDER BY sum(u.visits) DESC, u.node, u.kind")


_SHARE = "round(100.0 * sum(u.visits) / sum(sum(u.visits)) OVER (PARTITION BY u.node), 1)"


def choices(src: Source) -> tuple[tuple, ...] | None:
    """query.choices' rows."""
    rollup, the_plan, (conditions, args) = _nodes_of(src)
    if the_plan is None:
        return None
    return union(src.db, rollup, the_plan, [key("node", "node", "t.node"),
                                            key("choice", "choice", "t.choice")],
                 figures(NODES, "visits"), ((f"choice != '{NONE}'", *conditions), args),
                 visits_raw("node_visits", "node", "entered_ms", src.filters, None,
                            "AND t.choice IS NOT NULL"),
                 f"u.node, u.choice, {sum_of('visits')}, {_SHARE}",
                 "GROUP BY u.node, u.choice ORDER BY u.node, sum(u.visits) DESC, u.choice")


def queue_choices(src: Source) -> tuple[tuple, ...] | None:
    """in_queue.queue_choices' rows."""
    the_plan = src.plan(NODES, crossed=("agent",))
    if the_plan is None:
        return None
    node = None if src.filters.queue is None else f"queue {src.filters.queue}"
    outer = ("substr(u.node, 7) AS queue, u.choice AS key, "
             f"{sum_of('visits')}, {_SHARE}, {mean('duration_sum', 'duration_n')}")
    return union(src.db, NODES, the_plan, [key("node", "node", "t.node"),
                                           key("choice", "choice", "t.choice")],
                 figures(NODES, "visits", "duration_sum", "duration_n"),
                 src.where("kind = 'queue'", f"choice != '{NONE}'", node=node),
                 visits_raw("node_visits", "node", "entered_ms", replace(src.filters, queue=None),
                            node, "AND t.node_kind = 'queue' AND t.choice IS NOT NULL"),
                 outer, "GROUP BY u.node, u.choice ORDER BY queue, sum(u.visits) DESC, key")


def transitions(src: Source) -> tuple[tuple, ...] | None:
    """flow_traffic's (previous node, node, visits)."""
    rollup, the_plan, where = _nodes_of(src)
    if the_plan is None:
        return None
    return union(src.db, rollup, the_plan, [key("previous", "previous", PREVIOUS),
                                            key("node", "node", "t.node")],
                 figures(NODES, "visits"), where,
                 visits_raw("node_visits", "node", "entered_ms", src.filters, None),
                 f"u.previous, u.node, {sum_of('visits')}", "GROUP BY u.previous, u.node")
