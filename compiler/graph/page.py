"""A flow graph as one self-contained HTML page: the flow's name, the store's range when
traffic is shown, a legend, and the SVG Graphviz drew (passed in: this never runs dot).
Inline CSS, no script, nothing fetched; every word from the flow escaped. The graph
fits the page's width, or, unticked, shows at its own size and scrolls in its box.
"""

from __future__ import annotations

import re
from html import escape

from ccdsl.compiler.graph.dot import NODE_STYLE
from ccdsl.compiler.graph.labels import KIND_NAMES, plural, title
from ccdsl.compiler.graph.model import FlowGraph

STYLE = """
* { box-sizing: border-box; }
body { font-family: sans-serif; margin: 0; padding: 1em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 0.3em; overflow-wrap: anywhere; }
p { margin: 0.3em 0; overflow-wrap: anywhere; }
.graph { overflow: auto; max-width: 100%; max-height: 85vh; border: 1px solid #ddd;
         border-radius: 4px; margin: 0.4em 0 1em; -webkit-overflow-scrolling: touch; }
.graph svg { display: block; max-width: none; }
/* the whole flow at once, shrunk to the page's width; unticked, at its own size (its
   11-point text at 11 px) scrolling in its box: a checkbox, since the page has no script */
#fit:checked ~ .graph { max-height: none; }
#fit:checked ~ .graph svg { max-width: 100%; height: auto; }
.view { margin: 0.6em 0; }
.view label { font-size: 0.95em; cursor: pointer; }
.view .hint { color: #666; font-size: 0.85em; }
ul.legend { list-style: none; padding: 0; margin: 0.5em 0; display: flex; flex-wrap: wrap;
            gap: 0.4em 1.2em; font-size: 0.9em; }
ul.legend li { display: flex; align-items: center; gap: 0.4em; }
.swatch { display: inline-block; width: 1.6em; height: 1em; border: 1px solid; }
.line { display: inline-block; width: 2em; border-top: 2px solid #444; }
"""
_FILL = re.compile(r'fillcolor="([^"]+)" color="([^"]+)"')
# what the arrows mean: (CSS of the sample line, words)
ARROWS = (
    ("solid #444", "goto"),
    ("solid #a07800", "menu key"),
    ("dashed #a07800", "timeout, invalid, exhausted; after a key, the flow goes on"),
    ("solid #2e7d32", "route, and a routing rule's queue line"),
    ("dashed #2e7d32", "a routing rule's otherwise"),
    ("dotted #c62828", "on error"),
    ("dashed #777", "calls a sub-flow"),
    ("solid #b23c17", "joins a queue"),
)


_SIZE = re.compile(r'<svg width="[^"]*" height="[^"]*"')
_VIEW = re.compile(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"')


def inline_svg(svg: str) -> str:
    """Graphviz's SVG without its XML declaration, DOCTYPE and comments,
    to sit inside an HTML page, one unit a CSS pixel: its 11-point text
    reads at 11 px, and a flow wider than the page scrolls in its box
    rather than shrinking out of reach."""
    start = svg.find("<svg")
    body = re.sub(r"<!--.*?-->", "", svg[start:] if start >= 0 else svg, flags=re.S).strip()
    view = _VIEW.search(body)
    if view:
        width, height = (round(float(v)) for v in view.groups())
        body = _SIZE.sub(f'<svg width="{width}px" height="{height}px"', body, count=1)
    return body


def legend(graph: FlowGraph) -> str:
    used = {n.kind for n in graph.nodes}
    items = []
    for kind, words in KIND_NAMES.items():
        if kind not in used:
            continue
        fill, stroke = _FILL.search(NODE_STYLE[kind]).groups()
        items.append(f'<li><span class="swatch" style="background:{fill};border-color:'
                     f'{stroke}"></span>{escape(words)}</li>')
    items.extend(f'<li><span class="line" style="border-top:2px {css}"></span>'
                 f"{escape(words)}</li>" for css, words in ARROWS)
    if graph.traffic is not None:
        items.append('<li><span class="line" style="border-top:6px solid #444"></span>'
                     "thicker: more calls; (N): calls that went that way</li>")
    return f'<ul class="legend">{"".join(items)}</ul>'


def covers(graph: FlowGraph) -> str:
    """What the traffic covers, in words ("" without traffic)."""
    traffic = graph.traffic
    if traffic is None:
        return ""
    only = f" {traffic.only}" if traffic.only else ""
    if not traffic.calls or traffic.covers is None:
        return f"Traffic: no call of this flow{only} in the call store for this range."
    first, last = traffic.covers
    zone = f" {traffic.zone}" if traffic.zone else ""
    return (f"Traffic: {plural(traffic.calls, 'call')}{only}, from {first} to {last}"
            f"{zone}.")


def render_page(graph: FlowGraph, svg: str) -> str:
    name = escape(title(graph))
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{name} (flow graph)</title>", f"<style>{STYLE}</style></head><body>",
             f"<h1>{name}</h1>", f"<p>{escape(graph.path)}</p>"]
    if graph.traffic is not None:
        parts.append(f'<p class="covers">{escape(covers(graph))}</p>')
    # the graph first, where a phone's screen starts; what its colours mean below it
    parts.append('<div class="view"><input type="checkbox" id="fit" checked> '
                 '<label for="fit">Fit the flow to the page</label> <span class="hint">'
                 "(untick: its own size, scrolling in its box)</span>"
                 f'<div class="graph">{inline_svg(svg)}</div></div>')
    parts.append(legend(graph))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
