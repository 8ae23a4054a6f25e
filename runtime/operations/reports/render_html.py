"""The report as one self-contained HTML file: inline CSS, the tables, and
SVG charts drawn by runtime/operations/reports/svg.py. No script, no external file,
nothing fetched: it opens the same offline, attached to a mail, printed."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from ccdsl.runtime.operations.reports import svg
from ccdsl.runtime.operations.reports.display import heading, show
from ccdsl.runtime.operations.reports.model import Report, Section

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { color: #666; }
dd { margin: 0; }
table { border-collapse: collapse; margin-top: 0.8em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; }
th { background: #f3f3f3; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
p.empty { color: #666; }
svg { max-width: 100%; height: auto; }
"""

# the series each section's chart shows: (column key, legend)
CHART_SERIES = {
    "calls": (("calls", "calls"), ("answered", "answered by an agent"),
              ("abandoned", "abandoned")),
    "queues": (("offered", "offered"), ("answered", "answered"), ("abandoned", "abandoned")),
    "agents": (("answered", "answered"), ("missed", "missed")),
    "nodes": (("visits", "visits"), ("dropped", "dropped")),
    "choices": (("times", "times"),),
    "queue_choices": (("times", "times"),),
    "callbacks": (("requested", "requested"), ("completed", "completed"),
                  ("failed", "failed")),
}
NUMBER = ' class="n"'  # numbers are right-aligned
MAX_BARS = 40  # more labels than this: a line chart (calls) or the first ones only


def chart(section: Section) -> str:
    """The section's chart, or "" for sections without one (summary) or
    without rows."""
    wanted = CHART_SERIES.get(section.name)
    if not wanted or not section.rows:
        return ""
    if section.name == "queue_choices":
        labels = [f"{q}: {k}" for q, k in zip(section.column("queue"), section.column("key"),
                                               strict=True)]
    elif section.name == "choices":
        labels = [f"{n}: {c}" for n, c in zip(section.column("node"), section.column("choice"),
                                               strict=True)]
    else:
        labels = [str(v) for v in section.column(section.columns[0].key)]
    series = [(legend, section.column(key)) for key, legend in wanted]
    if section.name == "calls" and len(labels) > MAX_BARS:
        return svg.lines(section.title, labels, series)
    if len(labels) > MAX_BARS:
        labels = labels[:MAX_BARS]
        series = [(legend, values[:MAX_BARS]) for legend, values in series]
        return svg.bars(f"{section.title} (the first {MAX_BARS})", labels, series)
    return svg.bars(section.title, labels, series)


def table(section: Section) -> str:
    if not section.rows:
        return '<p class="empty">Nothing in this range.</p>'
    head = "".join(f"<th>{escape(c.title)}</th>" for c in section.columns)
    body = []
    for row in section.rows:
        cells = "".join(
            f"<td{'' if c.kind == 'text' else NUMBER}>{escape(show(c.kind, v))}</td>"
            for c, v in zip(section.columns, row, strict=True))
        body.append(f"<tr>{cells}</tr>")
    return (f'<table id="table-{section.name}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def render(report: Report, *, graphs: Mapping[str, str] | None = None) -> str:
    """The page; `graphs`: flow name -> its graph as inline SVG markup,
    already safe (ccf report --graph), each a section at the end."""
    facts = "".join(f"<dt>{escape(what)}</dt><dd>{escape(str(value))}</dd>"
                    for what, value in heading(report))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Call report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Call report</h1>", f"<dl>{facts}</dl>"]
    for section in report.sections:
        parts.append(f'<section id="{section.name}"><h2>{escape(section.title)}</h2>')
        drawn = chart(section)
        if drawn:
            parts.append(f'<figure>{drawn}</figure>')
        parts.append(table(section))
        parts.append("</section>")
    for name, markup in (graphs or {}).items():
        parts.append(f'<section class="flow-graph"><h2>Flow {escape(name)}</h2>'
                     f'<div style="overflow:auto;max-width:100%">{markup}</div></section>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
