"""Reports on the call store (`ccf report`): the figures as plain SQL
aggregations (query.py), the report as plain data (model.py), and its
renderings (render_text.py, render_data.py, render_html.py). Every figure
is defined in docs/reports.md. Never writes to the call store.
"""

from __future__ import annotations

from datetime import datetime

from ccdsl.runtime.operations.reports.model import SECTIONS, Filters, Options, Report
from ccdsl.runtime.operations.reports.query import ReportError, open_store, sections

__all__ = ["ReportError", "make_report"]


def make_report(path: str, filters: Filters = Filters(), options: Options = Options(),
                wanted: tuple[str, ...] = SECTIONS, now: datetime | None = None) -> Report:
    """The report of the call store at `path`. `now` (aware) ends the
    realtime window; default: the current time."""
    now = now or datetime.now().astimezone()
    db = open_store(path)
    try:
        made = sections(db, filters, options, wanted, now)
    finally:
        db.close()
    return Report(store=path, generated=datetime.now().astimezone().isoformat(timespec="seconds"),
                  filters=filters, options=options, sections=made)
