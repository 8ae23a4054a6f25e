"""The compiler as one call: load -> check -> lower, for the CLI and tests.

Must not import the runtime or the CLI; it returns diagnostics and leaves
printing them to its caller."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from ccdsl.code_selection import ALL, Selection
from ccdsl.compiler.analysis import analyse
from ccdsl.compiler.checks import PASSES
from ccdsl.compiler.compile_result import CompileResult, finish, unique_sorted
from ccdsl.compiler.flow_files import find_flow_files, is_orphan
from ccdsl.compiler.loader import load_program
from ccdsl.compiler.orphans import orphan_diagnostic
from ccdsl.compiler.parse_cache import ParseCache
from ccdsl.compiler.program import Program
from ccdsl.compiler.suppressions import apply_suppressions
from ccdsl.compiler.symbols import Scope, program_scopes
from ccdsl.diagnostics import Diagnostic
from ccdsl.source import SourceFile

__all__ = ["CompileResult", "check_program", "compile_file", "find_flow_files",
           "unique_sorted"]


def check_program(program: Program, scopes: dict[str, Scope]) -> list[Diagnostic]:
    """Run every pass of PASSES, in order, over one shared analysis."""
    analysis = analyse(program, scopes)
    diags: list[Diagnostic] = []
    for check in PASSES:
        diags.extend(check(program, scopes, analysis))
    return diags


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is compiled.

    Parsing makes many small objects and no reference cycles worth
    collecting, so the collector's repeated scans of the growing parse tree
    are pure cost (bench/compile.py shows how much). Reference counting
    still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def compile_file(path: str, *, lower: bool = True, text: str | None = None,
                 selection: Selection = ALL, parses: ParseCache | None = None,
                 keep_entry: bool = True, edited: bool = False) -> CompileResult:
    """Compile one entry flow: from path, or from text (standard input, an
    editor's buffer) named path. The IR is produced only when there are no
    errors (warnings do not stop it, unless selection makes them errors).

    Every consumer (validate, compile, test, the language server) gets the
    diagnostics after the `# ccf: ignore[...]` comments of the flow's files
    and then selection (--select, --ignore, --warnings-as-errors) are applied.
    With parses, a file whose text was parsed before is not parsed again
    (keep_entry: whether the entry's parse is worth keeping in the cache folder;
    edited: the entry changed since its last validate, so its items are kept instead)."""
    with gc_paused():
        return _compile_file(path, lower, text, selection, parses, keep_entry, edited)


def _compile_file(path: str, lower: bool, text: str | None, selection: Selection,
                  parses: ParseCache | None, keep_entry: bool,
                  edited: bool = False) -> CompileResult:
    if text is None and is_orphan(path):  # E306: never compiled as a flow of its own
        diag, source = orphan_diagnostic(path)
        return CompileResult(path, None, [diag], sources={path: source} if source else {})
    program, diags = load_program(path, text, parses, keep_entry=keep_entry, edited=edited)
    result = CompileResult(path, program, diags)
    if program is None:
        result.diagnostics = finish(diags, selection)
        return result
    result.sources = program.sources()
    # the checks and the lowering share one symbol table
    scopes = program_scopes(program)
    diags = apply_suppressions(diags + check_program(program, scopes),
                               _authored_sources(program), report_unused=True)
    result.diagnostics = finish(diags, selection)
    if lower and result.ok:
        # imported here: validating (most runs) never lowers (start-up, issue 15)
        from ccdsl.compiler.lower import lower_program

        result.ir = lower_program(program, scopes)
    return result


def _authored_sources(program: Program) -> dict[str, SourceFile]:
    """The sources whose suppression comments count: not the standard library's."""
    out = {m.source.path: m.source for m in program.modules.values() if not m.is_stdlib}
    out.update((s.path, s) for s in program.test_sources)
    return out
