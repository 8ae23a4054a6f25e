"""Control-flow facts shared by the checks and the lowering; pure functions of the AST.

Which statements end a path (the termination rule of docs/language.md),
where a body jumps to, and whether the caller is waited for on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ccdsl import ast

Routings = Mapping[str, ast.Routing]

# names that stand for a menu's non-key paths
MENU_PATHS = ("timeout", "invalid", "exhausted")


class ModuleRoutings(dict):
    """The routing rules of a module by name, knowing the module's other
    declared names: `route NAME` of any other name is a value (a variable,
    a parameter, a constant) that may hold any of the rules. It also keeps
    what is_terminal found of each statement of the module, since the checks
    ask of the same statements again and again."""

    declared: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        # id(stmt) -> (stmt, is_terminal): the statement held, so its id stays its own
        self.terminal: dict[int, tuple[object, bool]] = {}


def routings_of(module: ast.Module) -> dict[str, ast.Routing]:
    """The routing rules a module declares, by name (the first of a
    duplicated name wins, as in the symbol table)."""
    out = ModuleRoutings()
    for item in module.items:
        if isinstance(item, ast.Routing):
            out.setdefault(item.name, item)
    out.declared = frozenset(getattr(i, "name", None) for i in module.items) - {None}
    return out


def _routes_a_value(stmt: ast.Route, routings: Routings) -> bool:
    """Whether a route names no declaration: `route rules[choice]`, or a bare
    name that is not a routing rule nor any other declaration of the module."""
    if not stmt.target:
        return True
    return isinstance(routings, ModuleRoutings) and stmt.target not in routings.declared


def otherwise_of(routing: ast.Routing) -> ast.Otherwise | None:
    for rule in routing.rules:
        if isinstance(rule, ast.Otherwise):
            return rule
    return None


def has_else(arms: Sequence[ast.Arm]) -> bool:
    return any(isinstance(p, ast.ElsePattern) for arm in arms for p in arm.patterns)


def menu_key_arms(menu: ast.Menu) -> tuple[ast.Arm, ...]:
    """The arms a key press selects: every arm that is not only made of
    the `timeout`, `invalid` and `exhausted` paths."""
    return tuple(arm for arm in menu.arms if not all(_is_path_name(p) for p in arm.patterns))


def menu_path_arm(menu: ast.Menu, name: str) -> ast.Arm | None:
    for arm in menu.arms:
        if any(isinstance(p, ast.Name) and p.id == name for p in arm.patterns):
            return arm
    return None


def _is_path_name(pattern) -> bool:
    return isinstance(pattern, ast.Name) and pattern.id in MENU_PATHS


def pattern_text(pattern) -> str:
    if isinstance(pattern, ast.Name):
        return pattern.id
    if isinstance(pattern, ast.Number):
        return pattern.text
    if isinstance(pattern, ast.Str):
        return f'"{pattern.raw}"'
    if isinstance(pattern, ast.Bool):
        return "true" if pattern.value else "false"
    if isinstance(pattern, ast.Null):
        return "null"
    return "else"


# ---- termination ----------------------------------------------------------------


def is_terminal(stmt, routings: Routings, _routes: frozenset[str] = frozenset()) -> bool:
    """Whether every path through this statement ends the flow's path (the
    statements after it can never run)."""
    memo = getattr(routings, "terminal", None) if not _routes else None
    if memo is None:
        return _is_terminal(stmt, routings, _routes)
    found = memo.get(id(stmt))
    if found is None or found[0] is not stmt:
        found = memo[id(stmt)] = (stmt, _is_terminal(stmt, routings, _routes))
    return found[1]


def _is_terminal(stmt, routings: Routings, _routes: frozenset[str]) -> bool:
    kind = _TERMINAL_KIND[type(stmt)]
    if kind is None:
        return False
    if kind == "ends":
        # `break` ends its path through the loop's body; the loop itself never
        # ends the path (its body may run no time), so what follows it runs
        return True
    if kind == "chain":
        return _chain_ends(stmt, routings, _routes)
    if kind == "if":
        return stmt.orelse is not None and all(
            body_ends(body, routings, _routes) for body in _if_bodies(stmt))
    if kind == "match":
        return has_else(stmt.arms) and all(
            body_ends(arm.body, routings, _routes) for arm in stmt.arms)
    exhausted = menu_path_arm(stmt, "exhausted")
    return (exhausted is not None and body_ends(exhausted.body, routings, _routes)
            and all(body_ends(arm.body, routings, _routes) for arm in menu_key_arms(stmt)))


_TERMINAL_KIND = ast.ClassTable((
    ((ast.Hangup, ast.Goto, ast.Return, ast.Break), "ends"),
    ((ast.Transfer, ast.Route), "chain"),
    (ast.If, "if"),
    (ast.Match, "match"),
    (ast.Menu, "menu"),
))


def body_ends(body: Sequence, routings: Routings, _routes: frozenset[str] = frozenset()) -> bool:
    return any(is_terminal(s, routings, _routes) for s in body)


def first_terminal(body: Sequence, routings: Routings) -> int | None:
    """The index of the first statement of a body that ends the path."""
    for index, stmt in enumerate(body):
        if is_terminal(stmt, routings):
            return index
    return None


def _if_bodies(stmt: ast.If) -> list[tuple]:
    bodies = [body for _, body in stmt.branches]
    if stmt.orelse is not None:
        bodies.append(stmt.orelse)
    return bodies


def _chain_ends(stmt, routings: Routings, routes: frozenset[str]) -> bool:
    """Whether a transfer or route ends the path: its `on error` action does,
    and for a route, the `otherwise` action of its routing rule (never
    reached again on the way). Followed with a list, not the stack: routing
    rules may route to each other in chains as long as the flow makes them."""
    pending = [(stmt, routes)]
    while pending:
        stmt, routes = pending.pop()
        if not isinstance(stmt, (ast.Transfer, ast.Route)):
            if not is_terminal(stmt, routings, routes):
                return False
            continue
        if stmt.on_error is not None:
            pending.append((stmt.on_error.action, routes))
        if isinstance(stmt, ast.Route):
            routing = routings.get(stmt.target)
            otherwise = otherwise_of(routing) if routing is not None else None
            if otherwise is None or stmt.target in routes:
                return False
            pending.append((otherwise.action, routes | {stmt.target}))
    return True


@dataclass(frozen=True)
class OpenEnd:
    """A path that ends without a terminal statement: the last statement
    on it (None for an empty body) and how the path gets there."""

    stmt: object | None
    how: str


def open_end(body: Sequence, routings: Routings) -> OpenEnd | None:
    """The first path through a body that does not end properly, or None
    when every path ends in a terminal statement."""
    if body_ends(body, routings):
        return None
    if not body:
        return OpenEnd(None, "the body is empty")
    return _stmt_open_end(body[-1], routings)


def _stmt_open_end(stmt, routings: Routings) -> OpenEnd:
    if isinstance(stmt, ast.If):
        for body in _if_bodies(stmt):
            found = open_end(body, routings)
            if found is not None:
                return found
        return OpenEnd(stmt, "when no condition of this `if` holds, nothing follows it")
    if isinstance(stmt, ast.Match):
        for arm in stmt.arms:
            found = open_end(arm.body, routings)
            if found is not None:
                return found
        return OpenEnd(stmt, "when no arm of this `match` applies (it has no `else` arm), "
                             "nothing follows it")
    if isinstance(stmt, ast.Menu):
        return _menu_open_end(stmt, routings)
    if isinstance(stmt, (ast.Repeat, ast.ForEach)):
        return OpenEnd(stmt, "when the loop ends (or its list is empty) the flow continues "
                             "past it, where nothing follows")
    on_error = getattr(stmt, "on_error", None)
    if on_error is not None and not is_terminal(on_error.action, routings):
        return OpenEnd(stmt, "when this statement fails, its `on error` action runs and the "
                             "flow continues after it, where nothing follows")
    if isinstance(stmt, ast.Route):
        return OpenEnd(stmt, _route_how(stmt, routings))
    if isinstance(stmt, ast.Enqueue):
        return OpenEnd(stmt, "a call leaves a queue after its max_wait and continues with the "
                             "next statement, where nothing follows")
    return OpenEnd(stmt, "nothing follows this statement")


def _menu_open_end(menu: ast.Menu, routings: Routings) -> OpenEnd:
    for arm in menu_key_arms(menu):
        found = open_end(arm.body, routings)
        if found is not None:
            keys = ", ".join(pattern_text(p) for p in arm.patterns)
            return OpenEnd(found.stmt, f"after menu key {keys} the flow continues past the "
                                       "menu, where nothing follows")
    exhausted = menu_path_arm(menu, "exhausted")
    if exhausted is None:
        return OpenEnd(menu, "when the caller uses up the menu's retries the flow continues "
                             "past the menu (it has no `exhausted` arm), where nothing follows")
    found = open_end(exhausted.body, routings)
    return OpenEnd(found.stmt if found else menu,
                   "after the menu's `exhausted` arm the flow continues past the menu, "
                   "where nothing follows")


def _route_how(stmt: ast.Route, routings: Routings) -> str:
    routing = routings.get(stmt.target)
    if routing is None:
        return (f"`route {stmt.target}` sends the call to a queue; after its max_wait the "
                "flow continues, where nothing follows")
    if otherwise_of(routing) is None:
        return (f"routing rule `{stmt.target}` has no `otherwise` line, so when no agent "
                "takes the call the flow continues, where nothing follows")
    return (f"the `otherwise` line of routing rule `{stmt.target}` does not end the path, "
            "so the flow continues after the route, where nothing follows")


# ---- jumps -------------------------------------------------------------------------


def stmt_waits(stmt) -> bool:
    """Statements that wait for the caller to act: a menu and a collect
    wait for keys, voicemail records until the caller stops talking."""
    return isinstance(stmt, (ast.Menu, ast.Collect, ast.Voicemail))


@dataclass(frozen=True)
class Jump:
    """A transfer of control to a step: `target` is the step's name, `via`
    the statement of the body that makes it (a goto, or a `route` whose
    routing rule's `otherwise` line jumps), `waited` whether the caller was
    surely waited for earlier on the path."""

    target: str
    via: object
    waited: bool


def jumps(body: Sequence, routings: Routings,
          waits: Callable[[object], bool] = stmt_waits) -> list[Jump]:
    """Every goto out of a body, in source order: plain gotos, `on error ->
    goto`, menu and match arms, and the `otherwise` gotos of the routing
    rules the body routes to."""
    out: list[Jump] = []
    _body_jumps(body, routings, waits, False, out)
    return out


def body_waits(body: Sequence, waits: Callable[[object], bool] = stmt_waits) -> bool:
    """Whether every path through a body waits for the caller."""
    return any(_surely_waits(stmt, waits) for stmt in body)


def _surely_waits(stmt, waits: Callable[[object], bool]) -> bool:
    if waits(stmt):
        return True
    kind = _WAIT_KIND[type(stmt)]
    if kind is None:
        return False
    if kind == "if":
        return stmt.orelse is not None and all(body_waits(b, waits) for b in _if_bodies(stmt))
    if kind == "match":
        return has_else(stmt.arms) and all(body_waits(arm.body, waits) for arm in stmt.arms)
    # a `for each` may go through an empty list
    return (isinstance(stmt.times, ast.Number) and stmt.times.value >= 1
            and body_waits(stmt.body, waits))


_WAIT_KIND = ast.ClassTable((
    (ast.If, "if"),
    (ast.Match, "match"),
    (ast.Repeat, "repeat"),
))


def _body_jumps(body, routings, waits, waited: bool, out: list[Jump]) -> None:
    for stmt in body:
        # most statements neither jump, nest nor have an `on error`: passed at once
        kind = _JUMP_KIND[type(stmt)]
        if kind == "goto":
            out.append(Jump(stmt.target, stmt, waited))
        elif kind is not None or getattr(stmt, "on_error", None) is not None:
            _stmt_jumps(stmt, stmt, routings, waits, waited, out, frozenset())
        # asked even once waited: a sub-flow's answer may depend on the order it is asked in
        if _surely_waits(stmt, waits):
            waited = True


def _stmt_jumps(stmt, via, routings, waits, waited: bool, out: list[Jump],
                routes: frozenset[str]) -> None:
    # `on error ->` and `otherwise ->` actions are followed with a list, in
    # the same order as depth first: routing rules may route to each other
    # in chains as long as the flow makes them; blocks nest at most 16 deep
    pending = [(stmt, via, waited, routes)]
    while pending:
        stmt, via, waited, routes = pending.pop()
        kind = _JUMP_KIND[type(stmt)]
        if kind == "goto":
            out.append(Jump(stmt.target, via, waited))
            continue
        on_error = getattr(stmt, "on_error", None)
        if kind is None and on_error is None:
            continue
        following = []
        if on_error is not None:
            # a collect fails only after it has waited for the caller
            failed_waited = waited or isinstance(stmt, ast.Collect)
            following.append((on_error.action, on_error.action, failed_waited, routes))
        if kind == "route":
            if stmt.target in routings and stmt.target not in routes:
                otherwise = otherwise_of(routings[stmt.target])
                if otherwise is not None:
                    following.append((otherwise.action, via, waited, routes | {stmt.target}))
            elif _routes_a_value(stmt, routings):
                # a rule chosen when the call runs may be any of them
                for name in sorted(set(routings) - routes):
                    otherwise = otherwise_of(routings[name])
                    if otherwise is not None:
                        following.append((otherwise.action, via, waited, routes | {name}))
        elif kind == "if":
            for body in _if_bodies(stmt):
                _body_jumps(body, routings, waits, waited, out)
        elif kind == "match":
            for arm in stmt.arms:
                _body_jumps(arm.body, routings, waits, waited, out)
        elif kind == "menu":
            for arm in stmt.arms:
                _body_jumps(arm.body, routings, waits, True, out)
        elif kind == "loop":
            # as in any body: waited for before the loop, or earlier in the body
            _body_jumps(stmt.body, routings, waits, waited, out)
        pending.extend(reversed(following))


_JUMP_KIND = ast.ClassTable((
    (ast.Goto, "goto"),
    (ast.Route, "route"),
    (ast.If, "if"),
    (ast.Match, "match"),
    (ast.Menu, "menu"),
    ((ast.Repeat, ast.ForEach), "loop"),
))


def statement_lists(body: Sequence) -> list[tuple]:
    """A body and every statement list nested in it (branches, arms), so
    a check can look at each sequence of statements once: depth first, a
    list before those nested in it."""
    out = []
    pending = [body]
    while pending:
        body = pending.pop()
        out.append(tuple(body))
        nested = []
        for stmt in body:
            kind = _NESTS[type(stmt)]
            if kind == "if":
                nested.extend(_if_bodies(stmt))
            elif kind == "arms":
                nested.extend(arm.body for arm in stmt.arms)
            elif kind == "body":
                nested.append(stmt.body)
        pending.extend(reversed(nested))
    return out


_NESTS = ast.ClassTable((
    (ast.If, "if"),
    ((ast.Match, ast.Menu), "arms"),
    ((ast.Repeat, ast.ForEach), "body"),
))
