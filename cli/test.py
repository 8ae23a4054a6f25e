"""`ccf test PATH...`: run the test blocks of flows and print the results.
Reads options and prints; runtime.testing runs the tests, selects them (-k) and
writes the JSON and JUnit reports, runtime.operations.trace words them."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import typer

from ccdsl.cli import exit_codes
from ccdsl.cli.common import (
    IgnoreOption,
    NoCacheOption,
    SelectOption,
    TextFormat,
    WarningsAsErrorsOption,
    code_selection,
    compile_cache,
    write,
    write_file,
)
from ccdsl.cli.completion import flow_paths, test_names
from ccdsl.terminal_text import visible

# a progress bar pays off only when there is enough to wait for
PROGRESS_MIN_TESTS = 20
# a test slower than this shows its time on its line in text mode
SLOW_TEST_SECONDS = 1.0


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
    seconds: float = 0.0  # compiling it and running its tests
    # the flow compiles but some test blocks do not: every test in order, a
    # compiler.test_isolation.BrokenTest or None for the IR's next test
    order: tuple = ()
    cases: list = field(default_factory=list)  # runtime.testing.case_report.CaseReport
    # every test of the flow in the order its files have them, each with whether -k
    # selects it: (Planned, bool) pairs, planned once before any test runs
    plan: tuple = ()
    # W605: two tests of one name, which the reports and -k cannot tell apart
    twice: list = field(default_factory=list)

@dataclass(frozen=True)
class Planned:
    name: str
    loc: dict
    test: dict | None = None  # the IR's test block
    broken: object = None  # or the block that does not compile

    def id(self, root: str) -> str:
        from ccdsl.render import display_path

        return f"{display_path(self.loc.get('file', ''), root)}::{self.name}"


@dataclass
class Session:
    """What every flow's run shares: the options, and whether --fail-fast has stopped."""

    verbose: bool
    via: Via
    fail_fast: bool
    stopped: bool = False
    # runtime.sim.store_template.StoreTemplates: every test's call store, a copy of one
    stores: object = None


