"""Values as people read them, for the table and HTML renderings (CSV and
JSON keep the plain numbers)."""

from __future__ import annotations

from typing import Any

from ccdsl.runtime.core.durations import clock_text
from ccdsl.runtime.operations.reports.model import Kind, Report

NONE = "-"  # no value: nothing to average, no calls to take a share of


def show(kind: Kind, value: Any) -> str:
    if value is None:
        return NONE
    if kind == "ms":
        return duration(value)
    if kind == "pct":
        return f"{value:.1f}%"
    if kind == "count":
        return f"{value:,}"
    return str(value)


def duration(ms: int | float) -> str:
    """12.3 s under a minute, else m:ss or h:mm:ss."""
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return clock_text(int(round(ms / 1000)))


def heading(report: Report) -> list[tuple[str, str]]:
    """What the report covers, as (what, value) pairs."""
    f, o = report.filters, report.options
    span = (f"{report.covers[0]} to {report.covers[1]} {report.zone}" if report.covers
            else "no calls")
    if o.interval == "realtime":
        covers = f"the last {o.minutes} minutes, per minute: {span}"
    else:
        covers = f"{span}, per {o.interval}"
    items = [("store", report.store), ("covers", covers), ("time zone", report.zone),
             ("service level", f"answered within {o.within_ms / 1000:g} s")]
    items += [(name, value) for name, value in (("flow", f.flow), ("queue", f.queue),
                                                 ("agent", f.agent)) if value]
    items.append(("made", report.generated))
    return items
