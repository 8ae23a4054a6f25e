"""The report's in-queue sections: the keys callers pressed while waiting (the choices of
the `queue NAME` nodes), per queue and key, and the in-queue call-backs per queue.

Plain SQL aggregations on a read-only connection; must not write or render. A store
older than the queue_callbacks table (schema 7) has no call-backs to show.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from ccdsl.runtime.operations.reports import rolled_sections
from ccdsl.runtime.operations.reports.model import Column, Filters, Section
from ccdsl.runtime.operations.reports.rolled_sections import Source
from ccdsl.runtime.operations.reports.sql import (
    Window,
    avg_ms,
    call_filters,
    fetch_rows,
    pct,
    visit_query,
)

IN_QUEUE_SECTIONS = ("queue_choices", "callbacks")


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                      (name,)).fetchone() is not None


def has_rows(db: sqlite3.Connection, section: str) -> bool:
    """Whether the store has anything for the section (a report of every
    section leaves an in-queue one out when a centre has none)."""
    if section == "queue_choices":
        # the `queue NAME` nodes' range of the (node, time) index, not every visit
        return db.execute("SELECT 1 FROM node_visits WHERE node >= 'queue ' AND node < 'queue!' "
                          "AND node_kind = 'queue' AND choice IS NOT NULL LIMIT 1"
                          ).fetchone() is not None
    return _has_table(db, "queue_callbacks") and \
        db.execute("SELECT 1 FROM queue_callbacks LIMIT 1").fetchone() is not None


def queue_choices(db: sqlite3.Connection, window: Window, filters: Filters,
                  src: Source | None = None) -> Section:
    """Per queue, the keys callers pressed to leave it while waiting: the
    choices of its `queue NAME` node visits (the per-node sections' rows),
    with the wait before the key, which is the visit's length. A queue
    filter keeps its own node's visits, not every node of its calls."""
    select = ("substr(t.node, 7) AS queue, t.choice AS key, count(*), "
              "round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY t.node), 1), "
              f"{avg_ms('t.duration_ms')}")
    node = None if filters.queue is None else f"queue {filters.queue}"
    sql, args = visit_query("node_visits", "node", "entered_ms", select, window,
                            replace(filters, queue=None), node,
                            "AND t.node_kind = 'queue' AND t.choice IS NOT NULL "
                            "GROUP BY t.node, t.choice ORDER BY queue, count(*) DESC, key")
    rows = None if src is None else rolled_sections.queue_choices(src)
    return Section("queue_choices", "In-queue choices", (
        Column("queue", "Queue", "text"),
        Column("key", "Key", "text"),
        Column("times", "Times"),
        Column("pct", "Share %", "pct"),
        Column("avg_waited_ms", "Avg wait before", "ms"),
    ), fetch_rows(db, sql, args) if rows is None else rows)


def callbacks(db: sqlite3.Connection, window: Window, filters: Filters) -> Section:
    """Per queue, the in-queue call-backs requested in the range: completed
    (the customer reached), failed (attempts used up, interrupted), given up,
    still open, and the time from the request to the customer answering."""
    columns = (
        Column("queue", "Queue", "text"),
        Column("requested", "Requested"),
        Column("completed", "Completed"),
        Column("failed", "Failed"),
        Column("given_up", "Given up"),
        Column("open", "Open"),
        Column("completed_pct", "Completed %", "pct"),
        Column("attempts", "Attempts"),
        Column("avg_to_callback_ms", "Avg time to call-back", "ms"),
        Column("max_to_callback_ms", "Longest time to call-back", "ms"),
    )
    if not _has_table(db, "queue_callbacks"):
        return Section("callbacks", "In-queue call-backs", columns, ())
    where: list[str] = []
    args: dict[str, Any] = {}
    window.where("t.requested_ms", where, args)
    call_filters("queue_callbacks", filters, where, args)
    done = "t.status = 'done'"
    sql = ("SELECT t.queue, count(*), "
           f"sum({done}), sum(t.status = 'failed'), sum(t.status = 'given_up'), "
           "sum(t.status IN ('pending', 'dialling')), "
           f"{pct(f'sum({done})', 'count(*)')}, sum(t.attempts), "
           f"{avg_ms(f'CASE WHEN {done} THEN t.ended_ms - t.requested_ms END')}, "
           f"max(CASE WHEN {done} THEN t.ended_ms - t.requested_ms END) "
           f"FROM queue_callbacks t {'WHERE ' + ' AND '.join(where) if where else ''} "
           "GROUP BY t.queue ORDER BY count(*) DESC, t.queue")
    return Section("callbacks", "In-queue call-backs", columns, fetch_rows(db, sql, args))
