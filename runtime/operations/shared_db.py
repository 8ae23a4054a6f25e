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
from ccdsl.runtime.operations.store_migrate import StoreError, opening, upgrade, version_of
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

_ready: set[str] = set()  # targets whose tables this process has made or found
_ready_lock = threading.Lock()


class SharedStoreError(Exception):
    """The shared tables cannot be read or written; the message says why."""


def _ensure(db, target: str) -> None:
    """The call store there, as CallStore opens one (store_migrate): created in a new database,
    a SQLite file's brought up to date; an older PostgreSQL store is `ccf store migrate`'s."""
    found = version_of(db)
    if found == SCHEMA_VERSION:
        return
    try:
        opening(target, found)
        upgrade(db, target)  # another program's database: StoreError, nothing added
    except StoreError as exc:
        raise SharedStoreError(str(exc)) from None


def opened(target: str | os.PathLike, *, read_only: bool = False):
    """A connection to the store at `target` for the caller to keep and close, its shared
    tables there (made on first use unless read_only); SharedStoreError when it cannot be."""
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
    except sqlite3.Error as exc:
        db.close()
        raise SharedStoreError(f"the call store {shown(text)}: {exc}") from None
    except BaseException:
        db.close()
        raise
    return db


@contextlib.contextmanager
def shared(target: str | os.PathLike, *, read_only: bool = False) -> Iterator:
    """`opened` for one use: closed at the end; a database error as SharedStoreError."""
    db = opened(target, read_only=read_only)
    try:
        yield db
    except sqlite3.Error as exc:
        raise SharedStoreError(f"the call store {shown(str(target))}: {exc}") from None
    finally:
        db.close()


def forget(target: str | os.PathLike) -> None:
    """Make the tables again on next use (a test that dropped its database)."""
    with _ready_lock:
        _ready.discard(str(target))
