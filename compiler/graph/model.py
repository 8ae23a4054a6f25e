"""A flow as a graph: immutable nodes and edges, with their source lines and (optionally)
their traffic. Plain data; built by compiler/graph/build.py, drawn by the renderers beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a node stands for; the renderers give each kind its shape and colour.
NODE_KINDS = ("handler", "step", "menu", "routing", "queue", "sub", "module", "hangup",
              "transfer", "voicemail", "return")
# Where a node is drawn: handlers, the flow's own sub-flows and each used module apart.
HANDLERS = "handlers"
MAIN = "flow"
SUBS = "sub-flows"


@dataclass(frozen=True)
class Node:
    """One box of the graph. `key` is what the call store calls it in its
    node visits (a step's name, `on start`, `queue NAME`), None when the
    store keeps no visits of it (menus, routing rules, sub-flows, ends)."""

    id: str  # unique in the graph: "step:main_menu", "menu:hotline.ccf:98"
    kind: str  # one of NODE_KINDS
    label: str  # the name as written: main_menu, on start, to_service
    details: tuple[str, ...]  # lines under the name: a routing rule's lines, a menu's prompt
    file: str
    line: int
    group: str  # MAIN, HANDLERS, SUBS, or `use NAME` of a module
    key: str | None = None
    calls: int | None = None  # with traffic: visits of the node
    dropped: int | None = None  # with traffic: callers who hung up there


@dataclass(frozen=True)
class Edge:
    """A way from one node to another: a goto, a menu key, a routing line,
    an `on error ->`, a sub-flow call. `origins` are the store's keys of the
    steps (or handlers) the edge's statement runs in; `choices` the menu or
    queue choices (as the store writes them: a key, timeout, invalid,
    exhausted) that take it, made at `choice_node`."""

    source: str
    target: str
    kind: str  # goto | key | path | continue | route | line | otherwise | error | call | queue
    label: str
    line: int
    origins: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    choice_node: str | None = None
    count: int | None = None  # with traffic: calls that went this way
    # with traffic: how many edges the count is of (two gotos from one step to one
    # step, under `if` and `else`: the store tells only that the call went there)
    shared: int = 1


@dataclass(frozen=True)
class Traffic:
    """What the call store says about a flow, as plain numbers: per node
    key (visits, dropped), per (node key, choice) the times it was the
    visit's last choice, per (node key, next node key) the calls that went
    from one to the other; `covers` the first and last call, as local text
    in `zone`; `only`: which calls were counted when not every call of the
    flow (such as "that joined queue sales"), else ""."""

    visits: dict[str, tuple[int, int]]
    choices: dict[tuple[str, str], int]
    transitions: dict[tuple[str, str], int]
    covers: tuple[str, str] | None = None
    calls: int = 0
    zone: str = ""
    only: str = ""


@dataclass(frozen=True)
class FlowGraph:
    flow: str
    title: str | None
    path: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    traffic: Traffic | None = None

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups in drawing order: the handlers (where a call starts) first, then
        the flow, its sub-flows, and the used modules as their `use` lines come."""
        found = dict.fromkeys(n.group for n in self.nodes)
        first = [g for g in (HANDLERS, MAIN, SUBS) if g in found]
        return (*first, *(g for g in found if g not in first))
