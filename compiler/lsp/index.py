"""Every name of a loaded program where it is declared and where it is used, resolved as the
checker resolves it (compiler/infer.py's `resolve`): what go to definition, find references,
rename and hover stand on.

A plain function of a Program; must not report diagnostics (the checks do).
Spans are narrowed to the name with compiler/namespan.py, never by a regex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ccdsl import ast
from ccdsl import builtins as bi
from ccdsl.compiler.checks.tests import agent_names
from ccdsl.compiler.infer import infer, member_span, new_context
from ccdsl.compiler.infer_env import Context, Env, uses
from ccdsl.compiler.namespan import word_span
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.skills_check import skill_names
from ccdsl.compiler.symbols import DECL_KINDS, Scope
from ccdsl.source import Span

# the keyword before a declaration's name, stepped over to find the name
DECL_KEYWORDS: dict[type, str] = {
    ast.Const: "const", ast.Hours: "hours", ast.Prompt: "prompt", ast.QueueDecl: "queue",
    ast.Routing: "routing", ast.RecordDecl: "record", ast.Step: "step", ast.Sub: "sub",
}

# A target names one thing: ("decl", file, name), ("var", file, sub, name),
# ("module", file), ("builtin", qualified name), ("field", file, record, name): a field of
# a record type the flow declares.
Target = tuple


@dataclass(frozen=True)
class Occurrence:
    span: Span  # of the name alone
    target: Target
    is_def: bool = False


@dataclass
class Index:
    program: Program
    ctx: Context
    occurrences: list[Occurrence] = field(default_factory=list)

    def add(self, span: Span, target: Target | None, is_def: bool = False) -> None:
        if target is not None and span.line == span.end_line and span.end_column > span.column:
            self.occurrences.append(Occurrence(span, target, is_def))

    def at(self, path: str, line: int, column: int) -> Occurrence | None:
        """The occurrence under a 1-based position (the cursor may sit just after it)."""
        found = [o for o in self.occurrences
                 if o.span.file == path and o.span.line == line
                 and o.span.column <= column <= o.span.end_column]
        return min(found, key=lambda o: o.span.end_column - o.span.column, default=None)

    def of(self, target: Target) -> list[Occurrence]:
        seen: dict[tuple, Occurrence] = {}
        for o in self.occurrences:
            if o.target == target:
                seen.setdefault((o.span, o.is_def), o)
        return sorted(seen.values(), key=lambda o: o.span)

    def definition(self, target: Target) -> Occurrence | None:
        return next((o for o in self.of(target) if o.is_def), None)

    def module_of(self, path: str) -> LoadedModule | None:
        return next((m for m in self.program.modules.values() if m.source.path == path), None)


def item_env(ctx: Context, key: str, item) -> Env:
    """The scope an item's expressions are checked in (as compiler/analysis.py walks them)."""
    if isinstance(item, ast.Sub):
        return ctx.env(key, "sub", sub=item, params=item.params)
    if isinstance(item, ast.Prompt):
        return ctx.env(key, "prompt", params=item.params or ())
    if isinstance(item, ast.Handler):
        return ctx.env(key, "agent" if item.event_name == "answered by agent" else "handler")
    where = {ast.Step: "step", ast.Const: "const", ast.QueueDecl: "decl",
             ast.Routing: "routing", ast.Test: "test"}.get(type(item), "decl")
    return ctx.env(key, where)


def build_index(program: Program, scopes: dict[str, Scope]) -> Index:
    index = Index(program, new_context(program, scopes))
    for key, module in program.modules.items():
        for item in module.module.items:
            if isinstance(item, ast.Test):
                continue  # below, with the tests of NAME.test.ccf
            _item(index, key, module, item)
    for test in program.tests:
        _item(index, program.entry, program.entry_module, test)
    return index


def _path(index: Index, key: str) -> str:
    return index.program.modules[key].source.path


def _item(index: Index, key: str, module: LoadedModule, item) -> None:
    sources = index.ctx.sources
    path = module.source.path
    if type(item) in DECL_KINDS:
        keyword = DECL_KEYWORDS[type(item)]
        index.add(word_span(item.span, item.name, sources, skip=len(keyword)),
                  ("decl", path, item.name), is_def=True)
    if isinstance(item, ast.RecordDecl):
        for f in item.fields:
            index.add(word_span(f.span, f.name, sources), ("field", path, item.name, f.name),
                      is_def=True)
    if isinstance(item, ast.Use):
        dep = module.imports.get(item.local_name)
        if dep is not None:
            index.add(word_span(item.span, item.path[-1], sources, skip=len("use")),
                      ("module", _path(index, dep)))
            if item.alias:
                index.add(word_span(item.span, item.alias, sources, nth=0,
                                    skip=len("use ") + len(".".join(item.path))),
                          ("module", _path(index, dep)))
        return
    env = item_env(index.ctx, key, item)
    # a sub-flow's and a prompt's own names are apart from the call variables
    local = {ast.Sub: "sub ", ast.Prompt: "prompt "}.get(type(item), "")
    local = local + item.name if local else ""
    if isinstance(item, (ast.Sub, ast.Prompt)):
        skip = len(DECL_KEYWORDS[type(item)]) + 1 + len(item.name)
        for param in item.params or ():
            index.add(word_span(item.span, param, sources, skip=skip),
                      ("var", path, local, param), is_def=True)
    # skills and a test's agents are words of the agents file, not names of the flow
    words = {id(name) for name in (*skill_names(item), *agent_names(item))}
    for node in ast.walk(item):
        if id(node) not in words:
            _node(index, env, path, local, node)


