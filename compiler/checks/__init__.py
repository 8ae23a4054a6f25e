"""The check passes, listed in the order they run; must not import the runtime.

Each pass is a plain function

    check(program: Program, scopes: dict[str, Scope], analysis: Analysis)
        -> Iterable[Diagnostic]

from the loaded program, its symbol tables and the one shared analysis of
this compile (compiler.analysis) to diagnostics. A new pass is a module
here and a line in PASSES."""

from __future__ import annotations

from ccdsl.compiler.checks import (
    date_patterns,
    flow,
    handlers,
    hygiene,
    languages,
    loops,
    names,
    nulls,
    tests,
    types,
    values,
)

PASSES = (
    date_patterns.check,
    flow.check,
    handlers.check,
    hygiene.check,
    languages.check,
    loops.check,
    names.check,
    nulls.check,
    tests.check,
    types.check,
    values.check,
)
