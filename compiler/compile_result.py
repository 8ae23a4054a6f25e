"""What one compilation gives its caller, and the last step every path takes to it.

Light on purpose (no AST, no parser, no checks): a result served from the cache
(compiler/result_cache.py) is built here without importing the compiler."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccdsl.code_selection import Selection
from ccdsl.diagnostics import Diagnostic, has_errors
from ccdsl.source import SourceFile

if TYPE_CHECKING:
    from ccdsl.compiler.program import Program


@dataclass
class CompileResult:
    path: str
    # None when the flow did not load, or when the result came from the cache
    program: Program | None
    diagnostics: list[Diagnostic]
    ir: dict | None = None
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def unique_sorted(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.span, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def finish(diags: Iterable[Diagnostic], selection: Selection) -> list[Diagnostic]:
    """The diagnostics a caller sees: selection (--select, --ignore,
    --warnings-as-errors) applied to those left after the suppressions, sorted, once
    each. A cached result keeps them before this step, so any selection can reuse it."""
    return unique_sorted(selection.apply(diags))
