"""A flow whose only errors are inside test blocks still runs its other tests: the IR
without the broken blocks, and each broken block with its diagnostics (`ccf test`).

Must not import the runtime or the CLI; `ccf validate` still reports every diagnostic.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ccdsl import ast
from ccdsl.compiler.lower import lower_program
from ccdsl.compiler.pipeline import CompileResult
from ccdsl.compiler.symbols import program_scopes
from ccdsl.diagnostics import Diagnostic


@dataclass(frozen=True)
class BrokenTest:
    test: ast.Test
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Isolated:
    """The IR of the flow with the tests that compile, and every test in the
    order the files have them: a BrokenTest, or None for the IR's next test."""

    ir: dict
    order: tuple[BrokenTest | None, ...]


def _test_of(tests: tuple[ast.Test, ...], diag: Diagnostic) -> ast.Test | None:
    span = diag.span
    at = (span.line, span.column)
    for test in tests:
        t = test.span
        if span.file == t.file and (t.line, t.column) <= at <= (t.end_line, t.end_column):
            return test
    return None


def isolate_tests(result: CompileResult) -> Isolated | None:
    """When every error of a failed compile lies inside a test block: the IR
    without those blocks, and the blocks with their errors. None when the
    flow itself has an error (or nothing was loaded)."""
    broken = _broken_tests(result)
    if broken is None:
        return None
    program = result.program
    kept = dataclasses.replace(program, tests=tuple(t for t in program.tests
                                                    if id(t) not in broken))
    ir = lower_program(kept, program_scopes(kept))
    return Isolated(ir, tuple(BrokenTest(t, tuple(broken[id(t)])) if id(t) in broken else None
                              for t in _in_file_order(program)))


def only_tests_broken(result: CompileResult) -> bool:
    """Whether every error of a failed compile lies inside a test block (isolate_tests
    would give an IR), without lowering the flow: `ccf graph` draws the program."""
    return _broken_tests(result) is not None


def _broken_tests(result: CompileResult) -> dict[int, list[Diagnostic]] | None:
    """The errors of each broken test block, by id(); None when an error lies
    outside every test block, or there is no error or no program."""
    program = result.program
    errors = [d for d in result.diagnostics if d.is_error]
    if program is None or not errors:
        return None
    broken: dict[int, list[Diagnostic]] = {}
    for diag in errors:
        test = _test_of(program.unparsed_tests + program.tests, diag)
        if test is None:
            return None
        broken.setdefault(id(test), []).append(diag)
    return broken


def _in_file_order(program) -> tuple[ast.Test, ...]:
    """The tests that parsed and those that did not (compiler/test_recovery.py),
    as the files have them: the flow's own first, then NAME.test.ccf's."""
    if not program.unparsed_tests:
        return program.tests
    entry = program.entry_module.source.path
    return tuple(sorted(program.tests + program.unparsed_tests,
                        key=lambda t: (t.span.file != entry, t.span.line)))
