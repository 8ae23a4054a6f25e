"""`ccf explain CODE`: the long explanation of a diagnostic code."""

from __future__ import annotations

import sys

import typer

from ccdsl.cli.common import wants_color, write
from ccdsl.cli.completion import diagnostic_codes
from ccdsl.cli.exit_codes import INTERNAL, OK, USAGE


def explain(
    code: str = typer.Argument(
        None, show_default=False, metavar="CODE", autocompletion=diagnostic_codes,
        help="A diagnostic code such as E100 or W600, as printed by `ccf validate`."),
    list_codes: bool = typer.Option(False, "--list", help="List every code with its title."),
) -> None:
    """Explain a diagnostic code, with an example and its fix.

    Shows what the code means, a flow that triggers it and the same flow
    fixed. `ccf explain --list` lists every code.

    Exit status: 0; 2 for an unknown code or none given.
    """
    import difflib

    from ccdsl.codes import CODES, explanation

    if list_codes:
        write("".join(f"{c.code}  {c.severity.value:<7}  {c.title}\n" for c in CODES.values()))
        raise typer.Exit(OK)
    if not code:
        write("error: give a code to explain (like `ccf explain E100`), or --list\n", err=True)
        raise typer.Exit(USAGE)
    wanted = code.strip().upper()
    if wanted not in CODES:
        close = difflib.get_close_matches(wanted, list(CODES), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        write(f"error: `{code}` is not a ccdsl diagnostic code{hint}\n"
              "       `ccf explain --list` lists them all\n", err=True)
        raise typer.Exit(USAGE)
    text = explanation(wanted)
    if text is None:
        info = CODES[wanted]
        write(f"error: {wanted} ({info.title}) has no long explanation in this installation\n",
              err=True)
        raise typer.Exit(INTERNAL)  # a broken installation, not the user's mistake
    if wants_color(sys.stdout):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        write(text if text.endswith("\n") else text + "\n")
