"""The call store's errors as a caller of a save catches them, one for both back ends: a store
too busy to take a write now, and a call the store does not have. Must not import a driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from ccdsl.runtime.operations.database import Unreachable
from ccdsl.runtime.operations.database.contention import contended
from ccdsl.runtime.operations.database.faults import Misconfigured, SchemaFault, passing_state

T = TypeVar("T")

# what to do about a fault (below): no wait mends it
MEND = "the call store must be mended first (its administrator: docs/store.md)"


class StoreBusy(Exception):
    """The call store took nothing now, and the same write may be made again: another writer's
    lock outlasted the wait (SQLite's "database is locked", PostgreSQL's lock_timeout), a
    serialization failure or deadlock, or the connection to a PostgreSQL server lost. The
    message is the reason only; a caller says what to do (save again, or tried again)."""


class StoreFault(StoreBusy):
    """The call store took nothing, and the same write will not go through until someone mends
    the store: its login or database refused, a table or column missing. A StoreBusy still
    (nothing stored: whatever handles one keeps the values), but never said as to be made
    again: the message says what is wrong."""


class CallNotStored(LookupError):
    """The call store has no such call (pruned, or never stored): nothing was saved."""

    def __init__(self, call_id: str) -> None:
        super().__init__(f"call {call_id} is not in the call store (pruned?)")
        self.call_id = call_id


# beside another writer's lock (contention.contended), what passes if the same write is made
# again, in the words database/postgres.py gives PostgreSQL's errors: a conflict, a lost link
_PASSING = ("database is locked", "could not serialize", "deadlock", "statement timeout",
            "connection", "connect again")


def busy(exc: sqlite3.OperationalError, failed: str = "could not take the write") -> StoreBusy:
    """StoreBusy of a write's operational error. Both back ends raise sqlite3's class for
    these (database/postgres.py maps psycopg's lock timeout, serialization failure and lost
    connection to it), so one except clause sees them all. Said as busy only when it is: a
    read-only file or a full disk is said as it is, after `failed` (saving again helps once
    it is mended); a refused login, a missing database, table or column is a StoreFault."""
    if fault(exc):
        return StoreFault(f"the call store {failed}: {reason_of(exc)}")
    what = "is busy" if passing(exc) else failed
    return StoreBusy(f"the call store {what}: {reason_of(exc)}")


def passing(exc: sqlite3.OperationalError) -> bool:
    """Whether the same read or write made again may go through: another writer's lock, a
    conflict, a lost link, a server stopping or not answering (not a refused login, a
    missing database, table or column, a read-only file or a full disk). PostgreSQL's errors
    are told by their SQLSTATE (database/faults.py), SQLite's by their code and words."""
    if fault(exc):
        return False
    if isinstance(exc, Unreachable) or contended(exc):
        return True
    state = getattr(exc, "sqlstate", None)
    if state is not None:
        return passing_state(state)
    return any(w in str(exc).lower() for w in _PASSING)


def fault(exc: BaseException) -> bool:
    """Whether the store needs mending before the same read or write can go through: a login
    or database PostgreSQL refuses, a table or column missing (on either back end)."""
    if isinstance(exc, (Misconfigured, SchemaFault)):
        return True
    return isinstance(exc, sqlite3.OperationalError) and not hasattr(exc, "sqlstate") \
        and str(exc).startswith(("no such table", "no such column"))


def reason_of(exc: BaseException) -> str:
    """The error's words on one line (PostgreSQL's come on several)."""
    reason = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return reason or type(exc).__name__


def read_or_busy(read: Callable[..., T], *args: Any) -> T:
    """`read(*args)`, a read of the store a save makes first, with its operational error (a
    PostgreSQL server lost, a connection not to be had) raised as the save's own: busy(),
    said as a read when it is not one that passes."""
    try:
        return read(*args)
    except sqlite3.OperationalError as exc:
        raise busy(exc, "could not be read") from exc