def run_flow_tests(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", show_default=False, autocompletion=flow_paths,
        help="Flow files or directories (searched recursively); the tests of NAME.ccf are its "
             "`test` blocks and those of NAME.test.ccf beside it."),
    keyword: str = typer.Option(
        None, "-k", metavar="EXPRESSION", show_default=False, autocompletion=test_names,
        help="Only the tests whose `FILE::NAME` contains the words, in any case: `-k "
             "vip`, `-k \"known caller\"`, `-k 'menu and not retries'`, `-k 'vip or "
             "\"not found\"'` (quotes make and/or/not part of a name). The others are "
             "counted as deselected."),
    fail_fast: bool = typer.Option(False, "--fail-fast", "-x",
                                   help="Stop at the first failing test; the rest are "
                                        "reported as not run."),
    fmt: TextFormat = typer.Option(
        TextFormat.text, "--format", "-f",
        help="text (for people) or json (one document on standard output with every test, "
             "for tools; docs/testing.md)."),
    junit: Path = typer.Option(None, "--junit", metavar="FILE", dir_okay=False,
                               help="Also write the results as JUnit XML to FILE, for CI."),
    durations: int = typer.Option(None, "--durations", metavar="N", min=0, show_default=False,
                                  help="Also list the N slowest tests (0: every test) with "
                                       "their times."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Print the trace of every test, not only of failures."),
    via: Via = typer.Option(Via.sim, "--via",
                            help="sim: the simulator's channel. asterisk: through ccf serve's "
                                 "FastAGI server over 127.0.0.1, with a test peer answering "
                                 "every AGI command as Asterisk does (no Asterisk needed)."),
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    warnings_as_errors: WarningsAsErrorsOption = False,
    no_cache: NoCacheOption = False,
) -> None:
    """Run every test block of the given flows as a simulated call.

    With --via asterisk each call goes through the FastAGI server of `ccf
    serve` instead, so the flow's ops become real AGI commands and replies;
    the outcomes must be the same.

    Warnings do not fail tests; with --warnings-as-errors (narrowed by
    --select and --ignore, as in `ccf validate`) a warning in the flow fails
    it as a flow that does not compile, and one inside a test block fails
    that test.

    Prints one line per test, the failing expectations with their source
    lines and the call's trace, then a summary `N passed, N failed` (and `N
    not run`, `N deselected` when there are). A flow that does not compile
    counts as one failed test. Exit status: 0 when every test passed, 1 when
    any failed, 2 for a usage error (a -k that selects no test too, a --junit
    FILE that cannot be written: checked before any test runs), 5 when it
    found no test in the flows given.
    """
    from datetime import datetime

    from ccdsl.compiler.flow_files import find_flow_files
    from ccdsl.runtime.testing.selection import KeywordError, parse

    began = time.perf_counter()
    timestamp = datetime.now().astimezone().isoformat(timespec="seconds")
    chosen = code_selection(select, ignore, warnings_as_errors)
    try:
        selector = parse(keyword or "")
    except KeywordError as exc:
        write(f"error: -k {keyword!r}: {exc}\n", err=True)
        raise typer.Exit(exit_codes.USAGE) from None
    files, problems = find_flow_files(paths)
    missing = [p for p in paths if not os.path.exists(p)]
    if missing or problems:
        for path in missing:
            write(f"error: `{path}` does not exist\n", err=True)
        for diag in problems:
            if diag.span.file not in missing:
                write(f"error: {diag.message}\n", err=True)
        raise typer.Exit(exit_codes.USAGE)

    if junit is not None:
        _check_junit(junit)
    store = compile_cache(no_cache)
    compiled = [_compile(path, chosen, store) for path in files]
    root = os.getcwd()
    for run in compiled:
        run.plan = tuple((p, _selected(selector, p, root)) for p in _planned(run))
    planned = [p for run in compiled for p, _ in run.plan]
    selected = sum(chosen for run in compiled for _, chosen in run.plan)
    if keyword and planned and not selected:
        write(f"error: -k {keyword!r} selects none of the {len(planned)} tests "
              f"(a test is selected by its `FILE::NAME`, e.g. `{visible(planned[0].id(root))}`)\n",
              err=True)
        raise typer.Exit(exit_codes.USAGE)

    for run in compiled:
        write(_twice_warnings(run, root), err=True)

    from ccdsl.runtime.sim.store_template import StoreTemplates

    text = fmt is TextFormat.text
    use_bar = text and _progress_wanted(selected)
    with StoreTemplates() as stores:  # removed at the end, on an error or Ctrl-C too
        session = Session(verbose, via, fail_fast, stores=stores)
        if use_bar:
            runs = _run_with_progress(compiled, selected, session)
        else:
            runs = [_run_flow(run, write if text else None, session) for run in compiled]

    from ccdsl.runtime.testing.case_report import totals

    cases = [case for run in runs for case in run.cases]
    counts = totals(cases, time.perf_counter() - began)
    status = exit_codes.PROBLEMS if counts.failed + counts.errors else exit_codes.OK
    if junit is not None:
        _write_junit(junit, runs, cases, counts.seconds, timestamp)
    if not planned and not any(run.compile_failed for run in runs):
        names = ", ".join(run.path for run in runs[:5]) + (" ..." if len(runs) > 5 else "")
        flows = f"{len(runs)} flow{'s' if len(runs) != 1 else ''}"
        write(f"error: no tests found in {flows} ({names}): "
              "write `test` blocks in NAME.ccf or in NAME.test.ccf beside it (exit "
              f"{exit_codes.NO_TESTS})\n", err=True)
        status = exit_codes.NO_TESTS
    if text:
        if durations is not None:
            write(_slowest(cases, durations))
        write(_summary(counts) + "\n")
    else:
        from ccdsl import json_text
        from ccdsl.runtime.testing.json_report import report_document

        document = report_document(cases, seconds=counts.seconds, exit_status=status,
                                   via=via.value, selection=keyword)
        write(json_text.dumps(document, indent=2, ensure_ascii=False) + "\n")
    raise typer.Exit(status)


