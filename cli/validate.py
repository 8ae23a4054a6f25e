"""`ccf validate PATH...`: check flows and report diagnostics."""

from __future__ import annotations

import typer

from ccdsl.cli.common import (
    MACHINE_FORMATS,
    Format,
    FormatOption,
    IgnoreOption,
    NoCacheOption,
    SelectOption,
    StdinFilenameOption,
    WarningsAsErrorsOption,
    code_selection,
    compile_cache,
    compile_stdin,
    missing_paths,
    render_diagnostics,
    run_failed_note,
    write,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE

# Set once a run has written all it had to: the process's entry point (main.main)
# may then end without freeing what the run built.
finished = False


def validate(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", show_default=False, autocompletion=flow_paths,
        help="Flow files or directories; directories are searched recursively for .ccf files "
             "(NAME.test.ccf files are checked with NAME.ccf). `-` reads one flow from "
             "standard input."),
    fmt: FormatOption = Format.text,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    warnings_as_errors: WarningsAsErrorsOption = False,
    stdin_filename: StdinFilenameOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Check flows without running them and report every problem found.

    A warning on one line is silenced by a comment trailing that line:
    `# ccf: ignore\\[W206]`. A flow none of whose files changed since it was last
    checked is answered from the cache (--no-cache: check afresh).

    Exit status: 0 when there are no errors (warnings allowed), 1 when there
    are errors (or warnings, with --warnings-as-errors), 2 for a usage error
    (a missing path, a folder without flows).
    """
    from ccdsl.compiler.compile_result import unique_sorted
    from ccdsl.compiler.flow_files import find_flow_files
    from ccdsl.compiler.result_cache import compile_cached
    from ccdsl.diagnostics import has_errors
    from ccdsl.render import summary

    chosen = code_selection(select, ignore, warnings_as_errors)
    store = compile_cache(no_cache)
    stdin = compile_stdin(paths, stdin_filename, chosen, lower=False, store=store)
    wrong_paths = False
    if stdin is not None:
        files, diags, sources = [stdin.path], list(stdin.diagnostics), dict(stdin.sources)
    else:
        files, diags = find_flow_files(paths)
        # reported as diagnostics too (E006), so --format json and github carry them
        wrong_paths = bool(diags) or bool(missing_paths(paths))
        sources: dict = {}
        for path in files:
            result = compile_cached(path, lower=False, selection=chosen, store=store)
            diags.extend(result.diagnostics)
            sources.update(result.sources)
    # a module used by several entry files is reported once
    diags = unique_sorted(diags)
    write(render_diagnostics(diags, sources, fmt))
    machine = fmt in MACHINE_FORMATS
    gap = "\n" if diags and fmt is Format.text else ""
    write(gap + summary(diags, len(files)) + "\n", err=machine)
    write(run_failed_note(diags), err=True)
    global finished
    finished = True
    raise typer.Exit(USAGE if wrong_paths else PROBLEMS if has_errors(diags) else OK)
