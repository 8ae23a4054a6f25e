"""Bringing a call store to this version's schema, inside the caller's transaction, and which
stores are brought up to date when opened (docs/store.md "Migrations").

Only the file's tables: must not know about events or calls, and must never add a call
store's tables to someone else's database.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from ccdsl.runtime.operations.database import is_postgres, shown, transaction
from ccdsl.runtime.operations.database.dialect import COMPAT_SQL
from ccdsl.runtime.operations.store_schema import (
    CARRY_WRAPUPS,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    SET_VERSION_SQL,
    pg_statements,
    statements,
)


class StoreError(Exception):
    """The file is not a call store this version can use, or could not be written."""


class PendingMigration(StoreError):
    """A PostgreSQL store of an older schema: only `ccf store migrate` upgrades it."""


def opening(target: str, found: int | None) -> None:
    """Whether a store of schema `found` (None: no call store yet) may be brought up to date
    as it is opened. A SQLite file may: one process at a time embeds it. A PostgreSQL store
    is created on first open, but several workers share one: an older one is upgraded by
    `ccf store migrate` alone, at a moment its operator chooses; PendingMigration otherwise.
    (A newer schema is refused by migrate() on both.)"""
    if found is None or found >= SCHEMA_VERSION or not is_postgres(target):
        return
    raise PendingMigration(f"{shown(target)}: the call store has schema version {found}, this "
                           f"ccdsl needs {SCHEMA_VERSION}; upgrade it with `ccf store migrate "
                           f"--store {shown(target)}` (with the workers that use it stopped)")


def migrate(db: sqlite3.Connection, path: str) -> None:
    """Create the schema in a new file, or bring an older store's up to this
    version. StoreError for a store newer than this ccdsl, or a SQLite file with
    tables and no call store's `meta`: a database that is not ours stays as it is."""
    tables = sorted({row[0] for row in db.execute("SELECT tbl_name FROM sqlite_master")})
    if tables and "meta" not in tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        kind = "SQLite" if isinstance(db, sqlite3.Connection) else "PostgreSQL"
        raise StoreError(f"{path} is not a call store: it is a {kind} database with other "
                         f"tables ({shown}); name a new file, or one `ccf serve` or "
                         "`ccf simulate --store` wrote")
    if "meta" in tables:
        row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        found = int(row[0]) if row else None
        if found is not None and found > SCHEMA_VERSION:
            raise StoreError(f"{path}: call store schema version {found} is newer "
                             f"than this ccdsl understands ({SCHEMA_VERSION})")
        if found == SCHEMA_VERSION:
            return
        for version in range(found or SCHEMA_VERSION, SCHEMA_VERSION):
            for statement in MIGRATIONS.get(version, ()):
                if needed(db, statement):
                    db.execute(statement)
    if isinstance(db, sqlite3.Connection):
        for statement in statements(SCHEMA):
            db.execute(statement)
    else:  # PostgreSQL: the functions that give the store's SQL its SQLite meaning first
        for statement in (*COMPAT_SQL, *pg_statements()):
            db.execute(statement)
    db.execute(SET_VERSION_SQL, (str(SCHEMA_VERSION),))
    db.execute("INSERT INTO meta (key, value) VALUES ('created', ?) ON CONFLICT (key) DO NOTHING",
               (datetime.now(UTC).isoformat(timespec="seconds"),))


def needed(db: sqlite3.Connection, statement: str) -> bool:
    """Whether a migration's statement has something to do: an `ALTER TABLE t ADD COLUMN c`
    not when the column is there, a `DROP COLUMN c` (and carrying calls.wrapup over to
    wrapups) not when it is gone (a file whose version was set back by hand, an interrupted
    upgrade, or a file of the first versions, whose calls had no wrap-up)."""
    words = statement.split()
    if statement == CARRY_WRAPUPS:
        return _has_column(db, "calls", "wrapup")
    if words[:2] != ["ALTER", "TABLE"] or words[3:4] not in (["ADD"], ["DROP"]) \
            or words[4:5] != ["COLUMN"]:
        return True
    return _has_column(db, words[2], words[5]) == (words[3] == "DROP")


def _has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    if not isinstance(db, sqlite3.Connection):  # PostgreSQL: its catalogue, this schema's
        return db.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                          "current_schema() AND table_name = ? AND column_name = ?",
                          (table.lower(), column.lower())).fetchone() is not None
    return any(r[1] == column for r in db.execute(f"PRAGMA table_info({table})"))


def version_of(db: sqlite3.Connection) -> int | None:
    """The store's schema version; None for a database without a call store's meta."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                      "AND name='meta'").fetchone():
        return None
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row is not None and str(row[0]).isdigit() else None


def upgrade(db: sqlite3.Connection, target: str, *, check: bool = False) -> tuple[int | None,
                                                                                 int]:
    """`ccf store migrate`: the store's schema version before and after, brought up to this
    version in one transaction (None before: the store was created); with `check`, only
    what would be done. StoreError for a newer store or a database that is not one."""
    found = version_of(db)
    if found is None and db.execute("SELECT 1 FROM sqlite_master WHERE type='table'").fetchone():
        raise StoreError(f"{shown(target)} is not a call store: the database has other tables "
                         "and no call store's meta")
    if found is not None and found > SCHEMA_VERSION:
        raise StoreError(f"{shown(target)}: call store schema version {found} is newer than "
                         f"this ccdsl understands ({SCHEMA_VERSION})")
    if check or found == SCHEMA_VERSION:
        return found, SCHEMA_VERSION
    with transaction(db):  # one migration at a time, whoever else runs one
        found = version_of(db)
        migrate(db, shown(target))
    return found, SCHEMA_VERSION
