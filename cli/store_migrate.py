"""`ccf store migrate`: bring a call store's schema to this ccdsl's version (docs/store.md
"Migrations"). Reads options and prints; runtime.operations.store_migrate migrates."""

from __future__ import annotations

import sqlite3

import typer

from ccdsl.cli import exit_codes
from ccdsl.cli.common import ConfigOption, StoreOption, fail, store_failure, store_target, write


def migrate(
    store: StoreOption = None,
    config: ConfigOption = None,
    check: bool = typer.Option(False, "--check",
                               help="Change nothing: exit 1 when a migration is pending, "
                                    "saying from which version to which."),
) -> None:
    """Bring the call store's schema up to this ccdsl's version, in one transaction.

    A SQLite file is also brought up to date whenever it is opened; a PostgreSQL store is
    created on first use, but an older one is upgraded only by this command (stop the
    workers that share it first). A store newer than this ccdsl is refused. Exit status:
    0 when the store is current (or made so); 1 with --check when a migration is pending;
    2 for a store that is missing, refuses the login, or is not a call store (or is
    newer); 4 when its PostgreSQL server does not answer.
    """
    from ccdsl.runtime.operations.database import connect, shown
    from ccdsl.runtime.operations.store_migrate import StoreError, upgrade

    target = store_target(store, config)
    name = shown(target)
    try:
        db = connect(target, busy_ms=30_000)
    except sqlite3.Error as exc:
        raise store_failure(target, exc) from None
    try:
        found, now = upgrade(db, target, check=check)
    except (StoreError, sqlite3.Error) as exc:
        raise fail(f"{name} cannot be migrated: {exc}", exit_codes.USAGE) from None
    finally:
        db.close()
    if found == now:
        write(f"{name}: schema version {now}, up to date\n")
    elif check:
        before = "no call store yet" if found is None else f"schema version {found}"
        write(f"{name}: migration pending: {before} -> {now}\n")
        raise typer.Exit(exit_codes.PROBLEMS)
    elif found is None:
        write(f"{name}: created the call store, schema version {now}\n")
    else:
        write(f"{name}: migrated schema version {found} -> {now}\n")
