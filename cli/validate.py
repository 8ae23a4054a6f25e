"""`ccf validate PATH...`: check flows and report diagnostics."""

from __future__ import annotations

import typer

from ccdsl.cli.common import (
    MACHINE_FORMATS,
    Format,
    FormatOption,
    IgnoreOption,
    SelectOption,
    StdinFilenameOption,
    WarningsAsErrorsOption,
    code_selection,
    compile_stdin,
    missing_paths,
    render_diagnostics,
    run_failed_note,
    write,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE


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
) -> None:
    """Check flows without running them and report every problem found.

    A warning on one line is silenced by a comment trailing that line:
    `# ccf: ignore\\[W206]`.

    Exit status: 0 when there are no errors (warnings allowed), 1 when there
    are errors (or warnings, with --warnings-as-errors), 2 for a usage error
    (a missing path, a folder without flows).
    """
    from ccdsl.compiler.pipeline import compile_file, find_flow_files, unique_sorted
    from ccdsl.diagnostics import has_errors
    from ccdsl.render import summary

    chosen = code_selection(select, ignore, warnings_as_errors)
    stdin = compile_stdin(paths, stdin_filename, chosen, lower=False)
    wrong_paths = False
    if stdin is not None:
        files, diags, sources = [stdin.path], list(stdin.diagnostics), dict(stdin.sources)
    else:
        files, diags = find_flow_files(paths)
        # reported as diagnostics too (E006), so --format json and github carry them
        wrong_paths = bool(diags) or bool(missing_paths(paths))
        sources: dict = {}
        for path in files:
            result = compile_file(path, lower=False, selection=chosen)
            diags.extend(result.diagnostics)
            sources.update(result.sources)
    # a module used by several entry files is reported once
    diags = unique_sorted(diags)
    write(render_diagnostics(diags, sources, fmt))
    machine = fmt in MACHINE_FORMATS
    gap = "\n" if diags and fmt is Format.text else ""
    write(gap + summary(diags, len(files)) + "\n", err=machine)
    write(run_failed_note(diags), err=True)
    raise typer.Exit(USAGE if wrong_paths else PROBLEMS if has_errors(diags) else OK)
