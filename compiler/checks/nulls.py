"""Null safety (E304): a value that may be null where null fails at run time; must not import
the runtime.

The work is done by the shared analysis (compiler.analysis, with the rules
and the narrowing of compiler.nullsafety); this pass keeps its diagnostics
of this code."""

from __future__ import annotations

from collections.abc import Iterable

from ccdsl.compiler.analysis import Analysis
from ccdsl.compiler.program import Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic

CODES = {"E304"}


def check(program: Program, scopes: dict[str, Scope],
          analysis: Analysis) -> Iterable[Diagnostic]:
    return [d for d in analysis.diagnostics if d.code in CODES]
