"""Which database errors are another writer's lock, on both back ends: a wait, not a failure.
Must not import the store or the PostgreSQL driver."""

from __future__ import annotations

import sqlite3

# SQLite's primary result codes for a lock another connection holds
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


class Contended(sqlite3.OperationalError):
    """PostgreSQL's lock_not_available (the store's lock_timeout ran out while another
    session held the lock), as SQLite's "database is locked"."""


def contended(exc: BaseException) -> bool:
    """Whether `exc` says only that another writer held the lock: the same write tried
    again goes through once it is released."""
    if isinstance(exc, Contended):
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.OperationalError) and code is not None \
        and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
