"""Name checks: unknown, duplicate and misused names, unknown handlers,
record and field types, `return` outside a sub-flow, the flow header and
the `on start` handler.

Names inside expressions and statements are resolved by the shared
analysis (compiler.analysis); this pass keeps its name diagnostics and
adds the ones about declarations."""

from __future__ import annotations

from collections.abc import Iterable

from ccdsl import ast
from ccdsl.compiler.analysis import Analysis
from ccdsl.compiler.loader import TEST_SUFFIX
from ccdsl.compiler.namespan import head_span, word_span
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic, diagnostic, did_you_mean
from ccdsl.source import Span
from ccdsl.types import BUILTIN_RECORDS, SIMPLE_TYPES, type_named

CODES = {"E100", "E101", "E102", "E105", "E108", "E109", "E110", "E111", "E112", "E010", "E210"}
EVENTS = ("start", "hangup", "error", "answered by agent")


def check(program: Program, scopes: dict[str, Scope],
          analysis: Analysis) -> Iterable[Diagnostic]:
    yield from (d for d in analysis.diagnostics if d.code in CODES)
    # the analysis has already read the sources and built the record types
    sources = analysis.context.sources
    records = analysis.context.records
    for key, loaded in program.modules.items():
        yield from _header(loaded, sources)
        yield from _duplicates(scopes[key], sources)
        yield from _handlers(loaded, sources)
        yield from _start(loaded, sources)
        yield from _declared_types(loaded, records, sources)
        yield from _value_names(loaded, sources)
        yield from _record_names(loaded, sources)


def _value_names(loaded: LoadedModule, sources) -> Iterable[Diagnostic]:
    """`queue X` and `route X` take an expression (a queue or rule may be a value), and
    `not` always begins one there, so no queue or routing rule can be called `not`."""
    for item in loaded.module.items:
        if isinstance(item, ast.QueueDecl | ast.Routing) and item.name == "not":
            kind = "queue" if isinstance(item, ast.QueueDecl) else "routing rule"
            statement = "queue" if kind == "queue" else "route"
            yield diagnostic("E102", f"a {kind} cannot be called `not`",
                             word_span(item.span, item.name, sources),
                             help=f"`{statement} not` reads as the start of `not EXPR`; "
                                  "give it another name")


# the words a test's `crm` line reads as a fault (`crm fails`, `crm times out`, `crm slow
# 3s`): a record type so called could never be given as a test's fixture
CRM_FAULT_WORDS = ("fails", "times", "slow")


def _record_names(loaded: LoadedModule, sources) -> Iterable[Diagnostic]:
    for item in loaded.module.items:
        if isinstance(item, ast.RecordDecl) and item.name in CRM_FAULT_WORDS:
            yield diagnostic("E102", f"a record type cannot be called `{item.name}`",
                             word_span(item.span, item.name, sources),
                             help=f"a test's `crm {item.name} ...` line is a CRM fault "
                                  "(`crm fails`, `crm times out`, `crm slow 3s`); give the "
                                  "record type another name")


def _header(loaded: LoadedModule, sources) -> Iterable[Diagnostic]:
    items = loaded.module.items
    if loaded.source.path.endswith(TEST_SUFFIX):  # holds only `test` blocks
        return
    headers = [i for i in items if isinstance(i, ast.FlowDecl)]
    name = loaded.name.rsplit(".", 1)[-1]
    if not headers:
        first = items[0].span if items else Span(loaded.source.path, 1, 1, 1, 2)
        yield diagnostic("E010", "this file has no `flow` header",
                         Span(first.file, first.line, first.column, first.line,
                              first.column + 1),
                         help=f"start the file with `flow {name}`")
        return
    if items[0] is not headers[0]:
        yield diagnostic("E010", "the `flow` header must come first in the file",
                         _header_span(headers[0], sources),
                         help="move it above every other declaration")
    for extra in headers[1:]:
        yield diagnostic("E010", "a file has one `flow` header, and this is a second one",
                         _header_span(extra, sources), help="remove it",
                         notes=(f"the first is at line {headers[0].span.line}",))


def _header_span(header: ast.FlowDecl, sources) -> Span:
    """`flow NAME`, without the block of properties under it."""
    span = word_span(header.span, header.name, sources)
    return Span(span.file, span.line, header.span.column, span.line, span.end_column)


