"""What a report over pruned times must say: `ccf store prune` kept the rollups, not the rows.

Reads meta only: must not change a report's figures.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from ccdsl.runtime.operations.centre_time import ZoneError, zone_named
from ccdsl.runtime.operations.reports.model import Report


def pruned_before_ms(db) -> int | None:
    """The latest `ccf store prune --before` of the store (UTC ms), None if never pruned."""
    row = db.execute("SELECT value FROM meta WHERE key = 'pruned_before_ms'").fetchone()
    return int(row[0]) if row and str(row[0]).lstrip("-").isdigit() else None


def _zone(report: Report) -> tzinfo:
    try:
        return zone_named(report.zone)
    except ZoneError:  # the machine's zone, known only by its name now (`UTC+08:00`)
        return datetime.now().astimezone().tzinfo or UTC


def pruned_note(report: Report) -> str | None:
    """A warning when the report reaches into pruned time and reads figures from the calls'
    own rows there: with a --queue or --agent filter, or in a zone whose days are not UTC's
    (the agent and node rollups are kept per UTC day; docs/operations.md "Retention")."""
    horizon_ms = report.pruned_before_ms
    if horizon_ms is None:
        return None
    zone = _zone(report)
    start = report.filters.start
    if start is not None:
        begins = datetime.fromisoformat(start).replace(tzinfo=zone)
        if begins.timestamp() * 1000 >= horizon_ms:
            return None
    reasons = [f"--{name} {value}" for name, value in (("queue", report.filters.queue),
                                                         ("agent", report.filters.agent))
               if value]
    if datetime.now(zone).utcoffset() or report.zone != "UTC":
        reasons.append(f"days in {report.zone}, not UTC")
    if not reasons:
        return None
    horizon = datetime.fromtimestamp(horizon_ms / 1000, UTC).astimezone(zone)
    return (f"calls that ended before {horizon.isoformat(timespec='minutes')} were pruned "
            f"(ccf store prune): with {' and '.join(reasons)} some figures over that time are "
            "read from the calls' own rows, which are gone, and leave those calls out; the "
            "rollups kept the totals (give --zone UTC and no --queue/--agent for them)")
