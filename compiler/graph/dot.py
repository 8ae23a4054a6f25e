"""A flow graph as Graphviz DOT text: handlers, the flow, its sub-flows and each used
module in boxes of their own; arrows as thick as their traffic. Plain text; never runs dot.
"""

from __future__ import annotations

from ccdsl.compiler.graph.labels import (
    drawn_edges,
    edge_text,
    group_title,
    heaviest,
    node_lines,
    one_line,
    shown,
    title,
    width,
)
from ccdsl.compiler.graph.model import MAIN, FlowGraph, Node

FONT = "Helvetica"
# kind -> node attributes (shape, colours)
NODE_STYLE = {
    "handler": 'shape=box style="rounded,filled" fillcolor="#e6dcf5" color="#6a4c93"',
    "step": 'shape=box style="rounded,filled" fillcolor="#dbe9f7" color="#2c5d8f"',
    "menu": 'shape=box style="filled" fillcolor="#fff1c4" color="#a07800"',
    "routing": 'shape=box style="filled" fillcolor="#dcf1dc" color="#2e7d32"',
    "queue": 'shape=cylinder style="filled" fillcolor="#fde0dc" color="#b23c17"',
    "sub": 'shape=component style="filled" fillcolor="#eeeeee" color="#555555"',
    "module": 'shape=tab style="filled" fillcolor="#f7f7f7" color="#555555"',
    "hangup": 'shape=oval style="filled" fillcolor="#f1f1f1" color="#777777" fontsize=9',
    "transfer": 'shape=oval style="filled" fillcolor="#f1f1f1" color="#777777" fontsize=9',
    "voicemail": 'shape=oval style="filled" fillcolor="#f1f1f1" color="#777777" fontsize=9',
    "return": 'shape=oval style="filled" fillcolor="#f1f1f1" color="#777777" fontsize=9',
}
# edge kind -> attributes
EDGE_STYLE = {
    "goto": "",
    "key": 'color="#a07800"',
    "menu": 'color="#a07800" arrowhead=none',
    "path": 'style=dashed color="#a07800"',
    "continue": 'style=dashed',
    "route": 'color="#2e7d32"',
    "line": 'color="#2e7d32"',
    "otherwise": 'style=dashed color="#2e7d32"',
    "error": 'style=dotted color="#c62828" fontcolor="#c62828"',
    "call": 'style=dashed color="#777777" arrowhead=empty',
    "queue": 'color="#b23c17"',
}


def quoted(text: str) -> str:
    """A DOT string with `text` shown as is: backslashes doubled (DOT reads
    \\n, \\l, \\N, \\G... in labels), quotes escaped, control characters
    made spaces (a newline in a name must not end the string)."""
    return '"' + one_line(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(lines: list[str]) -> str:
    # each line kept apart with DOT's own \n (written after escaping the text)
    return "\\n".join(quoted(x)[1:-1] for x in lines)


def _node(index: int, node: Node) -> str:
    tooltip = quoted(f"{node.label} ({node.kind}) at {node.file}:{node.line}")[1:-1]
    return (f'    n{index} [label="{_label(node_lines(node))}" tooltip="{tooltip}" '
            f'{NODE_STYLE[node.kind]}];')


def render_dot(graph: FlowGraph) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    out = [f"digraph {quoted(graph.flow)} {{",
           f"    graph [label={quoted(title(graph))} labelloc=t fontname=\"{FONT}\" "
           'fontsize=16 rankdir=TB nodesep=0.25 ranksep=0.45 newrank=true];',
           f'    node [fontname="{FONT}" fontsize=11 margin="0.15,0.06"];',
           f'    edge [fontname="{FONT}" fontsize=10 color="#444444"];']
    for number, group in enumerate(graph.groups):
        members = shown(graph, group)
        if group == MAIN:
            out.extend(_node(i, n) for i, n in members)
            continue
        out.append(f"    subgraph cluster_{number} {{")
        heading = quoted(group_title(graph, group))
        out.append(f'        graph [label={heading} style="rounded,dashed" color="#999999" '
                   'fontsize=12];')
        out.extend("    " + _node(i, n) for i, n in members)
        out.append("    }")
    top = heaviest(graph)
    for edge in drawn_edges(graph):
        attrs = [EDGE_STYLE.get(edge.kind, "")]
        text = edge_text(edge)
        if text:
            attrs.append(f"label={quoted(text)}")
        if edge.count is not None:
            attrs.append(f"penwidth={width(edge, top)}")
        attrs.append(f"tooltip={quoted(f'{text or edge.kind} at line {edge.line}')}")
        out.append(f"    {ids[edge.source]} -> {ids[edge.target]} "
                   f"[{' '.join(a for a in attrs if a)}];")
    out.append("}")
    return "\n".join(out) + "\n"
