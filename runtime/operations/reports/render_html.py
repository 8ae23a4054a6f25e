"""The report as one self-contained HTML file: inline CSS, the tables, and
SVG charts drawn by runtime/operations/reports/svg.py. No script, no external file,
nothing fetched: it opens the same offline, attached to a mail, printed, on a phone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TypeVar

from ccdsl.runtime.operations.reports import svg
from ccdsl.runtime.operations.reports.display import duration, heading, show
from ccdsl.runtime.operations.reports.model import Report, Section

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1400px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; }
h3 { font-size: 1em; margin-top: 1.2em; }
dl { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.2em 1em; }
dt { color: #666; }
dd { margin: 0; overflow-wrap: anywhere; }
.wide { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin-top: 0.8em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; }
th { background: #f3f3f3; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
p.empty { color: #666; }
figure { margin: 1em 0; }
svg { max-width: 100%; height: auto; display: block; }
svg.chart { width: 100%; max-width: 640px; }
td:first-child { white-space: nowrap; }
.graph { overflow: auto; max-width: 100%; border: 1px solid #eee; }
@media (max-width: 600px) { body { margin: 0.6em; } th, td { padding: 0.2em 0.4em; } }
"""

NUMBER = ' class="n"'  # numbers are right-aligned
MAX_ROWS = 25  # bars across: the first ones only beyond this
# a tick of a duration axis: whole seconds, minutes, hours
DURATION_STEPS = tuple(s * 1000 for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
                                           1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400))


def duration_tick(ms: float) -> str:
    """A tick of a time axis, a whole number of seconds, minutes or hours."""
    for unit, name in ((3_600_000, "h"), (60_000, "min"), (1000, "s")):
        if ms >= unit and ms % unit == 0:
            return f"{ms / unit:g} {name}"
    return f"{ms / 1000:g} s" if ms else "0"


def _periods(labels: list[str]) -> tuple[list[str], str]:
    """Hours (or minutes) of one day as `HH:MM`, the day said once in the title."""
    days = {label[:10] for label in labels}
    if len(days) == 1 and all(len(label) == 16 for label in labels):
        return [label[11:] for label in labels], f", {days.pop()}"
    return labels, ""


def _across(section: Section, labels: list[str], series: list[tuple[str, list]],
            **kw) -> str:
    title = section.title
    if len(labels) > MAX_ROWS:
        title = f"{title} (the first {MAX_ROWS} of {len(labels)})"
        labels = labels[:MAX_ROWS]
        series = [(name, values[:MAX_ROWS]) for name, values in series]
        if kw.get("totals") is not None:
            kw["totals"] = kw["totals"][:MAX_ROWS]
    return svg.bars_across(title, labels, series, **kw)


def _rest(whole: list, parts: list[list]) -> list:
    """What the parts leave of the whole, per row."""
    return [(w or 0) - sum(p[i] or 0 for p in parts) for i, w in enumerate(whole)]


def chart(section: Section) -> str:
    """The section's chart, or "" for sections without one (summary) or without rows."""
    if not section.rows:
        return ""
    col = section.column
    name = section.name
    if name in ("calls", "service"):
        labels, day = _periods([str(v) for v in col("period")])
        title = f"{section.title}{day}"
        if name == "service":
            return svg.trend(title, labels, [("service level %", col("service_level_pct")),
                                             ("abandon rate %", col("abandoned_pct"))])
        answered, abandoned = col("answered"), col("abandoned")
        return svg.columns(title, labels, [
            ("answered by an agent", answered), ("abandoned", abandoned),
            ("ended otherwise", _rest(col("calls"), [answered, abandoned]))])
    if name == "queues":
        parts = [col("answered"), col("abandoned"), col("timeout"), col("empty")]
        series = list(zip(("answered", "abandoned", "timed out", "no agents"), parts,
                          strict=True))
        other = _rest(col("offered"), parts)
        if any(other):  # visits still open, or handed back at shutdown
            series.append(("open or handed back", other))
        return _across(section, col("queue"), series)
    if name == "agents":
        return _across(section, col("agent"), [("answered", col("answered")),
                                               ("missed", col("missed")),
                                               ("caller hung up", col("caller_gone"))])
    if name == "agent_time":
        totals = [f"occupancy {show('pct', o)}" for o in col("occupancy_pct")]
        return _across(section, col("agent"), [
            ("ready", col("ready_ms")), ("paused", col("paused_ms")),
            ("ringing", col("ringing_ms")), ("on a call", col("talk_ms")),
            ("wrap-up", col("wrapup_ms"))], show=duration, integer=False,
            steps=DURATION_STEPS, totals=totals, tick=duration_tick)
    if name == "nodes":
        rows = [r for r in section.records() if r["kind"] != "handler"]
        return _across(section, [r["node"] for r in rows], [
            ("went on", [r["visits"] - r["dropped"] for r in rows]),
            ("caller hung up", [r["dropped"] for r in rows])]) if rows else ""
    if name in ("choices", "queue_choices"):
        first, second = ("node", "choice") if name == "choices" else ("queue", "key")
        labels = [f"{a}: {b}" for a, b in zip(col(first), col(second), strict=True)]
        return _across(section, labels, [("times", col("times"))])
    if name == "callbacks":
        return _across(section, col("queue"), [
            ("completed", col("completed")), ("failed", col("failed")),
            ("given up", col("given_up")), ("open", col("open"))])
    return ""


