"""A save the call store did not take says why as it is: "busy" only for what passes when the same
save is made again (another writer's lock, a conflict, a lost link), a read-only file or a full
disk in its own words."""

from __future__ import annotations

import sqlite3

import pytest

from ccdsl.runtime.operations.database.contention import Contended
from ccdsl.runtime.operations.store_errors import StoreBusy, busy, read_or_busy


@pytest.mark.parametrize("exc", [
    sqlite3.OperationalError("database is locked"),
    Contended("PostgreSQL: canceling statement due to lock timeout"),
    sqlite3.OperationalError("PostgreSQL: could not serialize access due to concurrent update"),
    sqlite3.OperationalError("PostgreSQL: deadlock detected"),
    sqlite3.OperationalError("PostgreSQL: the connection to the server was lost"),
])
def test_what_passes_is_busy(exc) -> None:
    assert str(busy(exc)).startswith("the call store is busy: ")


@pytest.mark.parametrize("exc", [
    sqlite3.OperationalError("attempt to write a readonly database"),
    sqlite3.OperationalError("database or disk is full"),
    sqlite3.OperationalError("disk I/O error"),
])
def test_what_needs_mending_is_not_called_busy(exc) -> None:
    assert str(busy(exc)) == f"the call store could not take the write: {exc}"


def test_a_real_lock_of_another_connection_is_busy(tmp_path) -> None:
    path = tmp_path / "s.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as caught:
        writer.execute("INSERT INTO t VALUES (1)")
    holder.rollback()
    assert str(busy(caught.value)).startswith("the call store is busy: ")


def failing(exc: sqlite3.OperationalError):
    def read(*args):
        raise exc
    return read


def test_a_read_before_a_save_that_needs_mending_is_said_as_a_read() -> None:
    with pytest.raises(StoreBusy) as caught:
        read_or_busy(failing(sqlite3.OperationalError("no such table: calls")), "w1")
    assert str(caught.value) == "the call store could not be read: no such table: calls"


def test_a_read_before_a_save_that_passes_is_busy() -> None:
    lost = sqlite3.OperationalError("PostgreSQL: the connection to the server was lost")
    with pytest.raises(StoreBusy) as caught:
        read_or_busy(failing(lost), "w1")
    assert str(caught.value).startswith("the call store is busy: ")
