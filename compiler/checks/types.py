"""Type checks: operators and conditions (E300), arguments of builtins,
sub-flows and prompts (E301), calls of things that cannot be called
(E302), a queue or routing rule value that may be null (E308), and the
options of every construct (E106 unknown, E107 missing or repeated; a
wrong option value is an E300).

The work is done by the shared analysis (compiler.analysis, which infers
types with compiler.infer); this pass keeps its diagnostics of these codes."""

from __future__ import annotations

from collections.abc import Iterable

from ccdsl.compiler.analysis import Analysis
from ccdsl.compiler.program import Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic

CODES = {"E300", "E301", "E302", "E106", "E107", "E308", "E310"}


def check(program: Program, scopes: dict[str, Scope],
          analysis: Analysis) -> Iterable[Diagnostic]:
    return [d for d in analysis.diagnostics if d.code in CODES]
