"""The report's in-queue sections: the keys callers pressed while waiting (the choices of
the `queue NAME` nodes), per queue and key, and the in-queue call-backs per queue.

Plain SQL aggregations on a read-only connection; must not write or render. A store
older than the queue_callbacks table (schema 7) has no call-backs to show.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ccdsl.runtime.operations.reports.model import Column, Filters, Section

IN_QUEUE_SECTIONS = ("queue_choices", "callbacks")


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                      (name,)).fetchone() is not None


def has_rows(db: sqlite3.Connection, section: str) -> bool:
    """Whether the store has anything for the section (a report of every
    section leaves an in-queue one out when a centre has none)."""
    if section == "queue_choices":
        return db.execute("SELECT 1 FROM node_visits WHERE node_kind = 'queue' "
                          "AND choice IS NOT NULL LIMIT 1").fetchone() is not None
    return _has_table(db, "queue_callbacks") and \
        db.execute("SELECT 1 FROM queue_callbacks LIMIT 1").fetchone() is not None


def _filters(filters: Filters, queue: str, where: list[str], args: dict[str, Any]) -> None:
    """The report's filters on rows whose call is `t.call_id` and whose queue is `queue`."""
    if filters.queue is not None:
        where.append(f"{queue} = :queue")
        args["queue"] = filters.queue
    if filters.flow is not None:
        where.append("EXISTS (SELECT 1 FROM calls c WHERE c.call_id = t.call_id "
                     "AND +c.flow = :flow)")
        args["flow"] = filters.flow
    if filters.agent is not None:
        where.append("EXISTS (SELECT 1 FROM agent_legs a WHERE a.call_id = t.call_id "
                     "AND +a.agent = :agent)")
        args["agent"] = filters.agent


def queue_choices(db: sqlite3.Connection, window: Any, filters: Filters) -> Section:
    """Per queue, the keys callers pressed to leave it while waiting: the
    choices of its `queue NAME` node visits (the per-node sections' rows),
    with the wait before the key, which is the visit's length."""
    where, args = ["t.node_kind = 'queue'", "t.choice IS NOT NULL"], {}
    window.where("t.entered_ms", where, args)
    _filters(filters, "substr(t.node, 7)", where, args)  # the node is `queue NAME`
    sql = ("SELECT substr(t.node, 7) AS queue, t.choice AS key, count(*), "
           "round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY t.node), 1), "
           "CAST(round(avg(t.duration_ms)) AS INTEGER) "
           f"FROM node_visits t WHERE {' AND '.join(where)} "
           "GROUP BY t.node, t.choice ORDER BY queue, count(*) DESC, key")
    return Section("queue_choices", "In-queue choices", (
        Column("queue", "Queue", "text"),
        Column("key", "Key", "text"),
        Column("times", "Times"),
        Column("pct", "Share %", "pct"),
        Column("avg_waited_ms", "Avg wait before", "ms"),
    ), tuple(tuple(r) for r in db.execute(sql, args).fetchall()))


def callbacks(db: sqlite3.Connection, window: Any, filters: Filters) -> Section:
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
    _filters(filters, "t.queue", where, args)
    done = "t.status = 'done'"
    sql = ("SELECT t.queue, count(*), "
           f"sum({done}), sum(t.status = 'failed'), sum(t.status = 'given_up'), "
           "sum(t.status IN ('pending', 'dialling')), "
           f"round(100.0 * sum({done}) / nullif(count(*), 0), 1), sum(t.attempts), "
           f"CAST(round(avg(CASE WHEN {done} THEN t.ended_ms - t.requested_ms END)) "
           "AS INTEGER), "
           f"max(CASE WHEN {done} THEN t.ended_ms - t.requested_ms END) "
           f"FROM queue_callbacks t {'WHERE ' + ' AND '.join(where) if where else ''} "
           "GROUP BY t.queue ORDER BY count(*) DESC, t.queue")
    return Section("callbacks", "In-queue call-backs", columns,
                   tuple(tuple(r) for r in db.execute(sql, args).fetchall()))
