"""What a report over pruned times must say: `ccf store prune` kept the rollups, not the rows.

Reads meta only: must not change a report's figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from ccdsl.runtime.operations.centre_time import ZoneError, local_to_ms, zone_named
from ccdsl.runtime.operations.reports.model import Report
from ccdsl.runtime.operations.reports.rolled import aligned
from ccdsl.runtime.operations.reports.rolled_sections import within_column
from ccdsl.runtime.operations.reports.sql import Window
from ccdsl.runtime.operations.rollup import QUARTER_MS


def pruned_before_ms(db) -> int | None:
    """The latest `ccf store prune --before` of the store (UTC ms), None if never pruned."""
    row = db.execute("SELECT value FROM meta WHERE key = 'pruned_before_ms'").fetchone()
    return int(row[0]) if row and str(row[0]).lstrip("-").isdigit() else None


def _zone(report: Report) -> tzinfo:
    try:
        return zone_named(report.zone)
    except ZoneError:  # the machine's zone, known only by its name now (`UTC+08:00`)
        return datetime.now().astimezone().tzinfo or UTC


def _rows_read(report: Report, zone: tzinfo) -> list[str]:
    """Why the report reads figures from the rows, not the rollups alone: a filter the
    rollups do not carry, a service-level threshold they do not count, or a range (or zone)
    whose edges are not whole UTC quarter hours (rolled_sections.py)."""
    reasons = [f"--{name} {value}" for name, value in (("queue", report.filters.queue),
                                                         ("agent", report.filters.agent))
               if value]
    if within_column(report.options.within_ms) is None and \
            any(s.name in ("queues", "service") for s in report.sections):
        reasons.append(f"--within {report.options.within_ms / 1000:g}")
    edges = [local_to_ms(edge, zone) for edge in (report.filters.start, report.filters.end)
             if edge]
    if any(ms % QUARTER_MS for ms in edges):
        reasons.append("a range not on whole quarter hours")
    elif len(edges) == 2 and not aligned(zone, Window(*edges)):
        reasons.append(f"hours in {report.zone} not on UTC quarter hours")
    return reasons


def pruned_note(report: Report) -> str | None:
    """A warning when the report reaches into pruned time and reads figures from the calls'
    own rows there (_rows_read; docs/operations.md "Retention"): those calls are gone."""
    horizon_ms = report.pruned_before_ms
    if horizon_ms is None:
        return None
    zone = _zone(report)
    start = report.filters.start
    if start is not None:
        if local_to_ms(start, zone) >= horizon_ms:
            return None
    reasons = _rows_read(report, zone)
    if not reasons:
        return None
    horizon = datetime.fromtimestamp(horizon_ms / 1000, UTC).astimezone(zone)
    return (f"calls that ended before {horizon.isoformat(timespec='minutes')} were pruned "
            f"(ccf store prune): with {' and '.join(reasons)} some figures over that time are "
            "read from the calls' own rows, which are gone, and leave those calls out; the "
            "rollups kept the totals (give no --queue/--agent and whole quarter hours for "
            "them)")
