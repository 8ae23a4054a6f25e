"""Copying a call store to another back end (SQLite to PostgreSQL, or back): every table of the
schema, rows as they are, in key order and in batches, into a new or empty store.

Moves rows only: must not fold events or know what a row means; the destination gets the
schema from store_migrate and nothing else but the source's rows.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ccdsl.runtime.operations import database
from ccdsl.runtime.operations.store_migrate import StoreError, migrate
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

log = logging.getLogger("ccdsl.store")

BATCH = 5000  # rows read and written at a time: memory stays flat on a store of years


class CopyError(Exception):
    """The copy cannot be made (or was undone): a message for the user."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # the primary key's columns, in the key's order


@dataclass(frozen=True)
class Copied:
    tables: tuple[tuple[str, int], ...]  # (table, rows copied), in the order copied

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.tables)


def schema_tables() -> tuple[Table, ...]:
    """This version's tables, their columns and keys, read from the schema itself (made in
    a SQLite database in memory): the copy never lists tables by hand."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(db, ":memory:")
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                          "AND name NOT LIKE 'sqlite%' ORDER BY name")]
        out = []
        for name in names:
            info = db.execute(f"PRAGMA table_info({name})").fetchall()
            key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            out.append(Table(name, tuple(r[1] for r in info), key or ("rowid",)))
        return tuple(out)
    finally:
        db.close()


def _tables_in(db) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _open_source(source: str):
    if not database.is_postgres(source):
        if not os.path.isfile(source):
            raise CopyError(f"there is no call store at {source}")
    try:
        db = database.connect(source, read_only=True)
        tables = _tables_in(db)
    except sqlite3.Error as exc:
        raise CopyError(f"{database.shown(source)} cannot be read as a call store: "
                        f"{exc}") from None
    if "meta" not in tables:
        db.close()
        raise CopyError(f"{database.shown(source)} is not a call store (it has no table meta)")
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row and str(row[0]).isdigit() else None
    if version != SCHEMA_VERSION:
        db.close()
        raise CopyError(f"{database.shown(source)} has call store schema version {version}, "
                        f"this ccdsl copies version {SCHEMA_VERSION}: open it with this ccdsl "
                        "first (`ccf store migrate`, or any command that writes it)")
    return db


def _open_destination(dest: str, new_file: bool):
    if not database.is_postgres(dest):
        if os.path.isdir(dest):
            raise CopyError(f"{dest} is a directory: name a new file for the call store")
        folder = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(folder):  # files are made, never folders (docs/store.md)
            raise CopyError(f"there is no folder {folder} to make the copy in")
    try:
        db = database.connect(dest)
        if new_file:  # as CallStore makes a file; someone else's file is left as it is
            db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise CopyError(f"{database.shown(dest)} cannot be opened: {exc}") from None
    return db


def _refuse_rows(db, dest: str, tables: tuple[Table, ...]) -> None:
    """CopyError when the destination holds rows (but meta): checked inside the copy's
    transaction, so nothing writes between the look and the copy."""
    found = _tables_in(db)
    if "meta" not in found:
        return  # a new database, or someone else's: migrate() tells which
    full = [t.name for t in tables if t.name != "meta" and t.name in found and
            db.execute(f"SELECT 1 FROM {t.name} LIMIT 1").fetchone() is not None]
    if full:
        raise CopyError(f"{database.shown(dest)} is not empty (it has rows in "
                        f"{', '.join(full)}): copy into a new or empty call store")


def _batches(db, table: Table, size: int):
    """The table's rows in key order, `size` at a time: each batch starts after the last
    key read (no OFFSET, so a batch costs the same at the end of a big table)."""
    columns = ", ".join(table.columns)
    order = ", ".join(table.key)
    after: tuple | None = None
    positions = [table.columns.index(k) for k in table.key]
    while True:
        if after is None:
            rows = db.execute(f"SELECT {columns} FROM {table.name} ORDER BY {order} "
                              f"LIMIT {size}").fetchall()
        else:
            marks = ", ".join("?" * len(after))
            rows = db.execute(f"SELECT {columns} FROM {table.name} WHERE ({order}) > ({marks}) "
                              f"ORDER BY {order} LIMIT {size}", after).fetchall()
        if not rows:
            return
        yield [tuple(r) for r in rows]
        if len(rows) < size:
            return
        after = tuple(rows[-1][i] for i in positions)


def _insert_sql(table: Table) -> str:
    sql = (f"INSERT INTO {table.name} ({', '.join(table.columns)}) "
           f"VALUES ({', '.join('?' * len(table.columns))})")
    if table.name == "meta":  # the destination's schema_version and created are the source's
        sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    return sql


def _write(db, table: Table, rows: list[tuple]) -> None:
    """One batch into the destination: PostgreSQL's COPY (one round trip a batch, not one a
    row), else the INSERT both back ends say."""
    raw = getattr(db, "raw", None)  # a PgConnection's psycopg connection
    if raw is None or table.name == "meta":
        db.executemany(_insert_sql(table), rows)
        return
    import psycopg

    from ccdsl.runtime.operations.database.postgres import as_sqlite_error

    try:
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise as_sqlite_error(exc) from exc


def _count(db, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _counted(table: str, copied: int, source: int, dest: int) -> bool:
    """Whether a table's counts agree: the rows the batches read are the source's snapshot
    (a row its key paging skipped would show here) and the destination holds them. meta's
    keys are set, not added: the destination's schema may write one the source lacks
    (`created`), never one fewer."""
    if table == "meta":
        return copied == source <= dest
    return copied == source == dest


def _advance_identities(db, tables: tuple[Table, ...]) -> None:
    """PostgreSQL's identity columns (SQLite's rowid keys) go on after the copied ids: a row
    written later must not take an id the copy gave."""
    for table in tables:
        if len(table.key) != 1:
            continue
        row = db.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                         "current_schema() AND table_name = ? AND column_name = ? "
                         "AND is_identity = 'YES'", (table.name, table.key[0])).fetchone()
        if row is not None:
            db.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                       f"'{table.key[0]}'), max({table.key[0]})) FROM {table.name} "
                       f"HAVING max({table.key[0]}) IS NOT NULL")


def copy_store(source: str, dest: str, *, batch: int = BATCH,
               progress: Callable[[str, int], None] | None = None) -> Copied:
    """Copy the call store `source` into `dest` (a file or a postgresql:// URL): a new store,
    or one with the schema and no rows. The source is read in one snapshot; the destination
    is written in one transaction, its row counts checked against the source's before it
    commits: a failed copy leaves the destination as it was. `progress(table, rows)` after
    each batch. CopyError with the reason."""
    try:
        source, dest = database.check_target(source), database.check_target(dest)
    except database.TargetError as exc:
        raise CopyError(str(exc)) from None
    if database.same_store(source, dest):
        raise CopyError("the source and the destination are the same store")
    tables = schema_tables()
    src = _open_source(source)
    new_file = not database.is_postgres(dest) and not os.path.exists(dest)
    dst = None
    kept = False
    try:
        dst = _open_destination(dest, new_file)
        # one snapshot of a store that may be written meanwhile (ccf serve running)
        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if database.is_postgres(source)
                    else "BEGIN")
        dst.execute("BEGIN IMMEDIATE")
        try:
            _refuse_rows(dst, dest, tables)
            migrate(dst, database.shown(dest))
            copied = []
            for table in tables:
                done = 0
                for rows in _batches(src, table, batch):
                    _write(dst, table, rows)
                    done += len(rows)
                    if progress is not None:
                        progress(table.name, done)
                copied.append((table.name, done))
            # each side counted once, in the source's snapshot
            counts = [(name, n, _count(src, name), _count(dst, name)) for name, n in copied]
            wrong = [f"{name}: {n} copied, {source} in the source, {held} in the destination"
                     for name, n, source, held in counts if not _counted(name, n, source, held)]
            if wrong:
                raise CopyError("the row counts differ, nothing was kept: " + "; ".join(wrong))
            if database.is_postgres(dest):
                _advance_identities(dst, tables)
            dst.execute("COMMIT")
            kept = True
        except BaseException:
            dst.rollback()
            raise
        finally:
            src.rollback()
        if database.is_postgres(dest):
            # PostgreSQL plans by its statistics, which a bulk load leaves unknown until
            # autovacuum comes by: the reports read a copy at once, with the right plans. The
            # copy is committed: a failure here is autovacuum's to make good, not the copy's
            try:
                dst.execute("ANALYZE")
            except sqlite3.Error as exc:
                log.warning("copied into %s, but ANALYZE failed (autovacuum will gather the "
                            "statistics): %s", database.shown(dest), exc)
    except StoreError as exc:
        raise CopyError(str(exc)) from None
    except sqlite3.Error as exc:
        raise CopyError(f"copying into {database.shown(dest)} failed, nothing was kept: "
                        f"{exc}") from None
    finally:
        src.close()
        if dst is not None:
            dst.close()
        if new_file and not kept:  # a file this copy made holds nothing: not left behind
            for leftover in (dest, f"{dest}-wal", f"{dest}-shm"):
                if os.path.exists(leftover):
                    os.remove(leftover)
    return Copied(tuple(copied))
