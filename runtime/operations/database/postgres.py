"""A PostgreSQL connection that the call store uses as it uses sqlite3's: execute, rows by index
and by name, sqlite3's exception classes. Must not know tables: the SQL comes from dialect.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg.adapt import Loader

from ccdsl.runtime.operations.database.contention import Contended
from ccdsl.runtime.operations.database.dialect import translate
from ccdsl.runtime.operations.database.faults import fault_of, refusal_state, stated

# psycopg's errors as the DB-API classes of sqlite3 that the store catches: a locked row, a
# lost connection and a full disk are "operational" on both back ends; what a refused login,
# a missing database, table or column is comes first, by SQLSTATE (faults.fault_of)
_ERRORS: tuple[tuple[type[Exception], type[sqlite3.Error]], ...] = (
    (psycopg.errors.IntegrityError, sqlite3.IntegrityError),
    (psycopg.errors.LockNotAvailable, Contended),  # before its base class, OperationalError
    (psycopg.OperationalError, sqlite3.OperationalError),
    (psycopg.errors.QueryCanceled, sqlite3.OperationalError),
    (psycopg.errors.InFailedSqlTransaction, sqlite3.OperationalError),
    (psycopg.ProgrammingError, sqlite3.ProgrammingError),
    (psycopg.DataError, sqlite3.DataError),
    (psycopg.Error, sqlite3.DatabaseError),
)


def as_sqlite_error(exc: psycopg.Error) -> sqlite3.Error:
    """sqlite3's class of a psycopg error, carrying its SQLSTATE (`sqlstate`): the server's
    own, or (libpq gives none for a connection lost or refused) the one its words say."""
    said = str(exc).strip()
    state = exc.sqlstate
    if state is None and isinstance(exc, psycopg.OperationalError):
        state = refusal_state(said)
    fault = fault_of(state, "PostgreSQL: " + "; ".join(
        line.strip() for line in said.splitlines() if line.strip()))
    if fault is not None:
        return fault
    for theirs, ours in _ERRORS:
        if isinstance(exc, theirs):
            return stated(ours(f"PostgreSQL: {said}"), state)
    return stated(sqlite3.DatabaseError(said), state)


class NumericLoader(Loader):
    """sum() and avg() are `numeric` in PostgreSQL: an int when whole, as SQLite gives."""

    def load(self, data: bytes | bytearray | memoryview) -> int | float | None:
        text = bytes(data).decode()
        if text in ("NaN", "Infinity", "-Infinity"):
            return float(text)
        return float(text) if "." in text or "e" in text.lower() else int(text)


class Row(tuple):
    """A row read by index and by column name, as sqlite3.Row."""

    _names: tuple[str, ...] = ()

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names.index(key))
            except ValueError:
                raise IndexError(f"No item with that key: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: psycopg.Cursor):
    names = tuple(c.name for c in cursor.description or ())
    cls = type("Row", (Row,), {"_names": names, "__slots__": ()})
    return lambda values: cls(values)


def _param(value: Any) -> Any:
    if type(value) is str:
        # PostgreSQL's text cannot hold NUL, SQLite's can: a caller's odd byte must not fail
        # a whole write, so it is kept as U+FFFD
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    return int(value) if isinstance(value, bool) else value


def _params(numbered: bool, params: Sequence[Any] | dict | None) -> Any:
    if params is None:
        return ()
    if isinstance(params, dict):
        return {k: _param(v) for k, v in params.items()}
    if numbered:
        return {f"p{i}": _param(v) for i, v in enumerate(params, 1)}
    return tuple(_param(v) for v in params)


class Cursor:
    """What the store reads of a sqlite3 cursor."""

    def __init__(self, cursor: psycopg.Cursor | None) -> None:
        self._cursor = cursor

    def fetchone(self):
        if self._cursor is None or self._cursor.description is None:
            return None
        return self._cursor.fetchone()

    def fetchall(self) -> list:
        if self._cursor is None or self._cursor.description is None:
            return []
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return -1 if self._cursor is None else self._cursor.rowcount

    @property
    def description(self):
        return None if self._cursor is None else self._cursor.description


class PgConnection:
    """One psycopg connection in autocommit, transactions by the statements the store sends
    (BEGIN, COMMIT, ROLLBACK), as sqlite3 with isolation_level=None."""

    def __init__(self, conn: psycopg.Connection, *, pool, not_had) -> None:
        self._pool = pool  # close() hands the connection back to it
        # pool -> why no connection of it could be had (database.not_had: given, as this
        # module may not import the package that imports it)
        self._not_had = not_had
        self.row_factory = None  # rows are always readable by name
        self._settings: dict[str, str] = {}  # SET name -> statement: said again on a new link
        self._began = False  # a BEGIN sent and no COMMIT or ROLLBACK since
        self._conn: psycopg.Connection | None = self._adopt(conn)

    @staticmethod
    def _adopt(conn: psycopg.Connection) -> psycopg.Connection:
        conn.adapters.register_loader("numeric", NumericLoader)
        return conn

    @property
    def broken(self) -> bool:
        """The server went away (restarted, the network cut): a new connection is needed."""
        return self._conn is None or self._conn.closed or self._conn.broken

    def _live(self) -> psycopg.Connection:
        """The connection, or, after it was lost outside a transaction, a new one of the pool
        with this connection's settings: a lost link is an error once, as a locked file is.
        Never inside a transaction: its statements would run outside it."""
        if not self.broken:
            return self._conn  # type: ignore[return-value]
        if self._began or self._pool is None:
            raise sqlite3.OperationalError("PostgreSQL: the connection to the server was lost"
                                           + (" in a transaction" if self._began else ""))
        if self._conn is not None:
            self._pool.putconn(self._conn)  # the pool discards a closed connection
            self._conn = None
        try:
            conn = self._adopt(self._pool.getconn())
        except Exception as exc:  # noqa: BLE001 - psycopg_pool's timeout, without the cause
            raise self._not_had(self._pool) from exc
        self._conn = conn
        for statement in self._settings.values():
            try:
                conn.execute(statement)
            except psycopg.Error as exc:
                raise as_sqlite_error(exc) from exc
        return conn

    @property
    def in_transaction(self) -> bool:
        if self._conn is None:
            return self._began
        return self._conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    @property
    def raw(self) -> psycopg.Connection:
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] | dict | None = None) -> Cursor:
        said = translate(sql)
        if said is None:
            return Cursor(None)
        word = said.sql[:8].upper()
        if word.startswith(("ROLLBACK", "COMMIT")):
            self._began = False  # whatever comes of it: no transaction is open after it
            if self.broken and word == "ROLLBACK":
                return Cursor(None)  # the server ended the transaction with the connection
        if said.sql.startswith("SET "):
            self._settings[said.sql.split()[1]] = said.sql
        try:
            return self._run(said, params, word)
        except psycopg.OperationalError as exc:
            # a read outside a transaction on a connection the server dropped while it sat
            # idle (a restart): said again once on a new one, as a read of a file would
            # simply work; a write is not, as it may have been done
            if self._began or not self.broken or not word.startswith(("SELECT", "WITH")):
                raise as_sqlite_error(exc) from exc
        except psycopg.Error as exc:
            raise as_sqlite_error(exc) from exc
        try:
            return self._run(said, params, word)
        except psycopg.Error as exc:
            raise as_sqlite_error(exc) from exc

    def _run(self, said, params, word: str) -> Cursor:
        cursor = self._live().cursor(row_factory=_row_factory)
        if word.startswith("BEGIN"):
            self._began = True  # on the connection it goes to: a new one only before it
        if said.takes:
            cursor.execute(said.sql, _params(said.numbered, params))
        else:
            cursor.execute(said.sql)
        return Cursor(cursor)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        said = translate(sql)
        if said is None:
            return Cursor(None)
        cursor = self._live().cursor()
        try:
            cursor.executemany(said.sql, [_params(said.numbered, r) for r in rows])
        except psycopg.Error as exc:
            raise as_sqlite_error(exc) from exc
        return Cursor(None)

    def commit(self) -> None:
        if self.in_transaction:
            self.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction and not self.broken:
            self.execute("ROLLBACK")

    def close(self) -> None:
        if self._conn is None:
            return
        if self._pool is None:
            self._conn.close()
            return
        pool, self._pool = self._pool, None
        if not self._conn.closed:
            try:
                if self.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._conn.execute("RESET ALL")
            except psycopg.Error:
                self._conn.close()
        pool.putconn(self._conn)

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
