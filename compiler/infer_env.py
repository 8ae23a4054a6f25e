"""Scopes (Env), the program-wide inference context (Context) and the wording of type errors.

Must not infer types itself: compiler.infer does, and hands its ``infer``
to each Context. A scope says what an expression sees: a step or handler
the call variables, a sub-flow its parameters and own variables, a
constant or a queue declaration only declarations and builtins, a prompt
its parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ccdsl import ast
from ccdsl import builtins as bi
from ccdsl.compiler.chains import Chains
from ccdsl.compiler.controlflow import routings_of
from ccdsl.compiler.namespan import snippet
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic, closest, diagnostic, did_you_mean
from ccdsl.source import SourceFile, Span
from ccdsl.types import (
    ANY,
    BUILTIN_RECORDS,
    TEXT,
    FieldType,
    RecordType,
    Type,
    describe,
    non_null,
    type_named,
    unify,
)

CALL_SCOPES = ("step", "handler", "agent", "routing", "queue_key")
RECORD_ID = FieldType("id", TEXT, "the CRM's id of the record")


SCOPE_WORDS = {
    "const": "a constant", "decl": "a declaration", "prompt": "a prompt",
    "test": "a test", "sub": "a sub-flow",
}


# ---- the program-wide context ---------------------------------------------------------


def program_records(program: Program) -> dict[str, RecordType]:
    """The builtin record types, extended or joined by every `record`
    declaration of the program (the CRM is shared by all its modules)."""
    records = dict(BUILTIN_RECORDS)
    decls = [item for m in program.modules.values() for item in m.module.items
             if isinstance(item, ast.RecordDecl)]
    for decl in decls:  # declare the names first: fields may name other records
        # every record the CRM stores has its id (docs/crm.md), declared or not
        records.setdefault(decl.name, RecordType(decl.name, (RECORD_ID,), "declared by the flow"))
    for decl in decls:
        fields = tuple(FieldType(f.name, type_named(f.type.name, records, f.type.optional) or ANY)
                       for f in decl.fields)
        records[decl.name] = records[decl.name].extended(fields)
    return records


class Context:
    """What the inference of one program shares: declarations, caches of
    the types of variables and constants, and the facts hygiene needs
    (which variables and constants are read; which statement calls an
    external builtin)."""

    def __init__(self, program: Program, scopes: dict[str, Scope], infer: Callable) -> None:
        self.program = program
        # compiler.infer hands itself in: the types of variables and
        # constants are inferred on demand, and infer.py imports this module
        self.infer = infer
        self.scopes = scopes
        self.records = program_records(program)
        self.sources: dict[str, SourceFile] = program.sources()
        self.reads: set[tuple] = set()
        self.external_calls: list[tuple[str, Span]] = []  # of the statement being checked
        # the types of constants and variables; a chain of them is as long as
        # the flow makes it, and one may depend on itself
        self._types: Chains[Type] = Chains(on_cycle=ANY)
        self._assignments: dict[tuple[str, str], dict[str, list]] = {}
        self._routings: dict[str, dict[str, ast.Routing]] = {}

    def routings(self, module: LoadedModule) -> dict[str, ast.Routing]:
        """The module's routing rules (controlflow.routings_of), read once per
        module: the null-safety rules ask at every `if` and assignment."""
        if module.key not in self._routings:
            self._routings[module.key] = routings_of(module.module)
        return self._routings[module.key]

    def env(self, key: str, where: str, sub: ast.Sub | None = None,
            params: tuple[str, ...] = ()) -> Env:
        module = self.program.modules[key]
        return Env(self, module, self.scopes[key], where, sub.name if sub else "", params)

    # -- variables: the union of the types of their assignments
    def assignments(self, env: Env) -> dict[str, list]:
        key = (env.module.key, env.sub)
        if key not in self._assignments:
            table: dict[str, list] = {}
            for item in env.module.module.items:
                if env.sub:
                    if isinstance(item, ast.Sub) and item.name == env.sub:
                        _collect_assignments(item.body, env, table)
                elif isinstance(item, ast.Step):
                    _collect_assignments(item.body, self.env(env.module.key, "step"), table)
                elif isinstance(item, ast.Handler):
                    where = "agent" if item.event_name == "answered by agent" else "handler"
                    _collect_assignments(item.body, self.env(env.module.key, where), table)
                elif isinstance(item, ast.QueueDecl):
                    for press in item.keys:
                        _collect_assignments(press.body, self.env(env.module.key, "queue_key"),
                                             table)
            self._assignments[key] = table
        return self._assignments[key]

    def variable_type(self, env: Env, name: str) -> Type:
        def compute() -> Type:
            found: Type | None = None
            for stmt, stmt_env in self.assignments(env).get(name, ()):
                if isinstance(stmt, ast.ForEach):  # the items of its list
                    t = non_null(self.infer(stmt.items, stmt_env, None))
                    t = t.item if t.kind == "list" and t.item is not None else ANY
                else:
                    t = TEXT if isinstance(stmt, ast.Collect) \
                        else self.infer(stmt.value, stmt_env, None)
                if t.kind == "any" or t.only_a_name:  # reported where assigned
                    continue
                found = t if found is None else unify(found, t)
                if found is None:  # assigned values of different types
                    return ANY
            if name in env.params and env.sub:
                return ANY
            return found or ANY

        return self._types.get(("var", env.module.key, env.sub, name), compute)

    def constant_type(self, key: str, const: ast.Const) -> Type:
        def compute() -> Type:
            t = self.infer(const.value, self.env(key, "const"), None)
            return ANY if t.only_a_name else t

        return self._types.get(("const", key, const.name), compute)

    def cached(self, key: tuple, compute: Callable[[], Type]) -> Type:
        """A type computed once, in the chains of constants and variables
        (a sub-flow's return type may depend on them, and they on it)."""
        return self._types.get(key, compute)

    def module_by_key(self, key: str) -> LoadedModule:
        return self.program.modules[key]


def _collect_assignments(body, env: Env, table: dict[str, list]) -> None:
    for stmt in env.scope.statements(body):
        if isinstance(stmt, (ast.Assign, ast.Collect, ast.ForEach)):
            table.setdefault(stmt.name, []).append((stmt, env))


@dataclass(frozen=True)
class Env:
    ctx: Context = field(compare=False, repr=False)
    module: LoadedModule = field(compare=False, repr=False)
    scope: Scope = field(compare=False, repr=False)
    where: str = "step"  # step | handler | agent | routing | sub | const | decl | prompt | test
    sub: str = ""  # the sub-flow's name when where == "sub"
    params: tuple[str, ...] = ()  # of the sub-flow or prompt
    # paths proved not null here (compiler/nullsafety.py): `customer`, `customer.balance`
    narrowed: frozenset[str] = frozenset()

    def with_narrowed(self, paths: frozenset[str]) -> Env:
        # the constructor, not dataclasses.replace: this runs at most statements
        return Env(self.ctx, self.module, self.scope, self.where, self.sub, self.params, paths)

    @property
    def sees_call_variables(self) -> bool:
        return self.where in CALL_SCOPES

    def is_local(self, name: str) -> bool:
        if self.where == "sub":
            return name in self.params or name in self.ctx.assignments(self)
        return self.where == "prompt" and name in self.params


# ---- reporting helpers ------------------------------------------------------------------


def emit(diags: list[Diagnostic] | None, code: str, message: str, span: Span,
          help: str | None = None, notes: tuple[str, ...] = ()) -> None:
    if diags is not None:
        diags.append(diagnostic(code, message, span, help=help, notes=notes))


def text_of(expr, env: Env, fallback: str = "this value") -> str:
    return snippet(expr.span, env.ctx.sources) or fallback


def visible_names(env: Env) -> list[str]:
    names = [n for n, s in env.scope.symbols.items() if s.kind != "record type"]
    if env.sees_call_variables:
        names += list(env.scope.variables)
    if env.where == "sub":
        names += list(env.params) + list(env.ctx.assignments(env))
    if env.where == "prompt":
        names += list(env.params)
    names += [n for n in bi.top_level_names() if n != "agent" or env.where == "agent"]
    names += [u.path[0] for u in uses(env.module)]
    return names


def unknown_name(e: ast.Name, env: Env, diags: list | None) -> None:
    """E100 for a name nothing declares, with the likeliest fix as its help."""
    name = e.id
    candidates = visible_names(env)
    help = did_you_mean(name, candidates) or _use_help(e, env)
    close = closest(name, candidates)
    if close and diags is not None:
        # the misspelt read was meant for that variable: do not also call it unused
        env.ctx.reads.add(("var", env.module.key, env.sub if env.where == "sub" else "",
                           close))
    if name == "agent":
        help = "`agent` (the agent who answered) exists only inside `on answered by agent`; " \
               "elsewhere `call.agent` is that agent, or null"
    elif name in env.scope.variables and not env.sees_call_variables:
        if env.where == "sub":
            help = f"a sub-flow sees only its parameters and its own variables: pass `{name}` " \
                   "as an argument"
        elif env.where == "prompt":
            help = f"`{name}` is a call variable; give the prompt a parameter and pass `{name}` " \
                   "when you play it"
        else:
            help = f"`{name}` is a call variable; {SCOPE_WORDS.get(env.where, 'this')} " \
                   "cannot use it"
    elif name in env.ctx.records:
        emit(diags, "E102", f"`{name}` is a record type, not a value", e.span,
              help=f"to look one up write `crm.find(\"{name}\", field: value)`")
        return
    emit(diags, "E100", f"unknown name `{name}`", e.span, help=help)


def _use_help(e: ast.Name, env: Env) -> str | None:
    """For `billing.read_balance(...)` or `stdlib.voicemail.leave(...)` without their
    `use`: the `use` line to add (the name is read before a dot in the source)."""
    source = env.ctx.sources.get(e.span.file)
    if source is None or e.span.line != e.span.end_line:
        return None
    after = source.line_text(e.span.line)[e.span.end_column - 1:]
    if not after.startswith("."):
        return None
    if e.id != "stdlib":
        return f"if `{e.id}` is a module ({e.id}.ccf), add `use {e.id}` at the top of the file"
    member = _MEMBER.match(after)
    if member is None:
        return "add `use stdlib.NAME` at the top of the file for the library module you call"
    path = f"stdlib.{member.group(1)}"
    return f"to use the module `{path}`, add `use {path}` at the top of the file"


_MEMBER = re.compile(r"\.\s*(\w+)")


def uses(module: LoadedModule) -> list[ast.Use]:
    return [i for i in module.module.items
            if isinstance(i, ast.Use) and i.local_name in module.imports]


def ref_help(t: Type, text: str) -> str | None:
    return {
        "hours": f"call one of its methods: `{text}.open()` or `{text}.next_open()`",
        "queue": f"send the caller there with `queue {text}`, or ask it: `{text}.waiting()`",
        "prompt": f"play it: `play {text}`",
        "step": f"go there with `goto {text}`",
        "routing": f"use it with `route {text}`",
        "module": f"name something inside it: `{text}.NAME`",
        "namespace": f"name a module inside it: `{text}.NAME`",
        "sub": f"call it: `{text}(...)`",
        "builtins": f"call one of its functions: `{text}.NAME(...)`",
        "function": f"call it: `{text}(...)`",
    }.get(t.kind)


def bool_help(t: Type, text: str) -> str | None:
    if t.nullable or t.kind == "record":
        return f"compare it with null: `{text} != null`"
    if t.kind == "text":
        return f"compare it with a text: `{text} == \"...\"`"
    if t.kind == "number":
        return f"compare it with a number: `{text} > 0`"
    return None


def compare_message(op: str, a: Type, b: Type) -> str:
    if op in ("==", "!="):
        return f"cannot compare {describe(a)} with {describe(b)}: they are never equal"
    if non_null(a).kind == non_null(b).kind:
        return f"`{op}` does not order values of type {describe(non_null(a))}"
    return f"cannot compare {describe(a)} with {describe(b)}"


def compare_help(a: Type, b: Type) -> str | None:
    kinds = {non_null(a).kind, non_null(b).kind}
    if kinds == {"text", "number"}:
        return "convert one side: `to_number(x)` or `to_text(n)`"
    if kinds == {"duration", "time"}:
        return "a duration (30s, 2h) is a length of time; a time (09:00) is a time of day"
    if kinds == {"datetime", "time"}:
        return "compare the time of day: `now().time < 18:00`"
    if kinds == {"datetime", "date"}:
        return "compare the date: `now().date == 2026-10-01`"
    return None


def arith_help(op: str, a: Type, b: Type) -> str | None:
    kinds = (non_null(a).kind, non_null(b).kind)
    if op == "+" and "text" in kinds:
        return "put the value inside the text instead: `\"... ${value}\"`"
    if "time" in kinds and "number" in kinds:
        return "add a duration to a time: `09:00 + 30m`"
    if "duration" in kinds and "number" in kinds:
        return "write the number with a unit: `30s`, `2m`"
    return None


def arg_name_span(arg: ast.Arg) -> Span:
    s = arg.span
    return Span(s.file, s.line, s.column, s.line, s.column + len(arg.name or ""))


def count(n: int) -> str:
    return "no arguments" if n == 0 else "1 argument" if n == 1 else f"{n} arguments"


def signature_help(label: str, params: tuple[bi.Param, ...]) -> str:
    if not params:
        return f"call it with no arguments: `{label}()`"
    parts = [p.name + (":" if not p.required else "") for p in params]
    return f"its parameters are: {', '.join(parts)}" + \
        (" (those with `:` are optional and given by name)" if any(not p.required
                                                                     for p in params) else "")
