"""The Reports page's model: `ccf report` made for a range of the centre's days.

The figures and charts are the report's own (runtime/operations/reports: make_report,
render_html.chart's SVG, display.show); this module only picks the range and shapes the
sections for the template, which escapes every value (the SVG escapes its own labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from ccdsl.runtime.console.context import ConsoleContext

MAX_DAYS = 366


@dataclass(frozen=True)
class ReportView:
    since: str
    until: str
    error: str | None = None
    heading: tuple[tuple[str, str], ...] = ()
    sections: tuple[dict[str, Any], ...] = ()
    unreachable: bool = False  # the error is the store's (503), not the range asked for (400)


def day_of(text: str, fallback: date) -> date:
    text = (text or "").strip()
    if not text:
        return fallback
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a date (YYYY-MM-DD)") from None


def day_range(since_text: str, until_text: str, today: date) -> tuple[date, date, str | None]:
    """The centre's days a page was asked for (today by default; a `since` alone is that
    one day), and why they cannot be shown (None: they can)."""
    try:
        since = day_of(since_text, today)
        until = day_of(until_text, since if since_text and not until_text else today)
    except ValueError as exc:
        return today, today, str(exc)
    if until < since:
        return since, until, "the range ends before it starts"
    if until - since > timedelta(days=MAX_DAYS):
        return since, until, f"at most {MAX_DAYS} days at once"
    return since, until, None


def report_view(ctx: ConsoleContext, since_text: str, until_text: str,
                now: datetime) -> ReportView:
    from ccdsl.runtime.operations.reports import ReportError, ZoneError, make_report
    from ccdsl.runtime.operations.reports.display import heading
    from ccdsl.runtime.operations.reports.model import Options
    from ccdsl.runtime.operations.reports.options import OptionError, filters
    from ccdsl.runtime.operations.reports.query import StoreNeedsMending, StoreUnreachable
    from ccdsl.runtime.operations.reports.render_html import chart, node_parts, one_day

    zone = ctx.zone()
    since, until, error = day_range(since_text, until_text, now.astimezone(zone).date())
    keep = (since.isoformat(), until.isoformat())
    if error is not None:
        return ReportView(*keep, error)
    interval = "hour" if since == until else "day"
    options = Options(interval=interval, zone=getattr(zone, "key", None) or ctx.timezone)
    try:
        made = make_report(ctx.store.path, filters(*keep), options,
                           now=now.astimezone(zone))
    except StoreUnreachable as exc:
        return ReportView(*keep, f"{exc}; try again shortly", unreachable=True)
    except StoreNeedsMending as exc:  # the store's too (503), but no wait mends it
        return ReportView(*keep, str(exc), unreachable=True)
    except (OptionError, ReportError, ZoneError) as exc:
        return ReportView(*keep, str(exc))
    sections = []
    for section in made.sections:
        numeric = [c.kind != "text" for c in section.columns]
        titles, rows = one_day(section)  # a day's hours: the day once, in the heading
        # the summary reads down, one figure a line, as in the HTML report (a phone)
        figures = [(c.title, value, wide) for c, value, wide in
                   zip(section.columns, rows[0], numeric, strict=True)] \
            if section.name == "summary" and rows else []
        # steps and menus, waits in queues, handlers apart, as in the HTML report
        parts = node_parts(section, rows) if section.name == "nodes" else [("", "", rows)]
        sections.append({
            "name": section.name, "title": section.title,
            # our own SVG: every label in it is escaped by reports/svg.py
            "chart": Markup(chart(section)),
            "columns": titles, "numeric": numeric,
            "rows": rows, "figures": figures,
            "parts": [{"suffix": suffix, "title": title, "rows": part}
                      for suffix, title, part in parts]})
    facts = tuple((what, str(value)) for what, value in heading(made) if what != "store")
    return ReportView(*keep, None, facts, tuple(sections))