def _twice_warnings(run: FlowRun, root: str) -> str:
    """W605 as `ccf validate` prints a warning (its line quoted, the first test named,
    the fix; the file names escaped)."""
    from ccdsl.cli.common import Format as DiagFormat
    from ccdsl.cli.common import render_diagnostics

    return render_diagnostics(run.twice, run.sources, DiagFormat.text, err=True, root=root)


def _planned(run: FlowRun) -> list[Planned]:
    """Every test of the flow in the order its files have them, not yet run."""
    if run.ir is None:
        return []
    tests = iter(run.ir["tests"])
    out = []
    for broken in run.order or (None,) * len(run.ir["tests"]):
        if broken is None:
            test = next(tests)
            out.append(Planned(test["name"], test.get("loc", {}), test=test))
        else:
            span = broken.test.span
            out.append(Planned(broken.test.name.value,
                               {"file": span.file, "line": span.line,
                                "column": span.column}, broken=broken))
    return out


def _selected(selector, planned: Planned, root: str) -> bool:
    from ccdsl.runtime.testing.selection import matches

    return matches(selector, planned.id(root))


def _summary(counts) -> str:
    """`N passed, N failed`, which CI greps: a test that could not run (its flow
    or block does not compile) counts as failed here."""
    parts = [f"{counts.passed} passed", f"{counts.failed + counts.errors} failed"]
    if counts.not_run:
        parts.append(f"{counts.not_run} not run")
    if counts.deselected:
        parts.append(f"{counts.deselected} deselected")
    return ", ".join(parts)


def _slowest(cases: list, limit: int) -> str:
    ran = sorted((c for c in cases if c.outcome in ("passed", "failed", "error")),
                 key=lambda c: c.seconds, reverse=True)
    shown = ran[:limit] if limit else ran
    if not shown:
        return ""
    lines = [f"slowest {len(shown)} test{'s' if len(shown) != 1 else ''}:\n"]
    lines += [f"  {case.seconds:8.4f}s  {visible(case.file)}:{case.line}  {visible(case.name)}\n"
              for case in shown]
    return "".join(lines)


def _check_junit(path: Path) -> None:
    """Exit USAGE before any test runs when --junit's FILE cannot be written: after the
    run, its usage error would hide the tests' own status."""
    folder = path.parent if str(path.parent) else Path(".")
    problem = ("is a folder" if path.is_dir()
               else f"its folder {folder} does not exist: no such folder" if not folder.is_dir()
               else f"its folder {folder} cannot be written" if not os.access(folder, os.W_OK)
               else "")
    if problem:
        write(f"error: --junit {path}: {problem}; no test was run\n", err=True)
        raise typer.Exit(exit_codes.USAGE)


def _write_junit(path: Path, runs: list[FlowRun], cases: list, seconds: float,
                 timestamp: str) -> None:
    import socket

    from ccdsl.render import display_path
    from ccdsl.runtime.testing.junit import junit_xml

    root = os.getcwd()
    xml = junit_xml(cases, suite_seconds={display_path(run.path, root): run.seconds
                                          for run in runs},
                    seconds=seconds, timestamp=timestamp, hostname=socket.gethostname())
    write_file(path, xml)


def _progress_wanted(total: int) -> bool:
    """A bar for a person at a terminal; CI logs and pipes get plain lines."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return total >= PROGRESS_MIN_TESTS and is_terminal(sys.stdout)


def is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _compile(path: str, selection, store=None) -> FlowRun:
    """Compile a flow, ready to run its tests; selection (a
    ccdsl.code_selection.Selection) may make warnings errors; store, the
    compiler's cache (None: --no-cache)."""
    from ccdsl.compiler.result_cache import compile_cached

    started = time.perf_counter()
    # a stored result has no program, which isolating the broken tests needs
    result = compile_cached(path, selection=selection, store=store, reuse_failed=False)
    run = FlowRun(path, diagnostics=[d for d in result.diagnostics if d.is_error],
                  sources=result.sources,
                  twice=[d for d in result.diagnostics if d.code == "W605" and not d.is_error])
    if not result.ok or result.ir is None:
        from ccdsl.compiler.test_isolation import isolate_tests

        isolated = isolate_tests(result) if not result.ok else None
        if isolated is None:
            run.compile_failed = True
        else:
            run.ir, run.order = isolated.ir, isolated.order
    else:
        run.ir = result.ir
    run.seconds = time.perf_counter() - started
    return run