def one_day(section: Section) -> tuple[list[str], list[list[str]]]:
    """The section's column titles and rows as shown; periods of one day
    as `HH:MM`, the day said once in the first column's title."""
    titles = [c.title for c in section.columns]
    rows = [[show(c.kind, v) for c, v in zip(section.columns, row, strict=True)]
            for row in section.rows]
    if section.name in ("calls", "service") and rows:
        labels, day = _periods([row[0] for row in rows])
        if day:
            titles[0] = f"{titles[0]} ({day[2:]})"
            rows = [[label, *row[1:]] for label, row in zip(labels, rows, strict=True)]
    return titles, rows


def title_id(section: Section, suffix: str | None = None) -> str:
    """The id of the section's heading (suffix None), or of its part's (the nodes' h3s):
    a table is named by them (aria-labelledby), as a screen reader announces it."""
    own = "" if suffix is None else suffix or "-steps"
    return f"title-{section.name}{own}"


def table(section: Section, rows: list[tuple] | None = None, suffix: str = "",
          named: str | None = None) -> str:
    """The section's table (or its part's rows), named by `named` (ids of headings) or by
    the section's heading."""
    if rows is None:
        titles, shown = one_day(section)
    else:
        titles = [c.title for c in section.columns]
        shown = [[show(c.kind, v) for c, v in zip(section.columns, row, strict=True)]
                 for row in rows]
    if not shown:
        return '<p class="empty">Nothing in this range.</p>'
    head = "".join(f'<th scope="col">{escape(t)}</th>' for t in titles)
    body = []
    for row in shown:
        cells = "".join(
            f"<td{'' if c.kind == 'text' else NUMBER}>{escape(v)}</td>"
            for c, v in zip(section.columns, row, strict=True))
        body.append(f"<tr>{cells}</tr>")
    return (f'<div class="wide"><table id="table-{section.name}{suffix}" '
            f'aria-labelledby="{named or title_id(section)}"><thead><tr>{head}'
            f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def figures(section: Section) -> str:
    """The summary: one figure a line, which reads on a phone as on a screen."""
    body = "".join(f'<tr><th scope="row">{escape(c.title)}</th>'
                   f"<td{'' if c.kind == 'text' else NUMBER}>"
                   f"{escape(show(c.kind, v))}</td></tr>"
                   for c, v in zip(section.columns, section.rows[0], strict=True))
    return (f'<div class="wide"><table id="table-{section.name}" '
            f'aria-labelledby="{title_id(section)}"><tbody>{body}</tbody></table></div>')


T = TypeVar("T")

# the node section's tables, apart: steps (menus among them), waits in queues, handlers
NODE_KINDS = (("step", "Steps and menus", ""), ("queue", "Waits in queues", "-queue"),
              ("handler", "Handlers (on start, on hangup, ...)", "-handler"))


def node_parts(section: Section, shown: Sequence[T]) -> list[tuple[str, str, list[T]]]:
    """The nodes section apart by kind (NODE_KINDS): (suffix, title, those of `shown`, the
    section's rows or them as shown, whose row is of the kind); the steps even when none."""
    kind = [c.key for c in section.columns].index("kind")
    parts = []
    for name, title, suffix in NODE_KINDS:
        part = [s for s, row in zip(shown, section.rows, strict=True) if row[kind] == name]
        if part or name == "step":
            parts.append((suffix, title, part))
    return parts


def _nodes(section: Section) -> list[str]:
    return [html for suffix, title, rows in node_parts(section, section.rows)
            for html in (f'<h3 id="{title_id(section, suffix)}">{escape(title)}</h3>',
                         table(section, rows, suffix,
                               f"{title_id(section)} {title_id(section, suffix)}"))]


NO_STATES = ("<p class=\"empty\">No agent states recorded: the console records them when "
             "agents log in to it (<code>ccf serve</code>); a simulation has none.</p>")


def render(report: Report, *,
           graphs: Mapping[str, tuple[str, str]] = {}) -> str:  # noqa: B006 (never mutated)
    """The page. `graphs`: flow name to (what its traffic counts, in words;
    its graph as inline SVG markup, already safe to embed), each shown as a
    section "Flow NAME" after the nodes."""
    facts = "".join(f"<dt>{escape(what)}</dt><dd>{escape(str(value))}</dd>"
                    for what, value in heading(report))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>Call report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Call report</h1>", f"<dl>{facts}</dl>"]
    names = [s.name for s in report.sections]
    flows = [f'<section class="flow" id="flow-{escape(flow)}"><h2>Flow {escape(flow)}</h2>'
             f'<p class="covers">{escape(counts)}</p><div class="graph">{markup}</div></section>'
             for flow, (counts, markup) in graphs.items()]
    for section in report.sections:
        parts.append(f'<section id="{section.name}">'
                     f'<h2 id="{title_id(section)}">{escape(section.title)}</h2>')
        drawn = chart(section)
        if drawn:
            parts.append(f"<figure>{drawn}</figure>")
        if section.name == "summary" and section.rows:
            parts.append(figures(section))
        elif section.name == "nodes":
            parts += _nodes(section)
        else:
            parts.append(table(section))
        parts.append("</section>")
        if section.name == "agents" and "agent_time" not in names and not report.agent_states:
            parts.append(f"<section id=\"agent_time\"><h2>Agents' time in state</h2>"
                         f"{NO_STATES}</section>")
        if section.name == "nodes":
            parts += flows
            flows = []
    parts += flows  # no nodes section: the flows at the end
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
