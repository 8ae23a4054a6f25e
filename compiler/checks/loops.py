"""Loops the compiler can judge from the text: a `break` outside a loop (E311)
and a `repeat` count that is no whole number from 1 to MAX_LOOP_ROUNDS (E508);
must not import the runtime.

The work is done by the shared analysis, which visits every body (steps,
handlers, sub-flows, routing `otherwise` actions, queue key presses) and
counts the loops around each statement; the statement hooks are in
compiler/loops.py. The termination rule lives in compiler/controlflow.py.
This pass keeps the analysis's diagnostics of these codes.
"""

from __future__ import annotations

from collections.abc import Iterable

from ccdsl.compiler.analysis import Analysis
from ccdsl.compiler.program import Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic

CODES = {"E311", "E508"}


def check(program: Program, scopes: dict[str, Scope],
          analysis: Analysis) -> Iterable[Diagnostic]:
    return [d for d in analysis.diagnostics if d.code in CODES]
