"""The workers of a call store (each `ccf serve`: host, address, heartbeat, calls) and the
ccf-answered signals one leaves for another. Rows only, through shared_db: must not know asyncio
or a FastAGI server (runtime/asterisk/worker_presence.py runs them).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ccdsl.runtime.operations.database import shown
from ccdsl.runtime.operations.shared_db import SharedStoreError, opened, shared
from ccdsl.runtime.operations.store_notify import ANSWERED, DONE, announcing
from ccdsl.runtime.operations.store_runs import Process

HEARTBEAT_S = 2.0  # how often a worker writes its row
DOWN_AFTER_S = 10.0  # a worker whose last beat is older is down (killed, its host lost)
SIGNAL_TTL_S = 60.0  # a ccf-answered signal no worker took by then is for no running call
FORGET_AFTER_S = 7 * 86400.0  # a stopped or dead worker's row is kept this long, then removed
# running call ids in one signal poll's statement: under SQLite's and PostgreSQL's parameter
# limits, and one statement for a worker's usual load
SIGNAL_CHUNK = 2000

WORKER_COLUMNS = ("worker", "host", "pid", "started", "address", "api", "heartbeat_ms",
                  "calls_running", "served", "version", "state", "stopped")


def worker_id(process: Process) -> str:
    """One process among all that ever wrote the store (a pid is reused, its start is not)."""
    return f"{process.host} {process.pid} {process.start or '-'}"


def now_ms() -> int:
    return int(time.time() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class WorkerRow:
    worker: str
    host: str
    pid: int
    started: str
    address: str | None
    api: str | None
    heartbeat_ms: int
    calls_running: int
    served: int
    version: str | None
    state: str  # serving|stopping|stopped
    stopped: str | None

    def status(self, at_ms: int) -> str:
        """up, stopped, or down (no beat for DOWN_AFTER_S: killed, or its host lost)."""
        if self.state == "stopped":
            return "stopped"
        return "up" if at_ms - self.heartbeat_ms <= DOWN_AFTER_S * 1000 else "down"

    def to_json(self, at_ms: int, own: str | None = None) -> dict[str, Any]:
        """`this`: the row of the worker saying it (`own`), which no one need ask again."""
        return {"host": self.host, "this": self.worker == own, "pid": self.pid,
                "started": self.started, "address": self.address, "api": self.api,
                "status": self.status(at_ms), "state": self.state,
                "last_heartbeat": _iso(self.heartbeat_ms),
                "seconds_since_heartbeat": round(max(0, at_ms - self.heartbeat_ms) / 1000, 1),
                "calls_running": self.calls_running, "served": self.served,
                "version": self.version, "stopped": self.stopped}


class _Held:
    """One connection kept for a poll: on PostgreSQL a pooled checkout costs a health check,
    SET and RESET ALL round trips besides the statement, four times a second per worker."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.lock = threading.Lock()  # one statement at a time on it
        self.db: Any = None

    def open(self) -> Any:
        if self.db is None:
            self.db = opened(self.target)
        return self.db

    def drop(self) -> None:
        db, self.db = self.db, None
        if db is not None:
            with contextlib.suppress(Exception):  # a lost connection may fail to close
                db.close()


