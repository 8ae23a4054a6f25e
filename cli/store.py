"""`ccf store`: the call store's upkeep, one module per command. Only the group and its list
of commands: each command's options and work are in its own module (cli/store_*.py)."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="The call store's upkeep: bring its schema up to date, copy it to "
                       "another back end (SQLite, PostgreSQL), prune old calls and files, "
                       "back it up.",
                  no_args_is_help=True)

# each subcommand: its word, then "module:function" in ccdsl.cli
COMMANDS = {
    "migrate": "store_migrate:migrate",
    "prune": "store_prune:prune",
    "backup": "store_backup:backup",
    "copy": "store_copy:copy",
}

for _word, _target in COMMANDS.items():
    _module, _function = _target.split(":")
    app.command(_word)(getattr(importlib.import_module(f"ccdsl.cli.{_module}"), _function))
