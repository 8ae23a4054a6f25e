"""`ccf store backup DEST`: a consistent copy of the call store while ccf serve writes to it.
Reads options and prints; runtime.operations.store_backup makes the copy."""

from __future__ import annotations

import typer

from ccdsl.cli.common import ConfigOption, StoreOption, fail, store_exit, store_target, write


def backup(
    dest: str = typer.Argument(..., metavar="DEST", show_default=False,
                               help="The backup file to write (replaced whole when it exists)."),
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Back the call store up to DEST while it serves.

    SQLite: SQLite's online backup API, a copy of the store at one moment
    (checked with PRAGMA integrity_check) while ccf serve goes on writing;
    restore by stopping ccf serve and copying DEST over the store file.
    PostgreSQL: pg_dump writes plain SQL to DEST (the password from
    $CCF_STORE_PASSWORD, given to pg_dump as PGPASSWORD); restore with
    `psql -v ON_ERROR_STOP=1 -d URL -f DEST` into an empty database
    (docs/operations.md). Exit status: 0; 4 for a PostgreSQL server that does
    not answer; 2 for a store that is missing or cannot be read, a DEST that
    cannot be written, or pg_dump failing otherwise.
    """
    from ccdsl.runtime.operations.store_backup import BackupError
    from ccdsl.runtime.operations.store_backup import backup as make_backup

    text = store_target(store, config)
    try:
        done = make_backup(text, dest)
    except BackupError as exc:  # pg_dump's message and hint, on one line; a server not
        # answering exits 4 (cli/common.store_exit)
        raise fail("; ".join(x.strip() for x in str(exc).splitlines() if x.strip()),
                   store_exit(exc)) from None
    held = "" if done.calls is None else f", {done.calls} calls"
    write(f"backed up to {done.dest} ({done.how}, {done.size} bytes{held})\n")
