"""`ccf test PATH...`: run the test blocks of flows and print the results.
Reads options and prints; runtime.testing runs the tests, runtime.operations.trace words them."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import typer

from ccdsl.cli.common import write
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE

# a progress bar pays off only when there is enough to wait for
PROGRESS_MIN_TESTS = 20


class Via(StrEnum):
    sim = "sim"
    asterisk = "asterisk"


@dataclass
class FlowRun:
    """The tests of one entry flow, or why they could not run."""

    path: str
    ir: dict | None = None
    results: list = field(default_factory=list)  # runtime.testing.runner.TestResult, once run
    diagnostics: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)
    compile_failed: bool = False
    seconds: float = 0.0
    # the flow compiles but some test blocks do not: every test in order, a
    # compiler.test_isolation.BrokenTest or None for the IR's next test
    order: tuple = ()


def run_flow_tests(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", show_default=False, autocompletion=flow_paths,
        help="Flow files or directories (searched recursively); the tests of NAME.ccf are its "
             "`test` blocks and those of NAME.test.ccf beside it."),
    junit: Path = typer.Option(None, "--junit", metavar="FILE", dir_okay=False,
                               help="Also write the results as JUnit XML to FILE, for CI."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Print the trace of every test, not only of failures."),
    via: Via = typer.Option(Via.sim, "--via",
                            help="sim: the simulator's channel. asterisk: through ccf serve's "
                                 "FastAGI server over 127.0.0.1, with a test peer answering "
                                 "every AGI command as Asterisk does (no Asterisk needed)."),
) -> None:
    """Run every test block of the given flows as a simulated call.

    With --via asterisk each call goes through the FastAGI server of `ccf
    serve` instead, so the flow's ops become real AGI commands and replies;
    the outcomes must be the same.

    Prints one line per test, the failing expectations with their source
    lines and the call's trace, then a summary `N passed, N failed`. A flow
    that does not compile counts as one failed test. Exit status: 0 when
    every test passed, 1 when any failed, 2 for a usage error.
    """
    from ccdsl.compiler.pipeline import find_flow_files

    files, problems = find_flow_files(paths)
    missing = [p for p in paths if not os.path.exists(p)]
    if missing or problems:
        for path in missing:
            write(f"error: `{path}` does not exist\n", err=True)
        for diag in problems:
            if diag.span.file not in missing:
                write(f"error: {diag.message}\n", err=True)
        raise typer.Exit(USAGE)

    compiled = [_compile(path) for path in files]
    total = sum(len(run.order) or len(run.ir["tests"]) for run in compiled if run.ir is not None)
    use_bar = _progress_wanted(total)
    runs: list[FlowRun] = []
    if use_bar:
        runs = _run_with_progress(compiled, total, verbose, via)
    else:
        for run in compiled:
            runs.append(_run_flow(run, lambda line: write(line), verbose, via=via))

    passed = sum(1 for run in runs for r in run.results if r.passed)
    failed = sum(1 for run in runs for r in run.results if not r.passed)
    failed += sum(1 for run in runs if run.compile_failed)
    if junit is not None:
        try:
            junit.write_text(junit_xml(runs), encoding="utf-8")
        except OSError as exc:
            write(f"error: cannot write `{junit}`: {exc.strerror or exc}\n", err=True)
            raise typer.Exit(USAGE) from None
    if not passed and not failed:
        names = ", ".join(run.path for run in runs[:5]) + (" ..." if len(runs) > 5 else "")
        write(f"no tests found in {len(runs)} flow{'s' if len(runs) != 1 else ''} ({names}): "
              "write `test` blocks in NAME.ccf or in NAME.test.ccf beside it\n", err=True)
    write(f"{passed} passed, {failed} failed\n")
    raise typer.Exit(PROBLEMS if failed else OK)


def _progress_wanted(total: int) -> bool:
    """A bar for a person at a terminal; CI logs and pipes get plain lines."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return total >= PROGRESS_MIN_TESTS and is_terminal(sys.stdout)


