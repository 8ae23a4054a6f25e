"""The compiler as one call: load -> check -> lower, for the CLI and tests.

Must not import the runtime or the CLI; it returns diagnostics and leaves
printing them to its caller."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ccdsl.code_selection import ALL, Selection
from ccdsl.compiler.analysis import analyse
from ccdsl.compiler.checks import PASSES
from ccdsl.compiler.loader import TEST_SUFFIX, load_program
from ccdsl.compiler.lower import lower_program
from ccdsl.compiler.orphans import is_orphan, orphan_diagnostic
from ccdsl.compiler.program import Program
from ccdsl.compiler.suppressions import apply_suppressions
from ccdsl.compiler.symbols import Scope, program_scopes
from ccdsl.diagnostics import Diagnostic, diagnostic, has_errors
from ccdsl.source import SourceFile, Span


@dataclass
class CompileResult:
    path: str
    program: Program | None
    diagnostics: list[Diagnostic]
    ir: dict | None = None
    sources: dict[str, SourceFile] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def unique_sorted(diags) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.span, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


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
                 selection: Selection = ALL) -> CompileResult:
    """Compile one entry flow: from path, or from text (standard input, an
    editor's buffer) named path. The IR is produced only when there are no
    errors (warnings do not stop it, unless selection makes them errors).

    Every consumer (validate, compile, test, the language server) gets the
    diagnostics after the `# ccf: ignore[...]` comments of the flow's files
    and then selection (--select, --ignore, --warnings-as-errors) are applied."""
    with gc_paused():
        return _compile_file(path, lower, text, selection)


def _compile_file(path: str, lower: bool, text: str | None,
                  selection: Selection) -> CompileResult:
    if text is None and is_orphan(path):  # E306: never compiled as a flow of its own
        diag, source = orphan_diagnostic(path)
        return CompileResult(path, None, [diag], sources={path: source} if source else {})
    program, diags = load_program(path, text)
    result = CompileResult(path, program, diags)
    if program is None:
        result.diagnostics = unique_sorted(selection.apply(diags))
        return result
    result.sources = program.sources()
    # the checks and the lowering share one symbol table
    scopes = program_scopes(program)
    diags = apply_suppressions(diags + check_program(program, scopes),
                               _authored_sources(program), report_unused=True)
    result.diagnostics = unique_sorted(selection.apply(diags))
    if lower and result.ok:
        result.ir = lower_program(program, scopes)
    return result


def _authored_sources(program: Program) -> dict[str, SourceFile]:
    """The sources whose suppression comments count: not the standard library's."""
    out = {m.source.path: m.source for m in program.modules.values() if not m.is_stdlib}
    out.update((s.path, s) for s in program.test_sources)
    return out


def find_flow_files(paths: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """Expand files and directories (recursively) into the entry files to
    compile. `NAME.test.ccf` files are compiled with NAME.ccf, not alone."""
    files: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.endswith(".ccf") and not name.endswith(TEST_SUFFIX):
                        found.append(os.path.join(root, name))
                    elif name.endswith(TEST_SUFFIX) and is_orphan(os.path.join(root, name)):
                        found.append(os.path.join(root, name))  # E306 when compiled
            if not found:
                problems.append(diagnostic(
                    "E006", f"`{path}` has no .ccf files", Span(path, 1, 1, 1, 1),
                    help="pass .ccf files or a directory that contains some"))
            files.extend(found)
        elif path.endswith(TEST_SUFFIX) and os.path.isfile(path[: -len(TEST_SUFFIX)] + ".ccf"):
            files.append(path[: -len(TEST_SUFFIX)] + ".ccf")
        else:
            files.append(path)
    deduped = list(dict.fromkeys(files))
    return deduped, problems
