"""`ccf store`: commands on the call store itself (copy it to another back end).
Only the group: each command lives in a module of its own."""

from __future__ import annotations

import typer

from ccdsl.cli.store_copy import copy

app = typer.Typer(help="The call store itself: copy it to another back end (SQLite, "
                       "PostgreSQL).", no_args_is_help=True)
app.command("copy")(copy)
