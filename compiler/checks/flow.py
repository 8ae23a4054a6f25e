"""Paths through a flow: unreachable steps (W200), paths that end without
hangup, goto or transfer (E201), menu paths and keys (E202-E204), loops
that never wait for the caller (E205), statements after a terminal one
(W206) and the shape of routing rules (E207)."""

from __future__ import annotations

from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler import controlflow as cf
from ccdsl.compiler.chains import Chains
from ccdsl.compiler.in_queue import key_problems
from ccdsl.compiler.namespan import Sources, head_span, word_span
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.symbols import Scope, walk_statements
from ccdsl.diagnostics import Diagnostic, diagnostic, did_you_mean
from ccdsl.options import ROUTING_KINDS
from ccdsl.source import Span

MENU_KEYS = frozenset("0123456789*#")

TERMINAL_HELP = ("end the path with `hangup`, `goto STEP`, `transfer ...`, or `route R` where R "
                 "is a routing rule with an `otherwise` line; `queue`, `voicemail`, `play` and "
                 "sub-flow calls continue with the next statement")


# ---- the pass ----------------------------------------------------------------------


def check(program: Program, scopes, analysis) -> Iterator[Diagnostic]:
    sources = program.sources()
    for key, loaded in program.modules.items():
        # the analysis's own: what is_terminal found there is kept with it
        routings = analysis.context.routings(loaded)
        waits = _waits_predicate(program, loaded)
        yield from _routing_rules(loaded, sources)
        yield from _menus_and_matches(loaded, scopes[key])
        yield from _after_terminal(loaded, routings, sources)
        yield from _open_paths(loaded, routings, sources)
        # each step's gotos, worked out once for the two checks that follow them
        steps = {i.name: i for i in loaded.module.items if isinstance(i, ast.Step)}
        step_jumps = {name: cf.jumps(step.body, routings, waits)
                      for name, step in steps.items()}
        yield from _unreachable_steps(loaded, routings, waits, step_jumps, sources)
        yield from _busy_loops(step_jumps, sources)
        yield from key_problems(loaded.module)


def _bodies(module: ast.Module) -> Iterator[tuple[str, object, tuple]]:
    """(description, declaration, body) of every step, handler and sub."""
    for item in module.items:
        if isinstance(item, ast.Step):
            yield f"step `{item.name}`", item, item.body
        elif isinstance(item, ast.Handler):
            yield f"`on {item.event_name}`", item, item.body
        elif isinstance(item, ast.Sub):
            yield f"sub-flow `{item.name}`", item, item.body
        elif isinstance(item, ast.QueueDecl):
            for press in item.keys:  # runs in the call, then the flow goes on after `queue`
                yield f"queue `{item.name}`'s key {press.key}", press, press.body


# ---- E207 routing rules ---------------------------------------------------------------


def _routing_rules(loaded: LoadedModule, sources: Sources) -> Iterator[Diagnostic]:
    for item in loaded.module.items:
        if not isinstance(item, ast.Routing):
            continue
        otherwise_seen: ast.Otherwise | None = None
        for rule in item.rules:
            if otherwise_seen is not None:
                yield diagnostic(
                    "E207", f"routing `{item.name}`: this line comes after `otherwise` and is "
                            "never tried", head_span(rule.span, sources),
                    help="`otherwise` must be the last line of a routing rule; move this line "
                         "above it",
                    notes=(f"`otherwise` is on line {otherwise_seen.span.line}",))
                continue
            if isinstance(rule, ast.Otherwise):
                otherwise_seen = rule
            elif rule.kind not in ROUTING_KINDS:
                hint = did_you_mean(rule.kind, ROUTING_KINDS)
                kinds = ", ".join(ROUTING_KINDS)
                yield diagnostic(
                    "E207", f"routing `{item.name}`: unknown kind of routing line `{rule.kind}`",
                    word_span(rule.span, rule.kind, sources),
                    help=f"{hint} the kinds are: {kinds}" if hint else f"the kinds are: {kinds}")


# ---- E202-E204 menus, E203 match arms ----------------------------------------------------


