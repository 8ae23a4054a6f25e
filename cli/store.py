"""`ccf store`: look after the call store (prune, backup). Only the group: each command
lives in a module of its own (cli/store_*.py)."""

from __future__ import annotations

import typer

from ccdsl.cli import store_backup, store_prune

app = typer.Typer(help="Look after the call store: prune old calls and files, back it up.",
                  no_args_is_help=True)
app.command("prune")(store_prune.prune)
app.command("backup")(store_backup.backup)