def _run_flow(run: FlowRun, out, session: Session, advance=None) -> FlowRun:
    """Run one flow's selected tests, printing a line per test through `out`
    (None: print nothing) and keeping a CaseReport of each, deselected and not-run
    ones too."""
    from ccdsl.cli.common import Format as DiagFormat
    from ccdsl.cli.common import render_diagnostics
    from ccdsl.runtime.core.ir import load_program
    from ccdsl.runtime.testing.case_report import DESELECTED, NOT_RUN

    if session.via is Via.asterisk:
        from ccdsl.runtime.testing.via_asterisk import run_test_over_agi as run_test
    else:
        from ccdsl.runtime.testing.runner import run_test

    root = os.getcwd()
    if run.compile_failed:
        if out is not None:
            from ccdsl.render import display_path

            # written as the tests' places are: relative to here
            out(f"FAIL  {display_path(run.path, root)}: {_compile_failure(run.path)}\n")
            out(_indent(render_diagnostics(run.diagnostics, run.sources, DiagFormat.text,
                                           root=root)))
        run.cases.append(_compile_case(run, root))
        session.stopped = session.stopped or session.fail_fast
        if advance:
            advance()
        return run
    program = None
    for planned, chosen in run.plan:
        if not chosen:
            run.cases.append(_bare_case(run, planned, DESELECTED, root))
            continue
        if session.stopped:
            run.cases.append(_bare_case(run, planned, NOT_RUN, root))
            if advance:
                advance()
            continue
        started = time.perf_counter()
        if planned.broken is not None:
            result = _broken_result(planned.broken, run.sources)
        else:
            if program is None:  # the compiler's own output: valid
                program = load_program(run.ir, validate=False)
            result = run_test(run.ir, planned.test, program=program, stores=session.stores)
        seconds = time.perf_counter() - started
        run.seconds += seconds
        run.results.append(result)
        case = _case_of(run, result, seconds, session.verbose, root)
        run.cases.append(case)
        if out is not None:
            out(_result_text(result, run.sources, case.trace, seconds))
        if not result.passed and session.fail_fast:
            session.stopped = True
        if advance:
            advance()
    return run


def _compile_case(run: FlowRun, root: str):
    """A flow that does not compile, as the one errored case of its suite."""
    from ccdsl.cli.common import Format as DiagFormat
    from ccdsl.cli.common import render_diagnostics
    from ccdsl.render import display_path
    from ccdsl.runtime.testing.case_report import COMPILE_CASE, ERROR, CaseReport, Failure

    flow = display_path(run.path, root)
    first = run.diagnostics[0].span if run.diagnostics else None
    file = display_path(first.file, root) if first else flow
    line, column = (first.line, first.column) if first else (1, 1)
    return CaseReport(flow, file, COMPILE_CASE, line, ERROR, run.seconds,
                      (Failure(_compile_failure(run.path), file, line, column),),
                      details=render_diagnostics(run.diagnostics, run.sources,
                                                 DiagFormat.concise, root=root))


def _bare_case(run: FlowRun, planned: Planned, outcome: str, root: str):
    from ccdsl.render import display_path
    from ccdsl.runtime.testing.case_report import CaseReport

    return CaseReport(display_path(run.path, root),
                      display_path(planned.loc.get("file", run.path), root), planned.name,
                      planned.loc.get("line", 1), outcome)


