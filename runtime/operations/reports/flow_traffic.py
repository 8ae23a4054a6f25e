"""One flow's traffic from the call store, for `ccf graph --store`: per node its visits
and drop-offs and the choices made there (the report's `nodes` and `choices` sections),
and the calls that went from each node to the next. Reads only; never writes the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ccdsl.runtime.operations.centre_time import report_zone, zone_name
from ccdsl.runtime.operations.reports import rolled_sections
from ccdsl.runtime.operations.reports.model import Filters
from ccdsl.runtime.operations.reports.query import (
    ReportError,
    calls_where,
    choices,
    nodes,
    open_store,
)
from ccdsl.runtime.operations.reports.sql import Window, fetch_rows, visit_query
from ccdsl.runtime.operations.rollup import PREVIOUS


@dataclass(frozen=True)
class FlowTraffic:
    """visits: node -> (visits, dropped); choices: (node, choice) -> times
    it was the visit's last choice; transitions: (node, next node) ->
    calls; first and last: the first and last call's start as local
    `YYYY-MM-DD HH:MM` in `zone` (the store's, as the report shows it), None
    with no call; calls: how many calls."""

    visits: dict[str, tuple[int, int]]
    choices: dict[tuple[str, str], int]
    transitions: dict[tuple[str, str], int]
    first: str | None
    last: str | None
    calls: int
    zone: str = "UTC"


def flow_traffic(path: str, flow: str, since: datetime | None = None,
                 until: datetime | None = None, *, since_text: str | None = None,
                 queue: str | None = None, agent: str | None = None) -> FlowTraffic:
    """The traffic of the calls of `flow` in the call store at `path`,
    from `since` on, or from the moment a --since text `since_text` names, read
    in the store's zone (since.since_in, as `ccf calls list` reads it), up to
    `until` (excluded; None: unbounded); with `queue` or `agent`, only the
    calls that joined that queue or were offered to that agent (the
    report's --queue and --agent). A store that cannot be read, or a
    --since that cannot: reports.ReportError. `since` and `since_text` are
    one start said two ways: both given is a caller's mistake (ValueError)."""
    from ccdsl.runtime.operations.since import QueryError, since_in

    if since is not None and since_text is not None:
        raise ValueError("flow_traffic: since or since_text, not both")
    filters = Filters(flow=flow, queue=queue, agent=agent)
    db = open_store(path)
    try:
        zone = report_zone(db, None)
        try:
            start = since_in(since_text, zone) if since_text is not None else since
        except QueryError as exc:
            raise ReportError(str(exc)) from None
        window = Window(int(start.timestamp() * 1000) if start else None,
                        int(until.timestamp() * 1000) if until else None)
        return _read(db, window, filters, zone)
    finally:
        db.close()


def _local(stored: str | None, zone: tzinfo) -> str | None:
    """A stored start (ISO 8601 with its offset) as the report writes one."""
    if stored is None:
        return None
    try:
        return datetime.fromisoformat(stored).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stored


def _read(db: sqlite3.Connection, window: Window, filters: Filters,
          zone: tzinfo) -> FlowTraffic:
    src = rolled_sections.source(db, window, filters)
    per_node = nodes(db, window, filters, src).records()
    made = choices(db, window, filters, src).records()
    rows = None if src is None else rolled_sections.transitions(src)
    if rows is None:
        # the node a visit came from: its call's visits read through their primary key
        sql, args = visit_query("node_visits", "node", "entered_ms",
                                f"{PREVIOUS} AS previous, t.node, count(*)", window, filters,
                                None, "GROUP BY previous, t.node")
        rows = fetch_rows(db, sql, args)
    moves = {(prev, node): n for prev, node, n in rows if prev}
    where, args = calls_where(window, filters)
    first, last, count = db.execute(
        f"SELECT min(t.started), max(t.started), count(*) FROM calls t{where}", args).fetchone()
    visits: dict[str, tuple[int, int]] = {}
    for row in per_node:  # a step and a queue of one name are two kinds: added up
        seen, dropped = visits.get(row["node"], (0, 0))
        visits[row["node"]] = (seen + row["visits"], dropped + (row["dropped"] or 0))
    return FlowTraffic(visits, {(r["node"], r["choice"]): r["times"] for r in made}, moves,
                       _local(first, zone), _local(last, zone), count, zone_name(zone))
