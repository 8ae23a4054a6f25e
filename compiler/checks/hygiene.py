"""Hygiene warnings: an external call (CRM, HTTP) with no error path
(W600), a variable assigned but never read (W601), a constant never used
(W602)."""

from __future__ import annotations

from collections.abc import Iterable

from ccdsl import ast
from ccdsl import builtins as bi
from ccdsl.compiler.analysis import Analysis
from ccdsl.compiler.namespan import word_span
from ccdsl.compiler.program import Program
from ccdsl.compiler.statements import CAN_HAVE_ON_ERROR
from ccdsl.compiler.symbols import Scope, assigned_names
from ccdsl.diagnostics import Diagnostic, diagnostic


def check(program: Program, scopes: dict[str, Scope],
          analysis: Analysis) -> Iterable[Diagnostic]:
    sources = analysis.context.sources
    yield from _unguarded(analysis)
    for key, loaded in program.modules.items():
        for name, spans in scopes[key].variables.items():
            if _hides_something(name, scopes[key]):  # E101 says what is wrong with it
                continue
            if ("var", key, "", name) not in analysis.reads:
                yield _unused(name, spans[0], sources)
        for item in loaded.module.items:
            if isinstance(item, ast.Sub):
                for name, spans in assigned_names(item.body).items():
                    if name not in item.params and ("var", key, item.name, name) \
                            not in analysis.reads:
                        yield _unused(name, spans[0], sources)
            elif isinstance(item, ast.Const) and ("const", key, item.name) not in analysis.reads:
                yield diagnostic("W602", f"the constant `{item.name}` is never used",
                                 word_span(item.span, item.name, sources),
                                 help="remove it, or use it where its value is meant")


def _hides_something(name: str, scope: Scope) -> bool:
    sym = scope.lookup(name)
    return (sym is not None and sym.kind != "record type") or name in bi.top_level_names()


def _unused(name: str, span, sources) -> Diagnostic:
    source = sources.get(span.file)
    if source is not None and source.line_text(span.line).lstrip().startswith("for "):
        help = (f"use `{name}` in the loop, or write `repeat len(LIST):` when only the number "
                "of rounds matters")
    else:
        help = (f"remove `{name} =` and keep only what the statement does, or use `{name}` "
                "where its value is needed")
    return diagnostic("W601", f"the variable `{name}` is assigned but never read",
                      word_span(span, name, sources), help=help)


def _unguarded(analysis) -> Iterable[Diagnostic]:
    for stmt, name, span in analysis.unguarded:
        service = "the CRM" if name.startswith("crm.") else "the web service"
        if isinstance(stmt, CAN_HAVE_ON_ERROR):
            help = "add an error path at the end of the line, such as `on error -> goto " \
                   "STEP`, to say what happens when it fails"
        else:
            help = "call it on its own line with an error path first: `x = " \
                   f"{name}(...) on error -> goto STEP`, then use `x` here"
        yield diagnostic("W600", f"`{name}` can fail when {service} does not answer, and this "
                         "statement has no `on error ->` path", span, help=help)
