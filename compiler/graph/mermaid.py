"""A flow graph as a Mermaid flowchart (for Markdown that renders Mermaid): the same
boxes and groups as the DOT rendering, traffic in the labels and the arrows' widths.
Plain text; every word from the flow goes through `text` (Mermaid entity codes).
"""

from __future__ import annotations

from ccdsl import json_text
from ccdsl.compiler.graph.labels import (
    drawn_edges,
    drawn_ids,
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

# kind -> (opening, closing) of its shape
SHAPES = {
    "handler": ('(["', '"])'), "step": ('("', '")'), "menu": ('{{"', '"}}'),
    "routing": ('[/"', '"/]'), "queue": ('[("', '")]'), "sub": ('[["', '"]]'),
    "module": ('>"', '"]'), "hangup": ('(("', '"))'), "transfer": ('(["', '"])'),
    "voicemail": ('(["', '"])'), "return": ('(("', '"))'),
}
CLASSES = {
    "handler": "fill:#e6dcf5,stroke:#6a4c93", "step": "fill:#dbe9f7,stroke:#2c5d8f",
    "menu": "fill:#fff1c4,stroke:#a07800", "routing": "fill:#dcf1dc,stroke:#2e7d32",
    "queue": "fill:#fde0dc,stroke:#b23c17", "sub": "fill:#eeeeee,stroke:#555555",
    "module": "fill:#f7f7f7,stroke:#555555", "hangup": "fill:#f1f1f1,stroke:#777777",
    "transfer": "fill:#f1f1f1,stroke:#777777", "voicemail": "fill:#f1f1f1,stroke:#777777",
    "return": "fill:#f1f1f1,stroke:#777777",
}
DASHED = ("path", "continue", "otherwise", "error", "call")
# Mermaid reads these inside a quoted label: its own entity codes keep them text
# (a quote would end the label, `#` start an entity, `<` HTML, `|` an edge's label,
# a backtick a Markdown string)
ENTITIES = {"&": "#amp;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;",
            "|": "#124;", "`": "#96;"}


def text(words: str) -> str:
    """Flow text inside a Mermaid quoted label, shown as written."""
    return "".join(ENTITIES.get(ch, ch) for ch in one_line(words))


def _node(index: int, node: Node) -> str:
    opening, closing = SHAPES[node.kind]
    label = "<br/>".join(text(x) for x in node_lines(node))
    return f"    n{index}{opening}{label}{closing}:::{node.kind}"


def render_mermaid(graph: FlowGraph) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    # the title is YAML front matter: a JSON string is a YAML double-quoted one
    out = ["---", f"title: {json_text.dumps(title(graph), ensure_ascii=False)}", "---",
           "flowchart TB"]
    for number, group in enumerate(graph.groups):
        members = shown(graph, group)
        if group == MAIN:
            out.extend(_node(i, n) for i, n in members)
            continue
        out.append(f'    subgraph g{number}["{text(group_title(graph, group))}"]')
        out.extend("    " + _node(i, n) for i, n in members)
        out.append("    end")
    top = heaviest(graph)
    styles = []
    for number, edge in enumerate(drawn_edges(graph)):
        arrow = "-.->" if edge.kind in DASHED else "-->"
        label = edge_text(edge)
        middle = f'{arrow}|"{text(label)}"|' if label else arrow
        out.append(f"    {ids[edge.source]} {middle} {ids[edge.target]}")
        if edge.count is not None:
            styles.append(f"    linkStyle {number} stroke-width:{width(edge, top)}px")
    out.extend(styles)
    drawn = drawn_ids(graph)
    used = {n.kind for n in graph.nodes if n.id in drawn}
    out.extend(f"    classDef {kind} {style}" for kind, style in CLASSES.items()
               if kind in used)
    return "\n".join(out) + "\n"