def _all_statements(module: ast.Module, scope: Scope) -> Iterator[object]:
    for _, _, body in _bodies(module):
        yield from scope.statements(body)
    for item in module.items:
        if isinstance(item, ast.Routing):
            for rule in item.rules:
                if isinstance(rule, ast.Otherwise):
                    yield from walk_statements((rule.action,))


def _menus_and_matches(loaded: LoadedModule, scope: Scope) -> Iterator[Diagnostic]:
    for stmt in _all_statements(loaded.module, scope):
        if isinstance(stmt, ast.Menu):
            yield from _menu(stmt)
        elif isinstance(stmt, ast.Match):
            yield from _duplicates(stmt.arms, "match pattern", "this `match`",
                                   _match_pattern_key)


def _menu(menu: ast.Menu) -> Iterator[Diagnostic]:
    keyword = Span(menu.span.file, menu.span.line, menu.span.column, menu.span.line,
                   menu.span.column + 4)
    missing = [name for name in ("timeout", "invalid") if cf.menu_path_arm(menu, name) is None]
    if missing:
        paths = " and ".join(f"`{m}`" for m in missing)
        noun = "path" if len(missing) == 1 else "paths"
        arm = ", ".join(missing)
        yield diagnostic(
            "E202", f"this menu has no {paths} {noun}", keyword,
            help=f"add an arm such as `{arm} -> play \"invalid-option\"`; it runs and the menu "
                 "asks again while retries remain",
            notes=("without it a caller who presses nothing, or a key the menu does not offer, "
                   "gets no answer",))
    for arm in menu.arms:
        for pattern in arm.patterns:
            problem = _menu_key_problem(pattern)
            if problem is not None:
                message, help_text = problem
                yield diagnostic("E204", message, pattern.span, help=help_text)
    yield from _duplicates(menu.arms, "menu key", "this menu", _menu_key)


def _menu_key_problem(pattern) -> tuple[str, str] | None:
    keys_help = ('a menu key is one digit 0-9 or the string "*" or "#"; the other paths are '
                 "`timeout`, `invalid` and `exhausted`")
    if isinstance(pattern, ast.Number):
        if pattern.text in MENU_KEYS:
            return None
        return f"`{pattern.text}` is not a menu key", keys_help
    if isinstance(pattern, ast.Str):
        if pattern.is_plain and len(pattern.value) == 1 and pattern.value in MENU_KEYS:
            return None
        return f"`\"{pattern.raw}\"` is not a menu key", keys_help
    if isinstance(pattern, ast.Name):
        if pattern.id in cf.MENU_PATHS:
            return None
        hint = did_you_mean(pattern.id, cf.MENU_PATHS)
        return (f"`{pattern.id}` is not a menu key or path",
                f"{hint} {keys_help}" if hint else keys_help)
    if isinstance(pattern, ast.ElsePattern):
        return ("a menu has no `else` arm",
                "use `invalid` for keys the menu does not offer and `timeout` for no key")
    return f"`{cf.pattern_text(pattern)}` is not a menu key", keys_help


def _menu_key(pattern) -> str | None:
    if isinstance(pattern, ast.Number) and pattern.text in MENU_KEYS:
        return pattern.text
    if isinstance(pattern, ast.Str) and pattern.is_plain:
        return pattern.value
    if isinstance(pattern, ast.Name):
        return pattern.id
    return None


def _match_pattern_key(pattern) -> str | None:
    if isinstance(pattern, ast.Number):
        return f"number {pattern.value!r}"
    if isinstance(pattern, ast.Str):
        return f"string {pattern.raw}" if pattern.is_plain else None
    if isinstance(pattern, ast.Name):
        return None  # a name's value is only known at run time
    return cf.pattern_text(pattern)


def _duplicates(arms, what: str, where: str, key_of) -> Iterator[Diagnostic]:
    seen: dict[str, object] = {}
    for arm in arms:
        for pattern in arm.patterns:
            key = key_of(pattern)
            if key is None:
                continue
            if key in seen:
                first = seen[key]
                yield diagnostic(
                    "E203", f"{what} `{cf.pattern_text(pattern)}` appears twice in {where}",
                    pattern.span,
                    help="only the first arm with it ever runs; remove this one or merge the two",
                    notes=(f"first used on line {first.span.line}",))
            else:
                seen[key] = pattern


