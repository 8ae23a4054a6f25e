"""The SQL the report's sections share: a window and the filters as conditions, the visit
tables read through their (key, time) index, and the figures' expressions.

Builds SQL text and runs a read; never writes to the store nor knows a section.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.operations.reports.model import Filters


@dataclass(frozen=True)
class Window:
    """The time a report covers: an indexed UTC ms range [lo, hi), None
    where unbounded."""

    lo: int | None = None
    hi: int | None = None

    def where(self, ms: str, out: list[str], args: dict[str, Any]) -> None:
        """Add this window's conditions on the ms column `ms`."""
        if self.lo is not None:
            out.append(f"{ms} >= :lo")
            args["lo"] = self.lo
        if self.hi is not None:
            out.append(f"{ms} < :hi")
            args["hi"] = self.hi


# per filter: the table holding its column, the alias of that table in the look-up, and the
# tables that have the column themselves
_FILTERED_BY = (
    ("flow", "calls", "c", ("calls",)),
    ("queue", "queue_visits", "q", ("queue_visits", "agent_legs", "queue_callbacks")),
    ("agent", "agent_legs", "a", ("agent_legs",)),
)


def call_filters(table: str, filters: Filters, out: list[str], args: dict[str, Any]) -> None:
    """Conditions keeping the rows of `table` (aliased t) whose call the
    filters keep: of the flow, that joined the queue, offered to the agent.
    Each is a look-up by call_id, the leading column of every table's key;
    the unary + keeps SQLite from reading the (queue, time) or (agent, time)
    index instead, every visit of the queue for every row."""
    for column, holder, alias, own in _FILTERED_BY:
        value = getattr(filters, column)
        if value is None:
            continue
        args[column] = value
        if table in own:
            out.append(f"t.{column} = :{column}")
        else:
            out.append(f"EXISTS (SELECT 1 FROM {holder} {alias} WHERE {alias}.call_id = "
                       f"t.call_id AND +{alias}.{column} = :{column})")


def _keys_sql(table: str, key: str) -> str:
    """The distinct non-NULL values of an indexed key column, by a loose
    index scan: one seek per value instead of reading the whole index."""
    return (f"WITH RECURSIVE keys(v) AS (SELECT (SELECT min({key}) FROM {table}) "
            f"UNION ALL SELECT (SELECT min({key}) FROM {table} WHERE {key} > keys.v) "
            "FROM keys WHERE keys.v IS NOT NULL) ")


def visit_query(table: str, key: str, ms: str, select: str, window: Window,
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
    window.where(f"t.{ms}", where, args)
    call_filters(table, filters, where, args)
    sql = f"{prefix}SELECT {select} FROM {table} t WHERE {' AND '.join(where)} {tail}"
    return sql, args


def fetch_rows(db: sqlite3.Connection, sql: str, args: dict) -> tuple[tuple, ...]:
    return tuple(tuple(r) for r in db.execute(sql, args).fetchall())


def avg_ms(expr: str) -> str:
    """A mean in whole ms (NULL when there is nothing to average)."""
    return f"CAST(round(avg({expr})) AS INTEGER)"


def pct(part: str, whole: str) -> str:
    return f"round(100.0 * ({part}) / nullif({whole}, 0), 1)"
