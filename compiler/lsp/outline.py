"""Document symbols: the outline of a file from its syntax tree: the flow, modules used,
constants, hours, prompts (their languages), queues (their keys), routing rules (their
lines), steps and handlers (their menus and keys), sub-flows, record types and tests.

Must not check anything: a file that parses has an outline.
"""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types as lsp

from ccdsl import ast
from ccdsl.compiler.namespan import head_span
from ccdsl.compiler.symbols import walk_statements
from ccdsl.source import SourceFile, Span

K = lsp.SymbolKind
ToRange = Callable[[Span], lsp.Range]


def outline(module: ast.Module, tests, source: SourceFile,
            to_range: ToRange) -> list[lsp.DocumentSymbol]:
    sources = {source.path: source}

    def symbol(name: str, kind: lsp.SymbolKind, span: Span, detail: str | None = None,
               children: list | None = None) -> lsp.DocumentSymbol:
        return lsp.DocumentSymbol(name=name or "?", kind=kind,
                                  range=to_range(span),
                                  selection_range=to_range(head_span(span, sources)),
                                  detail=detail, children=children or None)

    def menus(body) -> list[lsp.DocumentSymbol]:
        out = []
        for stmt in walk_statements(body):
            if isinstance(stmt, ast.Menu):
                keys = [symbol(_arm_label(arm, source), K.EnumMember, arm.span)
                        for arm in stmt.arms]
                out.append(symbol("menu", K.Enum, stmt.span, children=keys))
        return out

    out = []
    items = [i for i in module.items if not isinstance(i, ast.Test)] + \
        [t for t in tests if t.span.file == source.path]
    for item in items:
        if isinstance(item, ast.FlowDecl):
            out.append(symbol(item.name, K.File, item.span, "flow"))
        elif isinstance(item, ast.Use):
            out.append(symbol(".".join(item.path), K.Module, item.span, "use"))
        elif isinstance(item, ast.Const):
            out.append(symbol(item.name, K.Constant, item.span, "const"))
        elif isinstance(item, ast.Hours):
            out.append(symbol(item.name, K.Event, item.span, "hours"))
        elif isinstance(item, ast.Prompt):
            langs = [symbol(v.lang.tag, K.String, v.span, v.kind) for v in item.variants]
            out.append(symbol(item.name, K.String, item.span, "prompt", langs))
        elif isinstance(item, ast.QueueDecl):
            keys = [symbol(f"press {k.key}", K.EnumMember, k.span) for k in item.keys]
            out.append(symbol(item.name, K.Class, item.span, "queue", keys))
        elif isinstance(item, ast.Routing):
            rules = [symbol(_rule_label(r), K.Field, r.span) for r in item.rules]
            out.append(symbol(item.name, K.Struct, item.span, "routing", rules))
        elif isinstance(item, ast.Step):
            out.append(symbol(item.name, K.Function, item.span, "step", menus(item.body)))
        elif isinstance(item, ast.Handler):
            out.append(symbol(f"on {item.event_name}", K.Event, item.span, "handler",
                              menus(item.body)))
        elif isinstance(item, ast.Sub):
            out.append(symbol(item.name, K.Method, item.span, "sub", menus(item.body)))
        elif isinstance(item, ast.RecordDecl):
            fields = [symbol(f.name, K.Field, f.span, f.type.name) for f in item.fields]
            out.append(symbol(item.name, K.Struct, item.span, "record", fields))
        elif isinstance(item, ast.Wrapup):
            fields = [symbol(f.name, K.Field, f.span, f.type.name) for f in item.fields]
            out.append(symbol("wrapup", K.Struct, item.span, None, fields))
        elif isinstance(item, ast.Test):
            out.append(symbol(item.name.value, K.Method, item.span, "test"))
    return out


def _arm_label(arm: ast.Arm, source: SourceFile) -> str:
    line = source.line_text(arm.span.line)[arm.span.column - 1:]
    return line.split("->")[0].strip() or "?"


def _rule_label(rule) -> str:
    if isinstance(rule, ast.Otherwise):
        return "otherwise"
    return rule.kind