# ---- W206 statements after a terminal statement -------------------------------------------


def _after_terminal(loaded: LoadedModule, routings, sources: Sources) -> Iterator[Diagnostic]:
    for _, _, body in _bodies(loaded.module):
        for stmts in cf.statement_lists(body):
            index = cf.first_terminal(stmts, routings)
            if index is None or index == len(stmts) - 1:
                continue
            ender = stmts[index]
            yield diagnostic(
                "W206", "this statement never runs", head_span(stmts[index + 1].span, sources),
                help="remove it, or move it before the statement that ends the path",
                notes=(f"line {ender.span.line} ends the path "
                       f"(`{_first_line(ender, sources)}`)",))


def _first_line(stmt, sources: Sources) -> str:
    span = head_span(stmt.span, sources)
    text = sources[span.file].line_text(span.line)
    return text[span.column - 1:span.end_column - 1].rstrip(":").strip()


# ---- E201 paths that end without a terminal statement -------------------------------------


def _open_paths(loaded: LoadedModule, routings, sources: Sources) -> Iterator[Diagnostic]:
    for where, decl, body in _bodies(loaded.module):
        if isinstance(decl, (ast.Sub, ast.QueueKey)):
            continue  # falling off a sub-flow's end is an implicit `return`; a key's: on
        if isinstance(decl, ast.Handler) and decl.event_name not in ("start", "error"):
            continue
        end = cf.open_end(body, routings)
        if end is None:
            continue
        if end.stmt is None:
            span = _decl_name_span(decl, sources)
        else:
            span = head_span(end.stmt.span, sources)
        yield diagnostic("E201", f"{where} can end without hangup, goto or transfer", span,
                         help=TERMINAL_HELP, notes=(end.how,))


def _decl_name_span(decl, sources: Sources) -> Span:
    if isinstance(decl, ast.Handler):
        return word_span(decl.span, decl.event[0], sources, skip=len("on"))
    keyword = "step" if isinstance(decl, ast.Step) else "sub"
    return word_span(decl.span, decl.name, sources, skip=len(keyword))


# ---- W200 unreachable steps ----------------------------------------------------------------


def _unreachable_steps(loaded: LoadedModule, routings, waits,
                       step_jumps: dict[str, list[cf.Jump]],
                       sources: Sources) -> Iterator[Diagnostic]:
    module = loaded.module
    handlers = [i for i in module.items if isinstance(i, ast.Handler)]
    if not any(h.event_name == "start" for h in handlers):
        return  # a library module: its steps are entered from elsewhere
    steps = {i.name: i for i in module.items if isinstance(i, ast.Step)}
    # every handler and sub-flow may run: their gotos are where reaching starts
    roots = [b for _, d, b in _bodies(module) if not isinstance(d, ast.Step)]
    reached: set[str] = set()
    pending = [j.target for body in roots for j in cf.jumps(body, routings, waits)]
    while pending:
        name = pending.pop()
        if name in reached or name not in steps:
            continue
        reached.add(name)
        pending.extend(j.target for j in step_jumps[name])
    for name, step in steps.items():
        if name not in reached:
            yield diagnostic(
                "W200", f"step `{name}` is never reached",
                _decl_name_span(step, sources),
                help=f"add `goto {name}` where the call should go there, or remove the step",
                notes=("steps are reached by `goto` (also in `on error ->` and menu arms, and "
                       "through a routing rule's `otherwise` line) starting from the handlers",))


# ---- E205 loops that never wait for the caller -----------------------------------------------


