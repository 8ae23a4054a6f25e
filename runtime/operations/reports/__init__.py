"""Reports on the call store (`ccf report`): the figures as plain SQL
aggregations (query.py), the report as plain data (model.py), and its
renderings (render_text.py, render_data.py, render_html.py). Every figure
is defined in docs/reports.md. Never writes to the call store.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from ccdsl.runtime.operations.centre_time import ZoneError, report_zone, zone_name
from ccdsl.runtime.operations.reports.agent_time import has_states
from ccdsl.runtime.operations.reports.in_queue import IN_QUEUE_SECTIONS, has_rows
from ccdsl.runtime.operations.reports.model import (
    SECTIONS,
    STATE_SECTIONS,
    Filters,
    Options,
    Report,
)
from ccdsl.runtime.operations.reports.pruned import pruned_before_ms
from ccdsl.runtime.operations.reports.query import ReportError, open_store, sections

__all__ = ["ReportError", "ZoneError", "make_report"]


def make_report(path: str, filters: Filters = Filters(), options: Options = Options(),
                wanted: tuple[str, ...] | None = None, now: datetime | None = None) -> Report:
    """The report of the call store at `path`, in `options.zone` (else the
    store's zone, else the machine's). `wanted`: the sections by name;
    None: every one, the agents' states' (STATE_SECTIONS) only when the
    store has such states, the in-queue ones (IN_QUEUE_SECTIONS) only when
    it has such choices or call-backs. `options.interval` `auto`: the one the range
    calls for, which the report's options then name. `now` ends the realtime window and the agents'
    open states (naive: in the report's zone); default: the current time.
    A zone that is not one: ZoneError."""
    db = open_store(path)
    try:
        if wanted is None:
            # the agents' states and the in-queue sections only where the centre has them
            wanted = tuple(s for s in SECTIONS
                           if (s not in STATE_SECTIONS or has_states(db))
                           and (s not in IN_QUEUE_SECTIONS or has_rows(db, s)))
        zone = report_zone(db, options.zone)
        now = (now or datetime.now(zone)) if now is None or now.tzinfo else now.replace(
            tzinfo=zone)
        made, options, span = sections(db, filters, options, wanted, now, zone)
        recorded = has_states(db)
        horizon = pruned_before_ms(db)
    finally:
        db.close()
    covers = None if span is None else (_local(span.lo, zone), _local(span.hi, zone))
    return Report(store=path, generated=datetime.now(zone).isoformat(timespec="seconds"),
                  filters=filters, options=options, sections=made, zone=zone_name(zone),
                  covers=covers, agent_states=recorded, pruned_before_ms=horizon)


def _local(ms: int | None, zone: tzinfo) -> str:
    assert ms is not None
    return datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M")
