"""The graph of a checked flow: its handlers, steps, menus and their keys, routing rules
and their lines, queues, sub-flows and used modules, from the AST and the control-flow
facts (compiler/controlflow.py). A pure function of the program; never reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ccdsl import ast
from ccdsl.compiler import controlflow as cf
from ccdsl.compiler.format_expr import format_expr, format_option_value
from ccdsl.compiler.formatter import rule_line
from ccdsl.compiler.graph.model import HANDLERS, MAIN, SUBS, Edge, FlowGraph, Node
from ccdsl.compiler.lower import HANDLER_KEYS, display_path
from ccdsl.compiler.program import Program
from ccdsl.compiler.sub_calls import called_sub

LABEL_MAX = 48  # an expression in a label is cut to this many characters


@dataclass(frozen=True)
class _At:
    """Where the statements being walked send their edges from, and what
    those edges carry: the label (a menu key, a condition), the store's
    keys of the step they run in, the menu choices that lead there."""

    source: str
    origins: tuple[str, ...]
    label: str = ""
    choices: tuple[str, ...] = ()
    choice_node: str | None = None

    def labelled(self, more: str) -> _At:
        return replace(self, label=f"{self.label}; {more}" if self.label else more)


@dataclass
class _Out:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    routed: dict[str, list[str]] = field(default_factory=dict)  # routing -> origins


def short(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def flow_graph(program: Program) -> FlowGraph:
    """The graph of the program's entry flow. The program must have
    passed the checks (the control-flow facts assume it)."""
    entry = program.entry_module
    module = entry.module
    path = display_path(entry)
    routings = cf.routings_of(module)
    queues = [i.name for i in module.items if isinstance(i, ast.QueueDecl)]
    out = _Out()
    flow = next((i for i in module.items if isinstance(i, ast.FlowDecl)), None)

    def add(node: Node) -> str:
        out.nodes.setdefault(node.id, node)
        return node.id

    def edge(at: _At, target: str, kind: str, line: int, label: str | None = None,
             origins: tuple[str, ...] | None = None) -> None:
        out.edges.append(Edge(at.source, target, kind, at.label if label is None else label,
                              line, at.origins if origins is None else origins, at.choices,
                              at.choice_node))

    def end(kind: str, label: str, line: int, group: str = MAIN, details=()) -> str:
        return add(Node(f"{kind}:{path}:{line}", kind, label, tuple(details), path, line,
                        group))

    # ---- the declarations, in source order ------------------------------------------
    for item in module.items:
        line = item.span.line
        if isinstance(item, ast.Use):
            name = ".".join(item.path)
            key = entry.imports.get(item.local_name)
            loaded = program.modules.get(key) if key else None
            add(Node(f"module:{name}", "module", f"use {name}",
                     (display_path(loaded),) if loaded else (), path, line, f"use {name}"))
        elif isinstance(item, ast.Handler):
            event = HANDLER_KEYS.get(item.event_name, item.event_name)
            store_key = None if event == "answered_by_agent" else f"on {event}"
            add(Node(f"handler:{item.event_name}", "handler", f"on {item.event_name}", (),
                     path, line, HANDLERS, store_key))
        elif isinstance(item, ast.Step):
            add(Node(f"step:{item.name}", "step", item.name, (), path, line, MAIN, item.name))
        elif isinstance(item, ast.Routing):
            lines = tuple(f"{n}. " + (short(rule_line(r)) if isinstance(r, ast.Rule)
                                      else "otherwise") for n, r in enumerate(item.rules, 1))
            add(Node(f"routing:{item.name}", "routing", item.name, lines, path, line, MAIN))
        elif isinstance(item, ast.QueueDecl):
            details = tuple(short(f"{o.name} {format_option_value(o.value)}")
                            for o in item.options)
            add(Node(f"queue:{item.name}", "queue", f"queue {item.name}", details, path,
                     line, MAIN, f"queue {item.name}"))
        elif isinstance(item, ast.Sub):
            add(Node(f"sub:{item.name}", "sub", f"{item.name}({', '.join(item.params)})", (),
                     path, line, SUBS))

    # ---- walking the bodies -----------------------------------------------------------
    def calls(exprs: Sequence, at: _At) -> None:
        for call in (n for e in exprs for n in ast.walk(e) if isinstance(n, ast.Call)):
            found = called_sub(program, program.entry, call)
            if found is None:
                continue
            key, sub = found
            loaded = program.modules[key]
            if key == program.entry:
                target = f"sub:{sub.name}"
            else:
                target = add(Node(f"sub:{loaded.name}.{sub.name}", "sub",
                                  f"{loaded.name}.{sub.name}", (), display_path(loaded),
                                  sub.span.line, f"use {loaded.name}"))
            edge(at, target, "call", call.span.line)

    def on_error(stmt, at: _At) -> None:
        handler = getattr(stmt, "on_error", None)
        if handler is not None:
            body((handler.action,), at.labelled("on error"), kind="error")

    def body(stmts: Sequence, at: _At, kind: str = "goto") -> None:
        for index, stmt in enumerate(stmts):
            line = stmt.span.line
            if isinstance(stmt, ast.Goto):
                edge(at, f"step:{stmt.target}", kind, line)
            elif isinstance(stmt, ast.Hangup):
                edge(at, end("hangup", "hang up", line), kind, line)
            elif isinstance(stmt, ast.Return):
                edge(at, end("return", "return", line, SUBS), kind, line)
            elif isinstance(stmt, ast.Transfer):
                calls((stmt.target,), at)
                label = short(f"transfer {stmt.kind} {format_expr(stmt.target)}")
                edge(at, end("transfer", label, line), kind, line)
            elif isinstance(stmt, ast.Voicemail):
                calls((stmt.target,), at)
                label = short(f"voicemail for {format_expr(stmt.target)}")
                edge(at, end("voicemail", label, line), kind, line)
            elif isinstance(stmt, ast.Route):
                route(stmt, at)
            elif isinstance(stmt, ast.Enqueue):
                targets = [stmt.queue] if stmt.queue else queues
                label = at.label or ("" if stmt.queue else
                                     short(f"queue {format_expr(stmt.value)}"))
                for name in targets:
                    edge(at, f"queue:{name}", "queue", line, label)
            elif isinstance(stmt, ast.Menu):
                menu(stmt, stmts[index + 1:], at)
                return  # what follows a menu runs only after some of its arms
            elif isinstance(stmt, ast.If):
                calls([c for c, _ in stmt.branches], at)
                for number, (cond, branch) in enumerate(stmt.branches):
                    word = "if" if number == 0 else "elif"
                    body(branch, at.labelled(short(f"{word} {format_expr(cond)}")), kind)
                if stmt.orelse is not None:
                    body(stmt.orelse, at.labelled("else"), kind)
            elif isinstance(stmt, ast.Match):
                calls((stmt.subject,), at)
                for arm in stmt.arms:
                    patterns = ", ".join(cf.pattern_text(p) for p in arm.patterns)
                    body(arm.body, at.labelled(short(patterns)), kind)
            elif isinstance(stmt, (ast.Repeat, ast.ForEach)):
                calls((stmt.times if isinstance(stmt, ast.Repeat) else stmt.items,), at)
                body(stmt.body, at, kind)
            else:
                calls((stmt,) if getattr(stmt, "on_error", None) is None
                      else _without_on_error(stmt), at)
            if not isinstance(stmt, ast.Route):
                on_error(stmt, at)
            if cf.is_terminal(stmt, routings):
                return

    def route(stmt: ast.Route, at: _At) -> None:
        line = stmt.span.line
        if stmt.target in routings:
            targets = [stmt.target]
        elif stmt.target in queues:
            edge(at, f"queue:{stmt.target}", "queue", line)
            on_error(stmt, at)
            return
        else:  # a rule chosen when the call runs may be any of them
            targets = sorted(routings)
            at = at.labelled(short(f"route {format_expr(stmt.value)}")) if stmt.value else at
        for name in targets:
            edge(at, f"routing:{name}", "route", line)
            out.routed.setdefault(name, []).extend(at.origins)
        on_error(stmt, at)

    def menu(stmt: ast.Menu, rest: Sequence, at: _At) -> None:
        line = stmt.span.line
        details = tuple(short(f"{o.name} {format_option_value(o.value)}")
                        for o in stmt.all_options)
        node = add(Node(f"menu:{path}:{line}", "menu", "menu", details, path, line,
                        out.nodes[at.source].group))
        calls([o.value for o in stmt.all_options], at)
        edge(at, node, "menu", line)
        chosen = at.origins[0] if len(at.origins) == 1 else None
        going_on: list[str] = []
        for arm in stmt.arms:
            keys = tuple(_choice(p) for p in arm.patterns)
            label = ", ".join(cf.pattern_text(p) for p in arm.patterns)
            inside = _At(node, at.origins, label, keys, chosen)
            is_path = all(k in ("timeout", "invalid") for k in keys)
            if is_path and not cf.body_ends(arm.body, routings):
                # the menu is played again while retries remain
                edge(inside, node, "path", arm.span.line, f"{label}: again")
            body(arm.body, inside, "path" if is_path or keys == ("exhausted",) else "key")
            if not is_path and not cf.body_ends(arm.body, routings):
                going_on.extend(keys)
        if cf.menu_path_arm(stmt, "exhausted") is None:
            going_on.append("exhausted")
        if going_on and rest:
            body(rest, _At(node, at.origins, "after " + ", ".join(going_on),
                           tuple(going_on), chosen), "continue")

    for item in module.items:
        if isinstance(item, ast.Handler):
            node = out.nodes[f"handler:{item.event_name}"]
            body(item.body, _At(node.id, (node.key,) if node.key else ()))
        elif isinstance(item, ast.Step):
            body(item.body, _At(f"step:{item.name}", (item.name,)))
        elif isinstance(item, ast.Sub):
            body(item.body, _At(f"sub:{item.name}", ()))
        elif isinstance(item, ast.QueueDecl):
            for press in item.keys:
                at = _At(f"queue:{item.name}", (f"queue {item.name}",), f"press {press.key}",
                         (press.key,), f"queue {item.name}")
                body(press.body, at, "key")

    # ---- routing rules: their queue lines and `otherwise`, from every step routing there
    for name, routing in routings.items():
        origins = tuple(dict.fromkeys(_routed_from(name, out.routed, routings)))
        at = _At(f"routing:{name}", origins)
        for number, rule in enumerate(routing.rules, 1):
            if isinstance(rule, ast.Rule) and rule.kind == "queue" and isinstance(
                    rule.target, ast.Name) and rule.target.id in queues:
                edge(at, f"queue:{rule.target.id}", "line", rule.span.line,
                     f"{number}. queue {rule.target.id}")
            elif isinstance(rule, ast.Otherwise):
                body((rule.action,), at.labelled("otherwise"), "otherwise")

    nodes = tuple(out.nodes.values())
    known = {n.id for n in nodes}
    edges = tuple(dict.fromkeys(e for e in out.edges if e.target in known))
    return FlowGraph(flow.name if flow else module.path, flow.title.raw
                     if flow and flow.title else None, path, nodes, edges)


def _routed_from(name: str, routed: dict[str, list[str]], routings) -> list[str]:
    """The steps a routing rule is reached from: those routing to it, and
    those routing to a rule whose `otherwise` routes on to it."""
    seen: set[str] = set()
    pending = [name]
    found: list[str] = []
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        found.extend(routed.get(current, ()))
        for other, routing in routings.items():
            otherwise = cf.otherwise_of(routing)
            if otherwise is not None and any(
                    isinstance(n, ast.Route) and n.target == current
                    for n in ast.walk(otherwise.action)):
                pending.append(other)
    return found


def _choice(pattern) -> str:
    """A menu pattern as the store writes the choice: the key (`1`, `*`)
    or the path's name (`timeout`)."""
    if isinstance(pattern, ast.Str):
        return pattern.raw
    return cf.pattern_text(pattern)


def _without_on_error(stmt) -> tuple:
    """The expressions of a statement, leaving out its `on error` action
    (walked on its own, with its label)."""
    names = [n for n in stmt.__dataclass_fields__ if n not in ("span", "on_error")]
    return tuple(getattr(stmt, n) for n in names if not isinstance(getattr(stmt, n), str))
