"""`ccf compile FILE [-o OUT]`: compile a flow to its JSON IR."""

from __future__ import annotations

from pathlib import Path

import typer

from ccdsl.cli.common import (
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
    write_file,
)
from ccdsl.cli.completion import flow_paths
from ccdsl.cli.exit_codes import PROBLEMS, USAGE


def compile_flow(
    file: str = typer.Argument(..., metavar="FILE", show_default=False,
                               autocompletion=flow_paths,
                               help="The entry .ccf flow to compile; `-` reads it from "
                                    "standard input."),
    out: Path = typer.Option(None, "--output", "-o", metavar="OUT", dir_okay=False,
                             help="Write the IR to this file instead of standard output."),
    fmt: FormatOption = Format.text,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    warnings_as_errors: WarningsAsErrorsOption = False,
    stdin_filename: StdinFilenameOption = None,
    no_cache: NoCacheOption = False,
) -> None:
    """Compile a flow and the modules it uses to the JSON IR.

    The IR is what the runtime executes. Diagnostics go to standard error;
    with errors (or warnings, with --warnings-as-errors) no IR is written.

    Exit status: 0 when the IR was written, 1 when the flow has errors (or
    warnings, with --warnings-as-errors), 2 for a usage error (a missing
    FILE or a folder, an OUT that cannot be written).
    """
    from ccdsl.compiler.result_cache import compile_cached

    chosen = code_selection(select, ignore, warnings_as_errors)
    store = compile_cache(no_cache)
    result = compile_stdin([file], stdin_filename, chosen, lower=True, store=store) \
        or compile_cached(file, selection=chosen, store=store)
    write(render_diagnostics(result.diagnostics, result.sources, fmt, err=True), err=True)
    if missing_paths([file]) or (file != "-" and Path(file).is_dir()):
        raise typer.Exit(USAGE)  # a folder is no FILE: as for graph and simulate
    if not result.ok or result.ir is None:
        write(run_failed_note(result.diagnostics), err=True)
        raise typer.Exit(PROBLEMS)
    from ccdsl.compiler.ir_schema import validate_ir

    # the compiler must never hand the runtime IR that the runtime would refuse
    problems = validate_ir(result.ir)
    if problems:
        raise RuntimeError("the compiled IR does not match compiler/ir.schema.json: "
                           + "; ".join(problems[:3]))
    from ccdsl.compiler.lower import to_json

    text = to_json(result.ir)
    if out is None:
        write(text)
        return
    write_file(out, text)
