"""Where a call store lives: a SQLite file (the embedded default) or a PostgreSQL database (a URL),
and one way to connect to either. Must not know tables or events.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ccdsl.runtime.operations.database.faults import (
    Misconfigured,
    SchemaFault,
    fault_of,
    refusal_state,
    stated,
)

PG_SCHEMES = ("postgresql://", "postgres://")
PASSWORD_ENV = "CCF_STORE_PASSWORD"  # the PostgreSQL password: never in ccf.toml or a URL
POOL_MAX = 8  # connections a process keeps to one PostgreSQL store, at most
# how long a statement waits for a connection of the pool (the server down: the writer's try
# fails after this long, and is tried again as after a lock)
POOL_WAIT_S = 5.0
# how long the first connection of a process waits for the server: a command against a server
# that is down says so at once, not after the pool's retries (libpq's connect_timeout, seconds)
FIRST_CONNECT_S = 3

_pools: dict[str, object] = {}
_pools_lock = threading.Lock()
_exit_hook: list = []  # close_pools, once registered to run at exit


class TargetError(ValueError):
    """A store named in a way that cannot be used (a password in the URL)."""


class Unreachable(sqlite3.OperationalError):
    """A PostgreSQL store's server cannot be reached: the message names the URL (never its
    password) and says why. An OperationalError still, so what retries one (the
    writer, as after a lock) retries this."""


# a URL's scheme, as RFC 3986 spells one; a path with a colon but no // after it stays a path
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def is_postgres(target: str | os.PathLike) -> bool:
    # schemes are case-insensitive (RFC 3986); libpq reads only the lower case (check_target)
    return str(target)[:13].lower().startswith(PG_SCHEMES)


def shown(target: str | os.PathLike) -> str:
    """The store as messages name it: a URL without any password."""
    text = str(target)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_target(target: str | os.PathLike) -> str:
    """The target as text, a PostgreSQL URL's scheme in lower case; TargetError for a URL of
    another scheme (never taken as a file path: sqlite:///x made ./sqlite:/x) or carrying its
    password (secrets come from the environment: CCF_STORE_PASSWORD)."""
    text = str(target)
    scheme = _SCHEME.match(text)
    if scheme is None:
        return text
    if not is_postgres(text):
        raise TargetError(f"the store {text}: a call store is a SQLite file's path or a "
                          f"postgresql:// URL, not a {scheme[1]}:// URL")
    if urlsplit(text).password is not None:
        raise TargetError(f"the store URL {shown(text)} carries a password: leave it out and "
                          f"set {PASSWORD_ENV} in the environment instead")
    return scheme[1].lower() + text[scheme.end(1):]


def same_store(one: str, other: str) -> bool:
    """Whether two targets name one store: the same text, or the same SQLite file by
    another name, a symlink or a hard link (what `store copy` and `store backup` refuse)."""
    if one == other:
        return True
    if is_postgres(one) or is_postgres(other):
        return False
    return os.path.exists(one) and os.path.exists(other) and os.path.samefile(one, other)


def _one_line(exc: Exception) -> str:
    """libpq's message (several lines, a hint indented) on one line."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def _probe(url: str, kwargs: dict) -> None:
    """Connect once, directly, before a pool is made for the URL: a server that is down is
    Unreachable, one that refuses the login or has no such database Misconfigured, naming the
    URL (never its password) after at most FIRST_CONNECT_S, where the pool would retry and
    warn until its wait ran out."""
    import psycopg

    try:
        psycopg.connect(url, **{**kwargs, "connect_timeout": FIRST_CONNECT_S}).close()
    except psycopg.Error as exc:
        raise _refused(url, exc) from None


def _refused(url: str, exc: Exception) -> sqlite3.OperationalError:
    """A connection not made: Misconfigured (the login or database refused), else
    Unreachable, naming the URL (never its password) and carrying the SQLSTATE."""
    said = _one_line(exc)
    state = getattr(exc, "sqlstate", None) or refusal_state(said)
    where = f"the PostgreSQL store {shown(url)}"
    return fault_of(state, f"{where}: {said}") or stated(
        Unreachable(f"cannot connect to {where}: {said}"), state)


def not_had(pool) -> sqlite3.OperationalError:
    """Why no connection of `pool` could be had (psycopg_pool's timeout does not say): one
    connection tried directly says whether the server refuses the login or has no such
    database (Misconfigured) or does not answer (Unreachable); a server that answers it had
    every connection of the pool in use past the wait, or the pool was still waiting out the
    backoff of its connects failed in an outage just ended: busy (53300, passing), not a
    server to look for."""
    try:
        _probe(pool.conninfo, pool.kwargs)
    except (Misconfigured, Unreachable) as refused:
        return refused
    return stated(sqlite3.OperationalError(
        f"no connection of this process to the PostgreSQL store {shown(pool.conninfo)} came "
        f"free within {pool.timeout:g} s, though its server answers (all {pool.max_size} in "
        "use, or connecting again after an outage)"), "53300")


def _pool(url: str):
    from psycopg_pool import ConnectionPool

    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            kwargs = {"autocommit": True, "connect_timeout": int(POOL_WAIT_S)}
            password = os.environ.get(PASSWORD_ENV)
            if password:
                kwargs["password"] = password
            _probe(url, kwargs)
            # check: a connection the server dropped while it sat in the pool (a restart)
            # is replaced before it is handed out
            pool = ConnectionPool(url, min_size=0, max_size=POOL_MAX, kwargs=kwargs,
                                  open=True, timeout=POOL_WAIT_S, name="ccf-store",
                                  check=ConnectionPool.check_connection)
            if not _exit_hook:
                atexit.register(close_pools)  # its threads and connections end before exit
                _exit_hook.append(close_pools)
            _pools[url] = pool
        return pool


def close_pools() -> None:
    """Close every pooled PostgreSQL connection of this process (at exit; tests)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def connect(target: str | os.PathLike, *, read_only: bool = False, busy_ms: int = 5000,
            uri: bool | None = None):
    """A connection in autocommit (transactions by BEGIN/COMMIT). SQLite: a file, `:memory:` or
    a `file:` URI; PostgreSQL: a connection of the process's pool for that URL, handed back
    by close()."""
    text = check_target(target)
    if is_postgres(text):
        import psycopg

        from ccdsl.runtime.operations.database.postgres import PgConnection, as_sqlite_error

        pool = _pool(text)  # Unreachable (or Misconfigured) when it cannot be connected to
        try:
            conn = pool.getconn()
        except Exception as exc:  # noqa: BLE001 - psycopg_pool's timeout, without the cause
            raise not_had(pool) from exc
        db = PgConnection(conn, pool=pool, not_had=not_had)
        try:
            db.execute(f"PRAGMA busy_timeout={busy_ms}")
            if read_only:
                db.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:  # pragma: no cover - a connection lost at once
            raise as_sqlite_error(exc) from exc
        return db
    if read_only:
        file = Path(text)
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True,
                             isolation_level=None, check_same_thread=False)
    else:
        db = sqlite3.connect(text, isolation_level=None, check_same_thread=False,
                             uri=text.startswith("file:") if uri is None else uri)
    db.execute(f"PRAGMA busy_timeout={busy_ms}")
    return db


async def connect_async(target: str | os.PathLike):
    """One psycopg AsyncConnection of its own to a PostgreSQL store (never the pool's: it is held
    for as long as it listens), in autocommit, the password from CCF_STORE_PASSWORD as
    connect() takes it; Unreachable naming the URL (never its password) when the
    server cannot be reached. Connecting waits on the event loop, never blocks it."""
    import psycopg

    text = check_target(target)
    if not is_postgres(text):
        raise TargetError(f"{shown(text)} is not a PostgreSQL store")
    # keepalives: a server whose host vanished is noticed by the socket, not only by a write
    kwargs: dict = {"autocommit": True, "connect_timeout": FIRST_CONNECT_S,
                    "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                    "keepalives_count": 3}
    password = os.environ.get(PASSWORD_ENV)
    if password:
        kwargs["password"] = password
    try:
        return await psycopg.AsyncConnection.connect(text, **kwargs)
    except psycopg.Error as exc:
        raise _refused(text, exc) from None


@contextlib.contextmanager
def transaction(db) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, on either back end (SQLite's write lock at once; PostgreSQL's
    store lock, dialect.py); on an error rolled back quietly and the error raised as it was."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        rollback_quietly(db)
        raise
    db.execute("COMMIT")


def rollback_quietly(db) -> None:
    """End a failed transaction before the statement is tried again: PostgreSQL refuses every
    statement of a transaction after one failed; a lost connection has none left to end."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


__all__ = ["PASSWORD_ENV", "Misconfigured", "SchemaFault", "TargetError", "check_target",
           "close_pools", "connect", "connect_async", "is_postgres",
           "rollback_quietly", "shown", "transaction"]