def _resolve(index: Index, env: Env, path: str, name: str, local: str = "") -> Target | None:
    """What a bare name means where it is written: the order of infer.resolve."""
    if env.is_local(name):
        return ("var", path, local, name)
    sym = env.scope.lookup(name)
    if sym is not None and sym.kind != "record type":
        if sym.kind == "module":
            return ("module", _path(index, env.module.imports[name]))
        return ("decl", _path(index, sym.module), name)
    if env.sees_call_variables and name in env.scope.variables:
        return ("var", path, "", name)
    if bi.lookup(name) is not None or name in bi.NAMESPACES:
        return ("builtin", name)
    return None


def _member(index: Index, env: Env, node: ast.Field) -> Target | None:
    """`orders.tell_status`, `crm.customer`, `office.open`: the thing after the dot, when the
    thing before it is a module, a builtin namespace or a declaration with methods."""
    chain = ast.dotted(node)
    for use in uses(env.module):  # `stdlib.voicemail.leave_for_owner`: the module's path
        if len(use.path) > 1 and chain is not None and chain[:len(use.path)] == use.path:
            dep = index.program.modules[env.module.imports[use.local_name]]
            if len(chain) == len(use.path):
                return ("module", dep.source.path)
            if len(chain) == len(use.path) + 1 and index.ctx.scopes[dep.key].lookup(node.name):
                return ("decl", dep.source.path, node.name)
            return None
    if not isinstance(node.obj, ast.Name):
        return None
    base = _resolve(index, env, env.module.source.path, node.obj.id)
    if base is None:
        return None
    if base[0] == "module":
        dep = next((m for m in index.program.modules.values() if m.source.path == base[1]),
                   None)
        sym = index.ctx.scopes[dep.key].lookup(node.name) if dep else None
        return ("decl", base[1], node.name) if sym is not None else None
    if base[0] == "builtin" and node.obj.id in bi.NAMESPACES:
        name = f"{node.obj.id}.{node.name}"
        return ("builtin", name) if bi.lookup(name) else None
    if base[0] == "decl":
        sym = env.scope.lookup(node.obj.id)
        kind = {"hours": "hours", "queue": "queue"}.get(sym.kind if sym else "")
        name = f"{kind}.{node.name}"
        return ("builtin", name) if kind and bi.lookup(name) else None
    return None


def _field(index: Index, env: Env, node: ast.Field) -> Target | None:
    """`card.balance`: the field of a record type a module of the flow declares."""
    t = infer(node.obj, env, None)
    if t.kind != "record":
        return None
    for module in index.program.modules.values():
        for item in module.module.items:
            if isinstance(item, ast.RecordDecl) and item.name == t.name:
                if any(f.name == node.name for f in item.fields):
                    return ("field", module.source.path, item.name, node.name)
                return None
    return None


def _node(index: Index, env: Env, path: str, local: str, node) -> None:
    sources = index.ctx.sources
    if isinstance(node, ast.Name):
        index.add(node.span, _resolve(index, env, path, node.id, local))
    elif isinstance(node, ast.Field):
        index.add(member_span(node), _member(index, env, node) or _field(index, env, node))
    elif isinstance(node, ast.Goto):
        sym = env.scope.lookup(node.target)
        if sym is not None:
            index.add(word_span(node.span, node.target, sources, skip=len("goto")),
                      ("decl", _path(index, sym.module), node.target))
    elif isinstance(node, (ast.Route, ast.Enqueue)):
        name = node.target if isinstance(node, ast.Route) else node.queue
        if name and "." not in name:
            index.add(word_span(node.span, name, sources, skip=len("route")),
                      _resolve(index, env, path, name, local))
    elif isinstance(node, (ast.Assign, ast.Collect)):
        index.add(word_span(node.span, node.name, sources), ("var", path, local, node.name),
                  is_def=True)
    elif isinstance(node, ast.ForEach):
        index.add(word_span(node.span, node.name, sources, skip=len("for each")),
                  ("var", path, local, node.name), is_def=True)
