"""A `format_date` pattern written in the flow that stands for nothing (E312); must not
import the runtime.

The work is done by the shared analysis: the pattern parameter of
`format_date` has the form "date_pattern" (ccdsl/builtins.py), whose literal
compiler/infer.py reads with the letters of ccdsl/date_patterns.py (the
runtime's too); this pass keeps its diagnostics of this code."""

from __future__ import annotations

from collections.abc import Iterable

from ccdsl.compiler.analysis import Analysis
from ccdsl.compiler.program import Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic

CODES = {"E312"}


def check(program: Program, scopes: dict[str, Scope],
          analysis: Analysis) -> Iterable[Diagnostic]:
    return [d for d in analysis.diagnostics if d.code in CODES]
