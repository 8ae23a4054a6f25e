"""`ccf flows`: the versions `ccf deploy` wrote to the flow store, the
current one marked. Reading only: runtime.asterisk.flowstore does the work."""

from __future__ import annotations

from enum import StrEnum

import typer

from ccdsl.cli.common import table_console, write
from ccdsl.cli.deploy import CONFIG_HELP


class FlowsFormat(StrEnum):
    table = "table"
    json = "json"


def flows(
    config: str = typer.Option("ccf.toml", "--config", "-c", envvar="CCF_CONFIG",
                               help=CONFIG_HELP),
    fmt: FlowsFormat = typer.Option(FlowsFormat.table, "--format", "-f",
                                    help="table (for people) or json (for tools: a list of "
                                         "versions, oldest first)."),
) -> None:
    """List the deployed versions of the flows, oldest first, the current one marked.

    Each version shows when it was deployed, its flows, the numbers routed
    to them and its note. Exit status: 0, or 1 when the config or the flow
    store cannot be read.
    """
    import json

    from ccdsl.runtime.asterisk.config import ConfigError, load_config
    from ccdsl.runtime.asterisk.flowstore import FlowStore, FlowStoreError

    try:
        centre = load_config(config)
        versions = FlowStore(centre.flows_dir).versions()
    except ConfigError as exc:
        for problem in exc.problems:
            write(f"error: {problem}\n", err=True)
        raise typer.Exit(1) from None
    except FlowStoreError as exc:
        write(f"error: {exc}\n", err=True)
        raise typer.Exit(1) from None
    if fmt is FlowsFormat.json:
        write(json.dumps([v.to_json() for v in versions], ensure_ascii=False, indent=2) + "\n")
        return
    if not versions:
        write(f"Nothing is deployed in {centre.flows_dir} yet: run `ccf deploy PATH`.\n")
        return
    _table(versions, centre.flows_dir)


def _table(versions, root: str) -> None:

    from rich.table import Table

    console = table_console()
    table = Table(title=f"Deployed flows ({root})", title_justify="left")
    for column in ("", "version", "created", "flows", "numbers", "note"):
        table.add_column(column, overflow="fold")
    for version in versions:
        numbers = ", ".join(f"{n} -> {f}" for n, f in version.numbers.items())
        table.add_row("*" if version.current else "", version.version, version.created,
                      ", ".join(f.name for f in version.flows), numbers, version.note)
    console.print(table)
    console.print("* the current version: new calls start on it")
