"""The words on a flow graph's boxes and arrows, the same in every rendering: the name,
the kind and source line, the details, the traffic. Plain text; each renderer escapes it.
"""

from __future__ import annotations

import os

from ccdsl.compiler.graph.model import Edge, FlowGraph, Node

# what each kind of node is called in the legend, in its order
KIND_NAMES = {
    "handler": "handler (on start, on hangup...)",
    "step": "step",
    "menu": "menu (its keys on the arrows)",
    "routing": "routing rule (its lines inside)",
    "queue": "queue",
    "sub": "sub-flow",
    "module": "module used (use)",
    "hangup": "hang up",
    "transfer": "transfer",
    "voicemail": "voicemail",
    "return": "return from a sub-flow",
}


def one_line(text: str) -> str:
    """Text from the flow on one line: control characters (newlines,
    tabs) become spaces, so no label can break a renderer's syntax."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


def where(node: Node) -> str:
    """file:line, the file by its name (the path is in the tooltip)."""
    return f"{os.path.basename(node.file)}:{node.line}"


def node_lines(node: Node) -> list[str]:
    """The lines of a node's box: its name, kind and source line, details,
    and with traffic its calls and drop-offs."""
    if node.label in (node.kind, "hang up"):
        lines = [f"{node.label} · {where(node)}"]
    else:
        lines = [node.label, f"{node.kind} · {where(node)}"]
    lines.extend(node.details)
    traffic = traffic_line(node)
    if traffic:
        lines.append(traffic)
    return [one_line(x) for x in lines]


def traffic_line(node: Node) -> str:
    if node.calls is None:
        return ""
    if node.kind == "menu":
        return f"{plural(node.calls, 'choice')} made"
    text = plural(node.calls, "call")
    if node.dropped:
        text += f" · {node.dropped} hung up here"
    return text


def edge_text(edge: Edge) -> str:
    text = one_line(edge.label)
    if edge.count is not None:
        count = (f"({edge.count})" if edge.shared == 1
                 else f"({edge.count} over {edge.shared} arrows)")
        text = f"{text} {count}" if text else count
    return text


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def heaviest(graph: FlowGraph) -> int:
    """The largest edge count (at least 1), which the thickest arrow shows."""
    return max([e.count for e in graph.edges if e.count] or [1])


def width(edge: Edge, top: int, thinnest: float = 1.0, thickest: float = 6.0) -> float:
    """An arrow's thickness: in proportion to its calls, with traffic."""
    if not edge.count:
        return thinnest
    return round(thinnest + (thickest - thinnest) * edge.count / top, 1)


def group_title(graph: FlowGraph, group: str) -> str:
    """A group's heading; a used module's names its `use` line."""
    for node in graph.nodes:
        if node.group == group and node.kind == "module":
            return one_line(f"{node.label} · {where(node)}")
    return group


def shown(graph: FlowGraph, group: str) -> list[tuple[int, Node]]:
    """The nodes drawn in a group, with their index in the graph: a used
    module's own node only when none of its sub-flows is called (its
    heading says the same)."""
    members = [(i, n) for i, n in enumerate(graph.nodes) if n.group == group]
    if len(members) > 1:
        members = [(i, n) for i, n in members if n.kind != "module"]
    return members


def drawn_ids(graph: FlowGraph) -> set[str]:
    """The ids of the nodes drawn (`shown`) in any group: an edge is drawn
    only between two of them."""
    return {n.id for group in graph.groups for _, n in shown(graph, group)}


def drawn_edges(graph: FlowGraph) -> list[Edge]:
    """The edges drawn: those between two drawn nodes, in the graph's order."""
    drawn = drawn_ids(graph)
    return [e for e in graph.edges if e.source in drawn and e.target in drawn]


def title(graph: FlowGraph) -> str:
    return one_line(f"{graph.flow}: {graph.title}" if graph.title else graph.flow)