def _waits_predicate(program: Program, loaded: LoadedModule):
    """Whether a statement waits for the caller: a menu, collect or
    voicemail, or a call to a sub-flow whose body surely does."""
    # sub-flows call each other in chains as long as the flow makes them, and
    # one that calls itself does not surely wait
    memo: Chains[bool] = Chains(on_cycle=False)

    def sub_waits(module_key: str, name: str) -> bool:
        def compute() -> bool:
            target = program.modules.get(module_key)
            sub = None
            if target is not None:
                sub = next((i for i in target.module.items
                            if isinstance(i, ast.Sub) and i.name == name), None)
            return sub is not None and cf.body_waits(sub.body, lambda s: stmt_waits(s, target))

        return memo.get((module_key, name), compute)

    def stmt_waits(stmt, owner: LoadedModule) -> bool:
        if cf.stmt_waits(stmt):
            return True
        for call in _calls(stmt):
            resolved = _resolve_sub(call.func, owner, program)
            if resolved is not None and sub_waits(*resolved):
                return True
        return False

    # each statement is asked once per level of blocks around it: answer once
    known: dict[int, tuple[object, bool]] = {}

    def waits(stmt) -> bool:
        found = known.get(id(stmt))
        if found is None or found[0] is not stmt:
            found = known[id(stmt)] = (stmt, stmt_waits(stmt, loaded))
        return found[1]

    return waits


def _calls(stmt) -> list[ast.Call]:
    """The calls in a simple statement's expressions (not in nested
    blocks: those are statements of their own)."""
    if isinstance(stmt, ast.ExprStmt):
        root = stmt.expr
    elif isinstance(stmt, ast.Assign):
        root = stmt.value
    elif isinstance(stmt, ast.Return) and stmt.value is not None:
        root = stmt.value
    else:
        return []  # most statements: nothing to walk
    return [node for node in ast.walk(root) if isinstance(node, ast.Call)]


def _resolve_sub(func, owner: LoadedModule, program: Program) -> tuple[str, str] | None:
    path = ast.dotted(func)
    if path is None:
        return None
    if len(path) == 1:
        return owner.key, path[0]
    prefix = ".".join(path[:-1])
    key = owner.imports.get(prefix)
    if key is None:
        key = next((m.key for m in program.modules.values() if m.name == prefix), None)
    return (key, path[-1]) if key is not None else None


def _busy_loops(step_jumps: dict[str, list[cf.Jump]],
                sources: Sources) -> Iterator[Diagnostic]:
    # edges that can be taken without the caller being waited for (step_jumps has a key
    # for every step)
    edges: dict[str, list[cf.Jump]] = {
        name: [j for j in jumps if not j.waited and j.target in step_jumps]
        for name, jumps in step_jumps.items()}
    for component in _cycles(list(step_jumps),
                             {k: [j.target for j in v] for k, v in edges.items()}):
        cycle = _one_cycle(component, edges)
        if not cycle:
            continue
        closing = cycle[-1]
        names = [j.target for j in cycle]
        if len(names) == 1:
            message = (f"step `{names[0]}` can jump back to itself forever without waiting "
                       "for the caller")
        else:
            route = " -> ".join(f"`{n}`" for n in [names[-1], *names])
            message = f"the steps {route} can loop forever without waiting for the caller"
        yield diagnostic(
            "E205", message, head_span(closing.via.span, sources),
            help="wait for the caller on the loop (a `menu` or `collect`), or leave it after "
                 "a number of tries with `hangup`, `transfer` or a `goto` out of the loop",
            notes=("nothing on this loop asks the caller for anything, so when its conditions "
                   "do not change the call goes round it forever",))


def _cycles(nodes: list[str], graph: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with a cycle (Tarjan, without
    recursion so a long chain of steps cannot exhaust the stack), in the
    order of their first step."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, edge_index = work.pop()
            if edge_index == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph.get(node, [])
            if edge_index < len(successors):
                work.append((node, edge_index + 1))
                nxt = successors[edge_index]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, []):
                    found.append(component)
    order = {name: i for i, name in enumerate(nodes)}
    return sorted(([n for n in nodes if n in set(c)] for c in found),
                  key=lambda c: order[c[0]])


def _one_cycle(component: list[str], edges: dict[str, list[cf.Jump]]) -> list[cf.Jump]:
    """The shortest cycle through the first step of a component, as the
    jumps that make it; the last jump is the one that closes it."""
    members = set(component)
    start = component[0]
    came_from: dict[str, tuple[str, cf.Jump]] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for jump in edges[node]:
                if jump.target == start:
                    path = [jump]
                    while node != start:
                        node, back = came_from[node]
                        path.append(back)
                    return list(reversed(path))
                if jump.target in members and jump.target not in came_from:
                    came_from[jump.target] = (node, jump)
                    following.append(jump.target)
        frontier = following
    return []
