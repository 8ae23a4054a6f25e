"""`ccf fmt [--check] PATH...`: rewrite flows in the canonical layout."""

from __future__ import annotations

import os

import typer

from ccdsl.cli.common import (
    Format,
    FormatOption,
    StdinFilenameOption,
    missing_paths,
    read_stdin,
    render_diagnostics,
    stdin_name,
    write,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE


def ccf_files(paths: list[str]) -> tuple[list[str], list[str]]:
    """Every .ccf file named or found (recursively) under the paths, test
    files included; and the directories that held none."""
    files: list[str] = []
    empty: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".ccf"))
        if not found:
            empty.append(path)
        files.extend(found)
    return list(dict.fromkeys(files)), empty


def _line_ending(path: str) -> str:
    """The line ending the file is written with (its first line's): a file saved with
    CRLF keeps it, as the reader reads both alike and a layout change is not a new one."""
    with open(path, "rb") as fh:
        return "\r\n" if fh.readline().endswith(b"\r\n") else "\n"


def _diff(path: str, old: str, new: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        fromfile=f"{path} (original)",
                                        tofile=f"{path} (formatted)"))


def fmt(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", show_default=False, autocompletion=flow_paths,
        help="Flow files or directories; directories are searched recursively for .ccf files. "
             "`-` formats standard input to standard output."),
    check: bool = typer.Option(
        False, "--check",
        help="Change nothing; list the files that would be reformatted and exit 1 if any."),
    diff: bool = typer.Option(False, "--diff",
                              help="Print a unified diff of each change (implies --check)."),
    fmt_: FormatOption = Format.text,
    stdin_filename: StdinFilenameOption = None,
) -> None:
    """Format flows in the one canonical layout, keeping comments.

    Formatting is idempotent: a formatted file formats to itself. A file
    with syntax errors is left untouched and its errors are reported.
    With `-` the formatted text goes to standard output (nothing when it has
    syntax errors, or with --check), as editors' format-on-save expects.

    Exit status: 0 when done (with --check: when no file would change), 1
    when a file has syntax errors or, with --check, would change, 2 for a
    usage error (a missing path, a folder without flows).
    """
    from ccdsl.compiler.formatter import format_source
    from ccdsl.compiler.reader import read_source
    from ccdsl.diagnostics import diagnostic, has_errors
    from ccdsl.source import Span

    check = check or diff
    name = stdin_name(paths, stdin_filename)
    if name is not None:
        _fmt_stdin(name, check, diff, fmt_)
    files, empty = ccf_files(paths)
    diags = [diagnostic("E006", f"`{p}` has no .ccf files", Span(p, 1, 1, 1, 1),
                        help="pass .ccf files or a directory that contains some") for p in empty]
    sources: dict = {}
    changed: list[str] = []
    broken = 0  # files not formatted because of their errors
    for path in files:
        source, problems = read_source(path)
        diags.extend(problems)
        if source is None:
            continue
        sources[path] = source
        formatted, problems = format_source(source.text, path)
        diags.extend(problems)
        # a file with syntax errors is never rewritten: its meaning is unknown
        if formatted is None or has_errors(problems):
            broken += 1
            continue
        if formatted == source.text:
            continue
        changed.append(path)
        if diff:
            write(_diff(path, source.text, formatted))
        elif check:
            write(f"would reformat {path}\n")
        else:
            with open(path, "w", encoding="utf-8", newline=_line_ending(path)) as fh:
                fh.write(formatted)
    write(render_diagnostics(diags, sources, fmt_, err=True), err=True)
    verb = "would reformat" if check else "reformatted"
    unformatted = f"; {broken} not formatted: {'they have' if broken > 1 else 'it has'} errors" \
        if broken else ""
    write(f"{verb} {len(changed)} of {len(files)} file{'s' if len(files) != 1 else ''}"
          f"{unformatted}\n", err=True)
    if empty or missing_paths(paths):
        raise typer.Exit(USAGE)  # a missing path or a folder without flows
    raise typer.Exit(PROBLEMS if has_errors(diags) or (check and changed) else OK)
def _fmt_stdin(name: str, check: bool, diff: bool, fmt_: Format) -> None:
    """`ccf fmt -`: standard input formatted to standard output; diagnostics
    and the summary on standard error; exits."""
    from ccdsl.compiler.formatter import format_source
    from ccdsl.compiler.reader import source_from_bytes
    from ccdsl.diagnostics import has_errors

    source, diags = source_from_bytes(name, read_stdin())
    formatted = None
    if source is not None:
        formatted, diags = format_source(source.text, name)
    sources = {name: source} if source is not None else {}
    write(render_diagnostics(diags, sources, fmt_, err=True), err=True)
    if formatted is None or has_errors(diags):
        raise typer.Exit(PROBLEMS)
    changed = formatted != source.text
    if diff:
        write(_diff(name, source.text, formatted))
    elif not check:
        write(formatted)
    verb = "would reformat" if check else "reformatted"
    write(f"{verb} {1 if changed else 0} of 1 file\n", err=True)
    raise typer.Exit(PROBLEMS if check and changed else OK)
