"""A connection to the call store's database for what workers share (flows, workers, signals),
its tables made if missing. Must not know what the rows mean.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator

from ccdsl.runtime.operations.database import connect, shown
from ccdsl.runtime.operations.workers_schema import WORKERS_SCHEMA

_ready: set[str] = set()  # targets whose tables this process has made or found
_ready_lock = threading.Lock()

# a call store's own `meta`, as store_schema.py makes it: with it and no schema_version the call
# store's migration makes the rest of its tables when it first opens this database
META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"


class SharedStoreError(Exception):
    """The shared tables cannot be read or written; the message says why."""


def _ensure(db, target: str) -> None:
    tables = {row[0] for row in db.execute("SELECT tbl_name FROM sqlite_master")}
    if tables and "meta" not in tables:
        # another program's database: nothing of ours is added to it
        raise SharedStoreError(f"{shown(target)} is not a call store (it has other tables and "
                               "no `meta`); name the call store's database")
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in (META, *WORKERS_SCHEMA):
            db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


@contextlib.contextmanager
def shared(target: str | os.PathLike, *, read_only: bool = False) -> Iterator:
    """A connection to the store at `target`, its shared tables there (made on first use unless
    read_only); SharedStoreError when the database cannot be used."""
    text = str(target)
    try:
        db = connect(text, read_only=read_only)
    except (sqlite3.Error, OSError, ValueError) as exc:
        raise SharedStoreError(f"the call store {shown(text)} cannot be opened: {exc}") from None
    try:
        if not read_only and text not in _ready:
            _ensure(db, text)
            with _ready_lock:
                _ready.add(text)
        yield db
    except sqlite3.Error as exc:
        raise SharedStoreError(f"the call store {shown(text)}: {exc}") from None
    finally:
        db.close()


def forget(target: str | os.PathLike) -> None:
    """Make the tables again on next use (a test that dropped its database)."""
    with _ready_lock:
        _ready.discard(str(target))
