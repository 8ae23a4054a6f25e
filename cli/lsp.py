"""`ccf lsp`: the language server for editors, on stdin/stdout (or a local TCP port)."""

from __future__ import annotations

import typer

from ccdsl.cli.common import fail
from ccdsl.cli.exit_codes import USAGE


def lsp(
    tcp: bool = typer.Option(False, "--tcp",
                             help="Listen on 127.0.0.1:PORT instead of stdin/stdout."),
    port: int = typer.Option(2087, "--port", min=1, max=65535,
                             help="The TCP port, with --tcp."),
) -> None:
    """Serve the Language Server Protocol for .ccf files, for editors.

    Diagnostics as you type, hover, go to definition, find references,
    completion, formatting, rename and an outline. An editor starts it and
    speaks to it on stdin/stdout; docs/authoring.md shows the set-up for VS
    Code, Neovim, Helix and Emacs.
    Exit status: 0 when the editor ends it, 2 when --tcp cannot listen on the
    port.
    """
    # pygls is imported only now: `ccf` itself starts without it
    from ccdsl.compiler.lsp.server import serve

    try:
        serve(port if tcp else None)
    except OSError as exc:  # pygls binds only now: a port in use is the user's to change
        if not tcp:
            raise
        raise fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", USAGE) \
            from None
