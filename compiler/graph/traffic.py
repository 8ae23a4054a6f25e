"""A flow's graph with the call store's numbers on it: calls reaching each node, callers
who hung up there, and the calls that took each edge. A pure function of the graph and
plain counts (model.Traffic); the counts are read by runtime/operations/reports/flow_traffic.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from ccdsl.compiler.graph.model import Edge, FlowGraph, Node, Traffic


def with_traffic(graph: FlowGraph, traffic: Traffic) -> FlowGraph:
    """The graph with `calls`/`dropped` on its nodes and `count` on its
    edges. A node the store keeps visits of shows them (0 when no call
    reached it); a menu the choices made at it. An edge taken by a menu or
    queue choice counts those choices; one between two nodes the store
    keeps visits of counts the calls that went from the one to the other
    (shared by the arrows it cannot tell apart); an edge into a menu the
    choices made at it. Others (into a routing rule, sub-flow calls, hang-ups, transfers)
    carry no number: the store keeps no visits of them."""
    keys = {n.id: n.key for n in graph.nodes}

    def choices(edge: Edge) -> int:
        return sum(traffic.choices.get((edge.choice_node, c), 0) for c in edge.choices)

    def transitions(origins, target: str | None) -> int | None:
        if target is None or not origins:
            return None
        return sum(traffic.transitions.get((o, target), 0) for o in origins)

    counted: list[Edge] = []
    for edge in graph.edges:
        if edge.choices and edge.choice_node is not None:
            count = choices(edge)
        else:
            count = transitions(edge.origins, keys.get(edge.target))
        counted.append(replace(edge, count=count))
    # arrows from the same steps to the same node, not told apart by a choice,
    # share the one number the store has for them
    ways = Counter((e.origins, e.target) for e in counted
                   if e.count is not None and not e.choices)
    # each menu's choices counted once, for the menu and every edge into it
    menus = {n.id: _menu_calls(n, counted, traffic) for n in graph.nodes if n.kind == "menu"}
    edges = []
    for edge in counted:
        if edge.count is not None and not edge.choices:
            edge = replace(edge, shared=ways[(edge.origins, edge.target)])
        elif not edge.choices and edge.target in menus:
            edge = replace(edge, count=menus[edge.target])
        edges.append(edge)

    nodes: list[Node] = []
    for node in graph.nodes:
        if node.key is not None:
            calls, dropped = traffic.visits.get(node.key, (0, 0))
            node = replace(node, calls=calls, dropped=dropped)
        elif node.kind == "menu":
            node = replace(node, calls=menus[node.id])
        nodes.append(node)
    return replace(graph, nodes=tuple(nodes), edges=tuple(edges), traffic=traffic)


def _menu_calls(menu: Node, edges: list[Edge], traffic: Traffic) -> int | None:
    """The visits that ended with a choice at this menu: each choice of
    its arms (the store keeps the last choice of a step's visit)."""
    mine = {(e.choice_node, c) for e in edges if e.source == menu.id and e.choice_node
            for c in e.choices}
    if not mine:
        return None
    return sum(traffic.choices.get(k, 0) for k in mine)