def is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _compile(path: str) -> FlowRun:
    """Compile a flow, ready to run its tests."""
    from ccdsl.compiler.pipeline import compile_file

    result = compile_file(path)
    run = FlowRun(path, diagnostics=[d for d in result.diagnostics if d.is_error],
                  sources=result.sources)
    if not result.ok or result.ir is None:
        from ccdsl.compiler.test_isolation import isolate_tests

        isolated = isolate_tests(result) if not result.ok else None
        if isolated is None:
            run.compile_failed = True
            return run
        run.ir, run.order = isolated.ir, isolated.order
        return run
    run.ir = result.ir
    return run


def _run_flow(run: FlowRun, out, verbose: bool, advance=None, via: Via = Via.sim) -> FlowRun:
    """Run one flow's tests, printing a line per test through `out`."""
    from ccdsl.cli.common import Format as DiagFormat
    from ccdsl.cli.common import render_diagnostics
    from ccdsl.runtime.core.ir import load_program

    if via is Via.asterisk:
        from ccdsl.runtime.testing.via_asterisk import run_test_over_agi as run_test
    else:
        from ccdsl.runtime.testing.runner import run_test

    if run.compile_failed:
        out(f"FAIL  {run.path}: {_compile_failure(run.path)}\n")
        out(_indent(render_diagnostics(run.diagnostics, run.sources, DiagFormat.text)))
        if advance:
            advance()
        return run
    started = time.perf_counter()
    program = load_program(run.ir, validate=False)  # the compiler's own output: valid
    tests = iter(run.ir["tests"])
    for broken in run.order or (None,) * len(run.ir["tests"]):
        if broken is None:
            result = run_test(run.ir, next(tests), program=program)
        else:
            result = _broken_result(broken, run.sources)
        run.results.append(result)
        out(_result_text(result, run.sources, verbose))
        if advance:
            advance()
    run.seconds = time.perf_counter() - started
    return run


def _compile_failure(path: str) -> str:
    if path.endswith(".test.ccf"):  # E306: a test file whose flow is not beside it
        return "no flow beside this test file to run its tests against"
    return "the flow does not compile"


def _broken_result(broken, sources: dict):
    """A test block that does not compile, as a failed test with its diagnostics."""
    from ccdsl.cli.common import Format as DiagFormat
    from ccdsl.cli.common import render_diagnostics
    from ccdsl.runtime.testing.runner import TestResult

    span = broken.test.span
    return TestResult(broken.test.name.value, {"file": span.file, "line": span.line,
                                               "column": span.column},
                      error="the test does not compile",
                      details=render_diagnostics(list(broken.diagnostics), sources,
                                                 DiagFormat.text),
                      concise=render_diagnostics(list(broken.diagnostics), sources,
                                                 DiagFormat.concise))


