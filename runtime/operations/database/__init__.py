"""Where a call store lives: a SQLite file (the embedded default) or a PostgreSQL database (a URL),
and one way to connect to either. Must not know tables or events.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PG_SCHEMES = ("postgresql://", "postgres://")
PASSWORD_ENV = "CCF_STORE_PASSWORD"  # the PostgreSQL password: never in ccf.toml or a URL
POOL_MAX = 8  # connections a process keeps to one PostgreSQL store, at most

_pools: dict[str, object] = {}
_pools_lock = threading.Lock()


class TargetError(ValueError):
    """A store named in a way that cannot be used (a password in the URL)."""


def is_postgres(target: str | os.PathLike) -> bool:
    return str(target).startswith(PG_SCHEMES)


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
    """The target as text; TargetError for a URL carrying its password (secrets come from the
    environment: CCF_STORE_PASSWORD)."""
    text = str(target)
    if is_postgres(text) and urlsplit(text).password is not None:
        raise TargetError(f"the store URL {shown(text)} carries a password: leave it out and "
                          f"set {PASSWORD_ENV} in the environment instead")
    return text


def _pool(url: str):
    from psycopg_pool import ConnectionPool

    with _pools_lock:
        pool = _pools.get(url)
        if pool is None:
            kwargs = {"autocommit": True}
            password = os.environ.get(PASSWORD_ENV)
            if password:
                kwargs["password"] = password
            # check: a connection the server dropped while it sat in the pool (a restart)
            # is replaced before it is handed out
            pool = ConnectionPool(url, min_size=0, max_size=POOL_MAX, kwargs=kwargs,
                                  open=True, timeout=30.0, name="ccf-store",
                                  check=ConnectionPool.check_connection)
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

        pool = _pool(text)
        try:
            conn = pool.getconn()
        except Exception as exc:  # noqa: BLE001 - psycopg_pool's timeout carries the cause
            raise sqlite3.OperationalError(
                f"cannot connect to the PostgreSQL store {shown(text)}: {exc}") from exc
        db = PgConnection(conn, pool=pool)
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


def rollback_quietly(db) -> None:
    """End a failed transaction before the statement is tried again: PostgreSQL refuses every
    statement of a transaction after one failed; a lost connection has none left to end."""
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


__all__ = ["PASSWORD_ENV", "TargetError", "check_target", "close_pools", "connect",
           "is_postgres", "rollback_quietly", "shown"]