def _case_of(run: FlowRun, result, seconds: float, verbose: bool, root: str):
    """A test's result as its reporters see it."""
    from ccdsl.render import display_path
    from ccdsl.runtime.operations.trace import render_trace
    from ccdsl.runtime.testing.case_report import ERROR, FAILED, PASSED, CaseReport, Failure

    def failure(message: str, loc: dict, happened: str | None = None) -> Failure:
        return Failure(message, display_path(loc.get("file", run.path), root),
                       loc.get("line", 1), loc.get("column", 1), happened)

    if result.passed:
        outcome, failures = PASSED, ()
    elif result.error:
        outcome = ERROR
        failures = (failure(result.error, result.error_loc or result.loc),)
    else:
        outcome = FAILED
        failures = tuple(failure(o.expectation.describe(), _where(o), str(o.happened))
                         for o in result.outcomes if not o.passed)
    # every event in the reports (JSON, JUnit); the text printed folds its repeats
    trace = render_trace(result.events, root=root, fold=False) \
        if result.events and (verbose or not result.passed) else ""
    return CaseReport(display_path(run.path, root),
                      display_path(result.loc.get("file", run.path), root), result.name,
                      result.loc.get("line", 1), outcome, seconds, failures,
                      details=result.concise, trace=trace)


def _where(outcome) -> dict:
    """Where a failed expectation points: its line, or for the implicit
    `expect not error` the line that failed."""
    if outcome.expectation.implicit and outcome.where:
        return outcome.where
    return outcome.expectation.loc


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
    # the reports' file:line is the first fault's, which CI annotates
    first = broken.diagnostics[0].span if broken.diagnostics else span
    return TestResult(broken.test.name.value, {"file": span.file, "line": span.line,
                                               "column": span.column},
                      error="the test does not compile",
                      error_loc={"file": first.file, "line": first.line,
                                 "column": first.column},
                      details=render_diagnostics(list(broken.diagnostics), sources,
                                                 DiagFormat.text, root=os.getcwd()),
                      concise=render_diagnostics(list(broken.diagnostics), sources,
                                                 DiagFormat.concise, root=os.getcwd()))


def _run_with_progress(compiled: list[FlowRun], total: int, session: Session) -> list[FlowRun]:
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
            runs.append(_run_flow(run, out, session, lambda: progress.advance(task)))
    return runs


def _indent(text: str, pad: str = "    ") -> str:
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def _result_text(result, sources: dict, trace: str = "", seconds: float = 0.0) -> str:
    """A test's lines in text mode; trace, its case's (the CaseReport's, rendered once)."""
    from ccdsl.runtime.operations.trace import where_text

    where = visible(where_text(result.loc, os.getcwd()))
    slow = f"  ({seconds:.2f}s)" if seconds >= SLOW_TEST_SECONDS else ""
    lines = [f"{'ok  ' if result.passed else 'FAIL'}  {where}  {visible(result.name)}{slow}\n"]
    if result.error:
        # a run-time error's text may quote call values (a CRM field, a key)
        lines.append(f"    error: {visible(result.error)}\n")
        if result.details:  # the diagnostics quote their own lines
            lines.append(_indent(result.details))
        elif result.error_loc:
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
    if trace:
        from ccdsl.runtime.operations.trace_fold import folded_trace

        lines.append("    trace:\n")
        lines.append(_indent(folded_trace(trace), "      "))
    return "".join(lines)


def quote_line(loc: dict, sources: dict, note: str | None = None) -> str:
    """The source line of a test statement, quoted the way the compiler's
    diagnostics quote theirs: `--> file:line:col`, the line, a caret line."""
    from ccdsl.render import cells, display_path, shown_line

    file, line, column = loc.get("file", ""), loc.get("line", 1), loc.get("column", 1)
    lines = [f"--> {visible(display_path(file, os.getcwd()))}:{line}:{column}\n"]
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
        lines.append(f"{line} | {shown_line(text)}\n")  # an ESC in it shown, not acted on
        carets = "^" * max(cells(text[start:]), 1)
        lines.append(f"{gutter} | {' ' * cells(text[:start])}{carets}\n")
    if note:
        lines.append(f"{gutter} = {note}\n")
    return "".join(lines)
