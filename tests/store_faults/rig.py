"""Helpers of the store fault suite: small flows, what another reader of the
store sees, another process holding its write lock, and polling with a generous
bound (never a speed test). A store is a SQLite file or a PostgreSQL URL."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from functools import partial
from pathlib import Path

from asterisk import centre as _centre
from asterisk.centre import (
    WAIT_S,  # how long a test waits for what takes milliseconds
    place,  # noqa: F401 - one call of the FastAGI peer, for the suite
)

from ccdsl.runtime.operations.database import PASSWORD_ENV, connect, is_postgres


def held_flow(name: str = "line", wait: str | None = "1s") -> str:
    """A flow that answers, says hello, waits (where a held caller keeps the
    call going; no wait with `wait=None`), then hangs up."""
    pause = f"  wait {wait}\n" if wait else ""
    return (f"flow {name}:\n  languages en-US\n\non start:\n  answer\n"
            f"  play tts \"Hello.\"\n{pause}  play tts \"Goodbye.\"\n  hangup\n")


def on_disk(path: Path | str, sql: str, args: tuple = ()) -> list[tuple]:
    """What another reader of the store sees (a report, a `ccf` command): of a file, or of a
    PostgreSQL store's URL (the store's SQL, translated as the store's own is)."""
    if is_postgres(path):
        raw = connect(path, busy_ms=30_000)
    else:
        raw = sqlite3.connect(path, timeout=30)
    try:
        return [tuple(row) for row in raw.execute(sql, args).fetchall()]
    finally:
        raw.close()


class Locker:
    """Another process holding the store's write lock until release(): a SQLite transaction
    that took the file's lock (BEGIN IMMEDIATE); on PostgreSQL another connection's open
    transaction holding `LOCK TABLE ... IN <mode> MODE` on `tables` (by default those a
    write goes to first), or with `rows` (a WHERE clause and its arguments) only those rows
    of `tables` (SELECT ... FOR UPDATE: other rows' writers go on). EXCLUSIVE stops writers
    only, as SQLite's lock does (readers go on); ACCESS EXCLUSIVE (an ALTER TABLE's) stops
    readers of those tables too."""

    TABLES = "calls, event_batches, centre_events"

    def __init__(self, target: Path | str, mode: str = "EXCLUSIVE", *, tables: str = TABLES,
                 rows: tuple[str, tuple] | None = None) -> None:
        self.target = str(target)
        if is_postgres(self.target):
            import psycopg

            self._db = psycopg.connect(self.target, password=os.environ.get(PASSWORD_ENV),
                                       autocommit=True)
            self._db.execute("BEGIN")
            if rows is None:
                self._db.execute(f"LOCK TABLE {tables} IN {mode} MODE")
            else:
                where, args = rows
                self._db.execute(f"SELECT * FROM {tables} WHERE {where} FOR UPDATE", args)
        else:
            self._db = sqlite3.connect(self.target, isolation_level=None)
            self._db.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self._db is not None:
            self._db.execute("ROLLBACK")
            self._db.close()
            self._db = None

    def __enter__(self) -> Locker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# the checks here mostly open a connection to the store (on_disk; on PostgreSQL a new
# session each time), so they are asked half as often as asterisk.centre's
POLL_S = 0.02


def wait_for(check, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(POLL_S)


# asterisk.centre's, polling every POLL_S
until = partial(_centre.until, every=POLL_S)


# ---- a centre of ccf.toml, its flows deployed, and callers over FastAGI ------------------


def centre(folder: Path, flows: dict[str, str], store: str | None = None) -> Path:
    """A ccf.toml in `folder` (no AMI: `use_ami=False` / `--no-ami`), with
    `flows` (name -> .ccf text) compiled and deployed. Returns its path. The call
    store: calls.db beside it, or `store` when that is a PostgreSQL URL ([store] url)."""
    from ccdsl.runtime.asterisk.config import load_config
    from ccdsl.runtime.asterisk.flowstore_db import flow_store_for

    path = _centre.write_config(folder, 1, numbers='"4008001234" = "line"',
                        store=store if store is not None and is_postgres(store) else "calls.db")
    config = load_config(path, environ={})
    irs = {}
    for name, text in flows.items():
        source = folder / f"{name}.ccf"
        source.write_text(text, encoding="utf-8")
        irs[name] = _centre.compiled(source)
    # where ccf serve reads them: the store's database when it is PostgreSQL
    flow_store_for(config).deploy(irs, numbers=config.numbers)
    return path


def store_of(config_path: Path) -> str:
    """The call store a centre's ccf.toml names (a file's path, or the URL)."""
    return live_config(config_path).store_path


def live_config(path: Path):
    from ccdsl.runtime.asterisk.config import load_config

    return load_config(path, environ={})


def held_backend():
    """A caller whose line keeps the call going: the flow's `wait` (the
    first EXEC) is answered only once `release` is set; `holding` is set
    when it arrives."""
    from doubles.raw import ScriptBackend

    class Held(ScriptBackend):
        def __init__(self) -> None:
            super().__init__()
            self.holding = asyncio.Event()
            self.release = asyncio.Event()

        async def execute(self, cmd):
            if cmd.verb == "EXEC" and not self.holding.is_set():
                self.holding.set()
                await self.release.wait()
            return await super().execute(cmd)

    return Held()
