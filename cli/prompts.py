"""`ccf prompts check PATH...`: which recorded prompts are in the sounds folder.
Compiles and prints; runtime.asterisk.prompts does the lookup `ccf serve` makes."""

from __future__ import annotations

import typer

from ccdsl.cli.common import (
    ConfigOption,
    Format,
    TableFormat,
    TableFormatOption,
    load_centre,
    render_diagnostics,
    table_console,
    write,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE

app = typer.Typer(
    help="Recorded prompts: check that every flow's sound files are in the sounds folder. "
         "Administrators record prompts by phone with stdlib.prompt_recording.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_STATUS = {
    "present": "present",
    "missing": "MISSING",
    "unplayable": "NOT PLAYABLE",
    "invalid": "INVALID NAME",
    "dynamic": "not checked (name built from parameters)",
    "tts": "tts",
}


@app.command("check")
def check(
    paths: list[str] = typer.Argument(
        ..., metavar="PATH", show_default=False, autocompletion=flow_paths,
        help="Flow files or directories, searched recursively for .ccf files."),
    sounds: str = typer.Option(None, "--sounds", show_default=False,
                               help="The sounds folder (<sounds>/<language>/<name>.wav). "
                                    "Default: \\[paths] sounds of the ccf.toml."),
    config: ConfigOption = None,
    fmt: TableFormatOption = TableFormat.table,
    all_rows: bool = typer.Option(False, "--all", help="List text-to-speech prompts too "
                                                       "(the table shows recorded ones)."),
) -> None:
    """List, for each flow, which recorded prompts exist per language and which are missing.

    A prompt variant `zh-CN file "iws/welcome"` needs
    <sounds>/zh-CN/iws/welcome.wav (or .gsm, .ulaw, .alaw, .sln, .sln16,
    .g722: a format Asterisk plays), found as `ccf serve` finds it.
    Text-to-speech variants need no file ("tts"). Without --sounds, the
    sounds folder is the \\[paths] sounds of ccf.toml. Exit status: 0 when every
    recorded prompt is there, 1 when one is missing, not playable or
    invalid, or a flow has errors, 2 for a usage error.
    """
    import os

    from ccdsl import json_text
    from ccdsl.compiler.pipeline import compile_file, find_flow_files, unique_sorted
    from ccdsl.diagnostics import has_errors
    from ccdsl.runtime.asterisk.prompts import check_flow

    sounds_dir = sounds if sounds is not None else _sounds_of(config)
    for path in paths:
        if not os.path.exists(path):
            write(f"error: `{path}` does not exist\n", err=True)
            raise typer.Exit(USAGE)
    files, diags = find_flow_files(paths)
    if diags:  # a folder without flows
        for diag in diags:
            write(f"error: {diag.message}\n", err=True)
        raise typer.Exit(USAGE)
    rows = []
    sources: dict = {}
    for file in files:
        result = compile_file(file)
        diags.extend(result.diagnostics)
        sources.update(result.sources)
        if result.ir is not None:
            rows.extend(check_flow(result.ir, sounds_dir))
    diags = unique_sorted(diags)
    broken = has_errors(diags)
    if broken:
        write(render_diagnostics(diags, sources, Format.text, err=True), err=True)
        write("error: flows with errors are not checked: fix them (`ccf validate` shows the "
              "same)\n", err=True)
    failing = [r for r in rows if not r.ok]
    if fmt is TableFormat.json:
        write(json_text.dumps({"sounds": sounds_dir, "prompts": [r.to_json() for r in rows]},
                              ensure_ascii=False, indent=2) + "\n")
    else:
        _table(rows, sounds_dir, all_rows)
        recorded = [r for r in rows if r.status != "tts"]
        write(f"{len(recorded)} recorded prompt variants in {len(files)} files: "
              f"{sum(r.status == 'present' for r in recorded)} present, {len(failing)} "
              f"missing or unusable; sounds folder {sounds_dir}"
              + ("" if os.path.isdir(sounds_dir) else " (does not exist)") + "\n")
    raise typer.Exit(PROBLEMS if failing or broken else OK)


def _sounds_of(config: str | None) -> str:
    return load_centre(config, USAGE, then="error: name the sounds folder with --sounds DIR, or "
                                       "the centre's config with --config ccf.toml").sounds_dir


def _table(rows, sounds_dir: str, all_rows: bool) -> None:
    from rich.table import Table

    shown = [r for r in rows if all_rows or r.status != "tts"]
    console = table_console()
    if not shown:
        console.print("No recorded prompts: every prompt is text-to-speech.")
        return
    table = Table(title=f"Recorded prompts ({sounds_dir})", title_justify="left")
    for column in ("flow", "prompt", "language", "file", "status"):
        table.add_column(column, overflow="fold")
    for row in shown:
        style = None if row.ok else "red"
        found = ", ".join(row.files)
        table.add_row(row.flow, row.prompt, row.language, row.name or "-",
                      _STATUS[row.status] + (f" ({found})" if found else ""), style=style)
    console.print(table)