def _duplicates(scope: Scope, sources) -> Iterable[Diagnostic]:
    for first, second in scope.duplicates:
        if first.kind == "handler":
            span = head_span(second.span, sources)
            yield diagnostic("E101", f"the handler `{second.name}` is declared twice", span,
                             help="merge the two handlers into one",
                             notes=(f"the first `{first.name}` is at line {first.span.line}",))
            continue
        span = _decl_name_span(second, sources)
        if first.kind == second.kind:
            message = f"the {second.kind} `{second.name}` is declared twice"
        else:
            message = f"`{second.name}` is already declared as a {first.kind}"
        yield diagnostic("E101", message, span, help="rename one of them",
                         notes=(f"the first `{first.name}` is the {first.kind} at line "
                                f"{first.span.line}",))


def _decl_name_span(sym, sources) -> Span:
    # `use stdlib.voicemail` names `voicemail`: the last part of the path
    nth = 0
    if isinstance(sym.node, ast.Use) and sym.node.alias is None and \
            sym.node.path.count(sym.name) > 1:
        nth = sym.node.path.count(sym.name) - 1
    return word_span(sym.span, sym.name, sources, nth=nth)


def _handlers(loaded: LoadedModule, sources) -> Iterable[Diagnostic]:
    for item in loaded.module.items:
        if isinstance(item, ast.Handler) and item.event_name not in EVENTS:
            span = head_span(item.span, sources)
            yield diagnostic("E108", f"there is no event `{item.event_name}` to handle", span,
                             help=did_you_mean(item.event_name, EVENTS)
                             or "the events are: " + ", ".join(f"`on {e}`" for e in EVENTS))
        if isinstance(item, (ast.Handler, ast.Sub, ast.Prompt)):
            yield from _duplicate_params(item, sources)


def _duplicate_params(item, sources) -> Iterable[Diagnostic]:
    params = getattr(item, "params", None) or ()
    seen: set[str] = set()
    for p in params:
        if p in seen:
            yield diagnostic("E101", f"the parameter `{p}` is declared twice",
                             word_span(item.span, p, sources, nth=1),
                             help="give each parameter its own name")
        seen.add(p)


def _start(loaded: LoadedModule, sources) -> Iterable[Diagnostic]:
    items = loaded.module.items
    steps = [i for i in items if isinstance(i, ast.Step)]
    if not steps or any(isinstance(i, ast.Handler) and i.event_name == "start" for i in items):
        return
    header = next((i for i in items if isinstance(i, ast.FlowDecl)), None)
    span = _header_span(header, sources) if header else word_span(steps[0].span, steps[0].name,
                                                             sources)
    yield diagnostic("E112", "this flow has steps but no `on start` handler, so no call ever "
                     "reaches them", span,
                     help=f"add `on start:` with what a call does first, such as "
                          f"`goto {steps[0].name}`")


def _declared_types(loaded: LoadedModule, records, sources) -> Iterable[Diagnostic]:
    for item in loaded.module.items:
        if isinstance(item, (ast.RecordDecl, ast.Wrapup)):
            yield from _fields(item, records, sources)


def _fields(item, records, sources) -> Iterable[Diagnostic]:
    seen: dict[str, ast.FieldDecl] = {}
    base = BUILTIN_RECORDS.get(item.name) if isinstance(item, ast.RecordDecl) else None
    for f in item.fields:
        if type_named(f.type.name, records) is None:
            names = list(SIMPLE_TYPES) + sorted(records)
            yield diagnostic("E110", f"unknown type `{f.type.name}`", f.type.span,
                             help=did_you_mean(f.type.name, names)
                             or "the types are: " + ", ".join(names))
        if f.name in seen:
            yield diagnostic("E101", f"the field `{f.name}` is declared twice",
                             word_span(f.span, f.name, sources),
                             notes=(f"the first is at line {seen[f.name].span.line}",))
        seen[f.name] = f
        known = base.field(f.name) if base else None
        declared = type_named(f.type.name, records, f.type.optional)
        if known is not None and declared is not None and \
                (known.type.kind, known.type.name) != (declared.kind, declared.name):
            yield diagnostic("E101", f"the field `{f.name}` of `{item.name}` is already a "
                             f"builtin field of type {known.type}", word_span(f.span, f.name,
                                                                             sources),
                             help=f"declare it as `{f.name}: {known.type}` or use another name")
