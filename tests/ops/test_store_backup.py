"""`ccf store backup DEST` while a writer writes: SQLite's online backup of a file a CallStore
is filling from another thread, and pg_dump of a PostgreSQL store being written to, restored
with psql; each copy is the store at one moment (no call half there)."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from datetime import UTC, datetime, timedelta

import pytest
from ccf_cli import ccf

from ccdsl.cli.exit_codes import USAGE
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_backup import child_env, client_program

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


def _call(store: CallStore, n: int) -> None:
    at = START + timedelta(seconds=n)
    call_id = f"c{n:05d}"
    for seq, (ms, kind, data) in enumerate((
            (0, "call_started", {"flow": "desk", "caller": "+8613900000000"}),
            (10, "step_entered", {"step": "welcome"}),
            (20, "menu_choice", {"key": "1", "attempt": 1}),
            (900, "call_ended", {"outcome": "hangup", "ended_by": "caller"})), start=1):
        store.emit(Event(call_id, seq, at + timedelta(milliseconds=ms), kind, data))


class Writer(threading.Thread):
    """A CallStore writing calls, one write a call, until stopped."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path, self.stop, self.written, self.started = path, threading.Event(), 0, \
            threading.Event()

    def run(self) -> None:
        with CallStore(self.path, timezone="UTC") as store:
            while not self.stop.is_set():
                _call(store, self.written)
                store.flush()
                self.written += 1
                if self.written == 50:
                    self.started.set()


def _whole(path: str) -> tuple[int, int, int]:
    """(calls, calls with all their events, calls the rollups count) in a copy."""
    db = sqlite3.connect(path)
    try:
        calls = db.execute("SELECT count(*) FROM calls").fetchone()[0]
        complete = db.execute("SELECT count(*) FROM calls c WHERE (SELECT count(*) FROM events e "
                              "WHERE e.call_id = c.call_id) = 4").fetchone()[0]
        rolled = db.execute("SELECT sum(calls) FROM rollup_calls WHERE grain = 'd'").fetchone()[0]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    return calls, complete, rolled


def test_sqlite_online_backup_while_a_store_writes(tmp_path) -> None:
    path = str(tmp_path / "calls.db")
    writer = Writer(path)
    writer.start()
    assert writer.started.wait(60)
    copies = []
    try:
        for n in range(3):
            dest = str(tmp_path / f"backup-{n}.db")
            result = ccf("store", "backup", dest, "--store", path)
            assert result.exit_code == 0, result.output
            assert "sqlite online backup" in result.output
            copies.append(dest)
    finally:
        writer.stop.set()
        writer.join(60)
    for dest in copies:
        calls, complete, rolled = _whole(dest)
        assert 50 <= calls <= writer.written
        assert complete == calls == rolled  # no call half copied
    # a copy is a call store: it opens and answers `ccf calls list`
    listed = ccf("calls", "list", "--store", copies[-1], "--limit", "1")
    assert listed.exit_code == 0 and "c0" in listed.output


def test_backup_errors(tmp_path) -> None:
    result = ccf("store", "backup", str(tmp_path / "b.db"), "--store", str(tmp_path / "no.db"))
    assert result.exit_code == USAGE and "there is no call store" in result.output
    path = str(tmp_path / "calls.db")
    with CallStore(path) as store:
        _call(store, 1)
    result = ccf("store", "backup", str(tmp_path / "none" / "b.db"), "--store", path)
    assert result.exit_code == USAGE and "no folder" in result.output
    result = ccf("store", "backup", str(tmp_path), "--store", path)
    assert result.exit_code == USAGE and "is a folder" in result.output


def test_child_env_carries_the_password_as_pgpassword(monkeypatch) -> None:
    monkeypatch.setenv("CCF_STORE_PASSWORD", "s3cret")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    import os

    assert child_env()["PGPASSWORD"] == "s3cret"
    assert "PGPASSWORD" not in os.environ  # this process's own environment stays as it was


@pytest.fixture
def pg_writer(pg_url):
    """A writer committing pairs of rows to a PostgreSQL database until stopped."""
    db = connect(pg_url)
    db.execute("CREATE TABLE pairs (n INTEGER NOT NULL, half INTEGER NOT NULL)")
    db.close()
    stop, count = threading.Event(), [0]

    def write() -> None:
        db = connect(pg_url)
        try:
            while not stop.is_set():
                db.execute("BEGIN")
                for half in (1, 2):
                    db.execute("INSERT INTO pairs (n, half) VALUES (?, ?)", (count[0], half))
                db.execute("COMMIT")
                count[0] += 1
        finally:
            db.close()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    yield pg_url, count
    stop.set()
    thread.join(60)


def test_pg_dump_while_writing_and_restore_with_psql(pg_writer, pg_cluster, tmp_path) -> None:
    url, count = pg_writer
    while count[0] < 50:
        threading.Event().wait(0.05)
    dest = str(tmp_path / "store.sql")
    result = ccf("store", "backup", dest, "--store", url)
    assert result.exit_code == 0, result.output
    assert "pg_dump" in result.output
    restored = pg_cluster.new_database()
    try:
        done = subprocess.run([client_program("psql"), "-v", "ON_ERROR_STOP=1", "-q",
                               "-d", pg_cluster.url(restored), "-f", dest],
                              env=child_env(), capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        db = connect(pg_cluster.url(restored))
        try:
            rows, pairs = db.execute("SELECT count(*), count(DISTINCT n) FROM pairs").fetchone()
        finally:
            db.close()
    finally:
        pg_cluster.drop_database(restored)
    assert rows == 2 * pairs and pairs >= 50  # every pair whole: one moment's copy


def test_pg_dump_failing_says_why(pg_url, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CCF_STORE_PASSWORD", "wrong")
    result = ccf("store", "backup", str(tmp_path / "b.sql"), "--store", pg_url)
    assert result.exit_code == USAGE
    assert "pg_dump of" in result.output and "password authentication failed" in result.output
    assert not (tmp_path / "b.sql").exists() and not (tmp_path / "b.sql.partial").exists()