class WorkerRows:
    """One worker's row in the store at `target`, and the signals it sends and takes."""

    def __init__(self, target: str, process: Process, *, address: str | None,
                 api: str | None = None) -> None:
        self.target = target
        self.id = worker_id(process)
        self.process = process
        self.address = address
        self.api = api
        self._poll = _Held(target)  # the signal poll's own connection
        # rows let go without close(): the connection goes back to the pool all the same
        weakref.finalize(self, self._poll.drop)

    def register(self, version: str | None) -> None:
        at = now_ms()
        with shared(self.target) as db:
            db.execute("DELETE FROM workers WHERE heartbeat_ms < ?",
                       (at - int(FORGET_AFTER_S * 1000),))
            db.execute(
                f"INSERT INTO workers ({', '.join(WORKER_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(WORKER_COLUMNS))}) "
                "ON CONFLICT (worker) DO UPDATE SET address = excluded.address, "
                "api = excluded.api, heartbeat_ms = excluded.heartbeat_ms, "
                "state = excluded.state, stopped = NULL",
                (self.id, self.process.host, self.process.pid, _iso(at), self.address,
                 self.api, at, 0, 0, version, "serving", None))

    def beat(self, *, calls_running: int, served: int, version: str | None,
             state: str = "serving") -> None:
        with shared(self.target) as db:
            db.execute("UPDATE workers SET heartbeat_ms = ?, calls_running = ?, served = ?, "
                       "version = ?, state = ?, api = ? WHERE worker = ?",
                       (now_ms(), calls_running, served, version, state, self.api, self.id))

    def stopped(self, *, served: int) -> None:
        at = now_ms()
        try:
            with shared(self.target) as db:
                db.execute("UPDATE workers SET heartbeat_ms = ?, calls_running = 0, "
                           "served = ?, state = 'stopped', stopped = ? WHERE worker = ?",
                           (at, served, _iso(at), self.id))
        finally:
            self.close()

    # -- ccf-answered signals ----------------------------------------------------------------

    def send_answered(self, call_id: str, agent: str, channel: str) -> int:
        """Leave a signal for the worker running call_id; its at_ms, to wait on with done().
        On PostgreSQL the workers hear of it at once (NOTIFY, sent only if it is written)."""
        at = now_ms()
        with shared(self.target) as db, announcing(db, self.target, ANSWERED, call_id):
            db.execute("INSERT OR IGNORE INTO answered_signals (call_id, at_ms, agent, channel, "
                       "at, sender) VALUES (?, ?, ?, ?, ?, ?)",
                       (call_id, at, agent, channel or "", _iso(at), self.id))
        return at

    def signal_state(self, call_id: str, at_ms: int, channel: str) -> tuple[str | None, bool]:
        """Who took a signal (None: no worker yet) and whether its hook has run."""
        with shared(self.target) as db:
            row = db.execute("SELECT taken_by, done_ms FROM answered_signals WHERE call_id = ? "
                             "AND at_ms = ? AND channel = ?",
                             (call_id, at_ms, channel or "")).fetchone()
        return (None, False) if row is None else (row[0], row[1] is not None)

    def take_answered(self, running: Iterable[str]) -> list[tuple[str, int, str, str]]:
        """The waiting signals for calls running here, each claimed by this worker alone
        (call_id, at_ms, agent, channel); signals past SIGNAL_TTL_S are left to expire.
        No call running: the database is not asked. Else, on this worker's own connection, one
        read per SIGNAL_CHUNK calls, and a claim only where a signal waits for one of them."""
        here = list(dict.fromkeys(running))
        if not here:
            return []
        since = now_ms() - int(SIGNAL_TTL_S * 1000)
        taken = []
        with self._poll.lock:
            db = self._poll.open()
            try:
                for start in range(0, len(here), SIGNAL_CHUNK):
                    chunk = here[start:start + SIGNAL_CHUNK]
                    among = f"call_id IN ({', '.join('?' * len(chunk))})"
                    # read first: almost every poll finds nothing, and a read takes no write
                    # lock (a long prune or backup holding it does not fail the poll)
                    if db.execute(f"SELECT 1 FROM answered_signals WHERE taken_by IS NULL AND "
                                  f"at_ms >= ? AND {among} LIMIT 1",
                                  (since, *chunk)).fetchone() is None:
                        continue
                    # one UPDATE ... RETURNING: two workers claiming one row, the second finds
                    # it taken (PostgreSQL re-reads the row it waited for; SQLite writes one
                    # at a time)
                    rows = db.execute(
                        "UPDATE answered_signals SET taken_by = ? WHERE taken_by IS NULL AND "
                        f"at_ms >= ? AND {among} RETURNING call_id, at_ms, agent, channel",
                        (self.id, since, *chunk)).fetchall()
                    taken += [(c, int(at), agent or "", channel) for c, at, agent, channel in rows]
            except sqlite3.Error as exc:
                self._poll.drop()  # a connection lost, or a store replaced: a new one next
                raise SharedStoreError(f"the call store {shown(self.target)}: {exc}") from None
        return taken

    def close(self) -> None:
        """Hand back the connection the signal poll keeps (at stop; tests)."""
        with self._poll.lock:
            self._poll.drop()

    def answered_done(self, call_id: str, at_ms: int, channel: str) -> None:
        """The signal's hook has run: its sender, waiting, hears so at once on PostgreSQL."""
        with shared(self.target) as db, announcing(db, self.target, DONE, call_id):
            db.execute("UPDATE answered_signals SET done_ms = ? WHERE call_id = ? AND at_ms = ? "
                       "AND channel = ?", (now_ms(), call_id, at_ms, channel))

    def expire_signals(self) -> int:
        """Remove the signals older than SIGNAL_TTL_S, taken or not; how many."""
        with shared(self.target) as db:
            gone = db.execute("DELETE FROM answered_signals WHERE at_ms < ?",
                              (now_ms() - int(SIGNAL_TTL_S * 1000),))
        return max(gone.rowcount, 0)


def list_workers(target: str) -> list[WorkerRow]:
    """Every worker the store knows, by host then start (SharedStoreError: unreadable)."""
    with shared(target, read_only=True) as db:
        rows = db.execute(f"SELECT {', '.join(WORKER_COLUMNS)} FROM workers "
                          "ORDER BY host, started, pid").fetchall()
    return [WorkerRow(*tuple(row)) for row in rows]


def workers_json(rows: Iterable[WorkerRow], at_ms: int | None = None,
                 own: str | None = None) -> list[dict[str, Any]]:
    at = now_ms() if at_ms is None else at_ms
    return [row.to_json(at, own) for row in rows]
