"""The names a module declares: the first step of name resolution, type checking and lowering.

A plain function from a module to a scope; must not report diagnostics
(duplicates are the name check's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ccdsl import ast
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.source import Span

# what kind of thing each declaration makes
DECL_KINDS: dict[type, str] = {
    ast.Const: "constant",
    ast.Hours: "hours",
    ast.Prompt: "prompt",
    ast.QueueDecl: "queue",
    ast.Routing: "routing rule",
    ast.RecordDecl: "record type",
    ast.Step: "step",
    ast.Sub: "sub-flow",
}


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: str  # a value of DECL_KINDS, or "module", "variable", "parameter"
    node: object  # the declaring AST node (ast.Use for a module)
    module: str  # key of the module that declares it
    span: Span


@dataclass(frozen=True)
class Scope:
    """The top-level names of one module, its call variables (assigned in
    steps and handlers) and the first/second declaration of each name
    declared twice."""

    key: str
    symbols: dict[str, Symbol]
    variables: dict[str, tuple[Span, ...]]  # name -> every assignment
    duplicates: tuple[tuple[Symbol, Symbol], ...]
    handlers: dict[str, ast.Handler]
    # id(body) -> (body, walk_statements(body)): the passes walk the same bodies
    walked: dict[int, tuple[object, tuple]] = field(default_factory=dict, compare=False,
                                                    repr=False)

    def lookup(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def statements(self, body) -> tuple:
        """walk_statements(body), worked out once for a body of this module."""
        found = self.walked.get(id(body))
        if found is None or found[0] is not body:
            found = self.walked[id(body)] = (body, tuple(walk_statements(body)))
        return found[1]


def assigned_names(body) -> dict[str, list[Span]]:
    """Every name assigned (by `=`, `collect` or `for each`) anywhere in a
    statement list, including nested blocks and error paths, in source order."""
    return _assigned(walk_statements(body))


def _assigned(statements) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for stmt in statements:
        if isinstance(stmt, (ast.Assign, ast.Collect, ast.ForEach)):
            out.setdefault(stmt.name, []).append(stmt.span)
    return out


def walk_statements(body):
    """Every statement in a body, depth first, including branch bodies and
    the actions of `on error ->` and menu/match arms."""
    # a stack of iterators rather than nested generators: a statement deep in
    # blocks is handed up once, not once per level (the checks walk every body)
    stack = [iter(body)]
    while stack:
        for stmt in stack[-1]:
            yield stmt
            nested = nested_statements(stmt)
            if nested:
                stack.append(iter(nested))
                break
        else:
            stack.pop()


def nested_statements(stmt) -> tuple:
    """The statements directly inside one, in walking order: its `on error ->`
    action, then its branch, arm or loop bodies one after another."""
    on_error = getattr(stmt, "on_error", None)
    bodies = BODIES[type(stmt)]
    if bodies is None:  # most statements: no generator built per leaf of every walk
        return () if on_error is None else (on_error.action,)
    inner = tuple(s for body in bodies(stmt) for s in body)
    return inner if on_error is None else (on_error.action, *inner)


def nested_bodies(stmt) -> tuple:
    """The blocks directly inside a statement, each a tuple of statements, in walking
    order: an `if`'s branches then its `else`, each arm of a match or menu, a loop's
    body. Every walk over nested blocks reads them here (the checks, a sub-flow's
    return type, walk_statements)."""
    bodies = BODIES[type(stmt)]
    return bodies(stmt) if bodies is not None else ()


def _if_bodies(stmt: ast.If) -> tuple:
    branches = tuple(body for _, body in stmt.branches)
    return (*branches, stmt.orelse) if stmt.orelse is not None else branches


# The one list of the statements that hold blocks: a new block statement (one with a
# layout in compiler/statements.py) is added here, or tests/test_nested_blocks.py fails.
BODIES = ast.ClassTable((
    (ast.If, _if_bodies),
    ((ast.Match, ast.Menu), lambda stmt: tuple(arm.body for arm in stmt.arms)),
    ((ast.Repeat, ast.ForEach), lambda stmt: (stmt.body,)),
))


def module_scope(loaded: LoadedModule) -> Scope:
    symbols: dict[str, Symbol] = {}
    duplicates: list[tuple[Symbol, Symbol]] = []
    handlers: dict[str, ast.Handler] = {}
    variables: dict[str, list[Span]] = {}
    scope = Scope(loaded.key, symbols, {}, (), handlers)

    def add(sym: Symbol) -> None:
        if sym.name in symbols:
            duplicates.append((symbols[sym.name], sym))
        else:
            symbols[sym.name] = sym

    for item in loaded.module.items:
        kind = DECL_KINDS.get(type(item))
        if kind is not None:
            add(Symbol(item.name, kind, item, loaded.key, item.span))
        elif isinstance(item, ast.Use) and item.local_name in loaded.imports:
            add(Symbol(item.local_name, "module", item, loaded.key, item.span))
        if isinstance(item, ast.Handler):
            if item.event_name in handlers:
                first = handlers[item.event_name]
                duplicates.append((
                    Symbol(f"on {item.event_name}", "handler", first, loaded.key, first.span),
                    Symbol(f"on {item.event_name}", "handler", item, loaded.key, item.span)))
            else:
                handlers[item.event_name] = item
        if isinstance(item, (ast.Step, ast.Handler)):
            for name, spans in _assigned(scope.statements(item.body)).items():
                variables.setdefault(name, []).extend(spans)
    return Scope(loaded.key, symbols, {k: tuple(v) for k, v in variables.items()},
                 tuple(duplicates), handlers, scope.walked)


def program_scopes(program: Program) -> dict[str, Scope]:
    return {key: module_scope(m) for key, m in program.modules.items()}
