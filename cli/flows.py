"""`ccf flows`: the versions `ccf deploy` wrote, the current one marked.
Reads and prints only; runtime.asterisk.flowstore does the work."""

from __future__ import annotations

from ccdsl.cli.common import (
    ConfigOption,
    TableFormat,
    TableFormatOption,
    fail,
    load_centre,
    store_exit,
    table_console,
    write,
)
from ccdsl.cli.exit_codes import PROBLEMS


def flows(
    config: ConfigOption = None,
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """List the deployed versions of the flows, oldest first, the current one marked.

    Each version shows when it was deployed (in the centre's zone; JSON
    keeps UTC), its flows, the numbers routed to them and its note. Exit
    status: 0; 1 when the flow store cannot be read; 2 for a missing or
    unusable ccf.toml, or a store's PostgreSQL server refusing the login;
    4 when that server does not answer.
    """
    from ccdsl import json_text
    from ccdsl.runtime.asterisk.flowstore import FlowStoreError
    from ccdsl.runtime.asterisk.flowstore_db import flow_store_for

    centre = load_centre(config)
    store = flow_store_for(centre)
    try:
        versions = store.versions()
    except FlowStoreError as exc:
        raise fail(str(exc), store_exit(exc, PROBLEMS)) from None  # server down: 4
    if fmt is TableFormat.json:
        write(json_text.dumps([v.to_json() for v in versions], ensure_ascii=False, indent=2) + "\n")
        return
    if not versions:
        write(f"Nothing is deployed in {store.where} yet: run `ccf deploy PATH`.\n")
        return
    _table(versions, store.where, _zone(centre))


def _zone(centre):
    """The zone listings show times in: the centre's ([centre] timezone), else this
    machine's, as `ccf calls list` shows a call store's."""
    from ccdsl.runtime.operations.centre_time import machine_zone, zone_named

    return zone_named(centre.timezone) if centre.timezone else machine_zone()


def _table(versions, root: str, zone) -> None:
    from rich.table import Table

    from ccdsl.runtime.operations.centre_time import local_iso

    console = table_console()
    table = Table(title=f"Deployed flows ({root})", title_justify="left")
    for column in ("", "version", "created", "flows", "numbers", "note"):
        table.add_column(column, overflow="fold")
    for version in versions:
        numbers = ", ".join(f"{n} -> {f}" for n, f in version.numbers.items())
        table.add_row("*" if version.current else "", version.version,
                      local_iso(version.created, zone),
                      ", ".join(f.name for f in version.flows), numbers, version.note)
    console.print(table)
    console.print("* the current version: new calls start on it")
