"""Backing up a call store while `ccf serve` writes to it: SQLite's online backup API, or
PostgreSQL's pg_dump. Writes only the backup file; never changes the store.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass

from ccdsl.runtime.operations.database import (
    PASSWORD_ENV,
    Unreachable,
    is_postgres,
    same_store,
    shown,
)
from ccdsl.runtime.operations.database.faults import refusal_state

# where Debian keeps the client programs when they are not on PATH (the newest first)
_DEBIAN_BINS = "/usr/lib/postgresql/*/bin"


class BackupError(Exception):
    """The backup could not be made: the store unreadable, DEST unwritable, pg_dump missing
    or failing."""


@dataclass(frozen=True)
class Backup:
    dest: str
    size: int  # bytes written
    calls: int | None  # the calls the backup holds (SQLite: counted in the copy)
    how: str  # "sqlite online backup" | "pg_dump"


def backup(target: str, dest: str) -> Backup:
    """Back the store `target` (a SQLite file or a PostgreSQL URL) up to the file `dest`,
    consistent at one moment while writers go on; BackupError says why not."""
    if os.path.isdir(dest):
        raise BackupError(f"{dest} is a folder: name the backup file")
    folder = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(folder):
        raise BackupError(f"there is no folder {folder} to write the backup in")
    if same_store(target, dest):  # the backup would replace the store with a copy of itself
        raise BackupError(f"{dest} is the store itself (the same store): name another file "
                          "for the backup")
    return _pg_dump(target, dest) if is_postgres(target) else _sqlite(target, dest)


def _sqlite(path: str, dest: str) -> Backup:
    partial = f"{dest}.partial"
    if os.path.exists(partial):
        os.remove(partial)
    try:
        source = sqlite3.connect(f"{os.path.abspath(path)}", timeout=30)
        try:
            copy = sqlite3.connect(partial)
            try:
                # all pages in one step: one read transaction, so the copy is the store at one
                # moment; in WAL mode the serving writer is not held up meanwhile (a stepped
                # copy would start again after every write the server makes)
                source.backup(copy, pages=-1)
                calls = copy.execute("SELECT count(*) FROM calls").fetchone()[0]
                check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        _drop(partial)
        raise BackupError(f"{path} could not be backed up: {exc}") from None
    if check != "ok":
        _drop(partial)
        raise BackupError(f"the copy of {path} fails SQLite's integrity check: {check}")
    os.replace(partial, dest)  # a DEST there is either the old backup or the whole new one
    return Backup(dest, os.path.getsize(dest), calls, "sqlite online backup")


def client_program(name: str) -> str | None:
    """PostgreSQL's `pg_dump` or `psql`: on PATH, else Debian's newest under /usr/lib."""
    found = shutil.which(name)
    if found:
        return found
    for folder in sorted(glob.glob(_DEBIAN_BINS), key=_version_key, reverse=True):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _version_key(folder: str) -> int:
    word = folder.rstrip("/").split("/")[-2]
    return int(word) if word.isdigit() else 0


def child_env() -> dict[str, str]:
    """The environment of pg_dump or psql: this one, with the store's password as PGPASSWORD
    (in the child's environment only, never on its command line)."""
    env = dict(os.environ)
    password = os.environ.get(PASSWORD_ENV)
    if password:
        env["PGPASSWORD"] = password
    return env


def _pg_dump(url: str, dest: str) -> Backup:
    program = client_program("pg_dump")
    if program is None:
        raise BackupError("pg_dump is not installed (Debian: apt install postgresql-client)")
    partial = f"{dest}.partial"
    # plain SQL: `psql -v ON_ERROR_STOP=1 -f DEST` restores it into an empty database;
    # pg_dump reads in one repeatable-read snapshot, so writers go on meanwhile
    command = [program, "--format=plain", "--no-owner", "--no-privileges", "--no-password",
               f"--file={partial}", f"--dbname={url}"]
    try:
        done = subprocess.run(command, env=child_env(), capture_output=True, text=True,
                              timeout=6 * 3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _drop(partial)
        raise BackupError(f"pg_dump could not run: {exc}") from None
    if done.returncode != 0:
        _drop(partial)
        said = f"pg_dump of {shown(url)} failed: " \
               f"{done.stderr.strip() or f'exit status {done.returncode}'}"
        # a server that did not answer pg_dump (libpq's words, as for the store's own
        # connections: database/faults.py) is said as Unreachable's cause: ccf exits 4
        down = "connection to server" in done.stderr \
            and refusal_state(done.stderr).startswith("08")
        raise BackupError(said) from (Unreachable(said) if down else None)
    os.replace(partial, dest)
    return Backup(dest, os.path.getsize(dest), None, "pg_dump")


def _drop(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