def _run_with_progress(compiled: list[FlowRun], total: int, verbose: bool,
                       via: Via = Via.sim) -> list[FlowRun]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console()
    runs = []
    with Progress(TextColumn("testing"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("tests", total=total + sum(r.compile_failed for r in compiled))

        def out(text: str) -> None:
            progress.console.print(text, end="", markup=False, highlight=False,
                                   soft_wrap=True)

        for run in compiled:
            runs.append(_run_flow(run, out, verbose, lambda: progress.advance(task), via))
    return runs


def _indent(text: str, pad: str = "    ") -> str:
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def _result_text(result, sources: dict, verbose: bool) -> str:
    from ccdsl.runtime.operations.terminal_text import visible
    from ccdsl.runtime.operations.trace import render_trace, where_text

    where = where_text(result.loc, os.getcwd())
    lines = [f"{'ok  ' if result.passed else 'FAIL'}  {where}  {visible(result.name)}\n"]
    if result.error:
        # a run-time error's text may quote call values (a CRM field, a key)
        lines.append(f"    error: {visible(result.error)}\n")
        if result.details:
            lines.append(_indent(result.details))
        if result.error_loc:
            lines.append(_indent(quote_line(result.error_loc, sources)))
    for outcome in result.outcomes:
        if outcome.passed:
            continue
        exp = outcome.expectation
        lines.append(f"    failed: {visible(exp.describe())}\n")
        if exp.implicit and outcome.where:
            # the test said nothing of errors: show where the call failed
            lines.append(_indent(quote_line(outcome.where, sources,
                                            note=f"happened: {visible(outcome.happened)}")))
            continue
        lines.append(_indent(quote_line(exp.loc, sources,
                                        note=f"happened: {visible(outcome.happened)}")))
    if (not result.passed or verbose) and result.events:
        lines.append("    trace:\n")
        lines.append(render_trace(result.events, root=os.getcwd(), indent="      "))
    return "".join(lines)


def quote_line(loc: dict, sources: dict, note: str | None = None) -> str:
    """The source line of a test statement, quoted the way the compiler's
    diagnostics quote theirs: `--> file:line:col`, the line, a caret line."""
    from ccdsl.render import display_path

    file, line, column = loc.get("file", ""), loc.get("line", 1), loc.get("column", 1)
    lines = [f"--> {display_path(file, os.getcwd())}:{line}:{column}\n"]
    source = sources.get(file)
    if source is None and os.path.isfile(file):
        from ccdsl.source import SourceFile

        try:
            source = SourceFile(file, Path(file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            source = None
    gutter = " " * len(str(line))
    if source is not None and 1 <= line <= source.line_count:
        text = source.line_text(line).rstrip()
        start = max(column - 1, 0)
        lines.append(f"{gutter} |\n")
        lines.append(f"{line} | {text}\n")
        carets = "^" * max(_cells(text[start:]), 1)
        lines.append(f"{gutter} | {' ' * _cells(text[:start])}{carets}\n")
    if note:
        lines.append(f"{gutter} = {note}\n")
    return "".join(lines)


def _cells(text: str) -> int:
    """Terminal cells of a text: East Asian wide characters take two, so a
    caret line under a Chinese prompt name still lines up."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# ---- JUnit XML -------------------------------------------------------------------------


def junit_xml(runs: list[FlowRun]) -> str:
    """The results in the JUnit XML that CI systems read: one testsuite per
    flow, one testcase per test, a failure element with the failed
    expectations and the call's trace."""
    import xml.etree.ElementTree as ET

    from ccdsl.runtime.operations.trace import render_trace, where_text

    root = ET.Element("testsuites", name="ccf test")
    totals = {"tests": 0, "failures": 0}
    for run in runs:
        suite = ET.SubElement(root, "testsuite", name=run.path, file=run.path)
        cases = failures = 0
        if run.compile_failed:
            cases, failures = 1, 1
            case = ET.SubElement(suite, "testcase", classname=_classname(run.path),
                                 name="compile", file=run.path)
            from ccdsl.cli.common import Format as DiagFormat
            from ccdsl.cli.common import render_diagnostics

            text = render_diagnostics(run.diagnostics, run.sources, DiagFormat.concise)
            failure = ET.SubElement(case, "failure", message=_compile_failure(run.path),
                                    type="compile")
            failure.text = text
        for result in run.results:
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=_classname(run.path),
                                 name=result.name, file=result.loc.get("file", run.path),
                                 line=str(result.loc.get("line", 1)),
                                 time=f"{result.seconds:.4f}")
            if result.passed:
                continue
            failures += 1
            failed = [o for o in result.outcomes if not o.passed]
            message = result.error or "; ".join(o.expectation.describe() for o in failed)
            failure = ET.SubElement(case, "failure", message=message,
                                    type="compile" if result.details else "expectation")
            details = [f"{where_text(_where(o), os.getcwd())}: "
                       f"{o.expectation.describe()}: {o.happened}" for o in failed]
            if result.error:
                details.insert(0, f"error: {result.error}")
            if result.concise:
                details.insert(1, result.concise.rstrip("\n"))
            failure.text = "\n".join(details) + "\n"
            if result.events:
                out = ET.SubElement(case, "system-out")
                out.text = render_trace(result.events, root=os.getcwd())
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("time", f"{run.seconds:.4f}")
        totals["tests"] += cases
        totals["failures"] += failures
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


def _where(outcome) -> dict:
    """Where a failed expectation points: its line, or for the implicit
    `expect not error` the line that failed."""
    if outcome.expectation.implicit and outcome.where:
        return outcome.where
    return outcome.expectation.loc


def _classname(path: str) -> str:
    stem = os.path.splitext(os.path.relpath(path))[0] if os.path.isabs(path) else \
        os.path.splitext(path)[0]
    return stem.replace(os.sep, ".").replace("/", ".").lstrip(".")
