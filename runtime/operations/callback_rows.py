"""The dialler's side of the call store's `queue_callbacks` table: what is due, claiming, settling.

SQL on a connection of its own, each change one short transaction committed before
it returns (a dial starts only once its claim is in the file). Must not dial or decide
the policy; the store's writer inserts the rows (store_record.py folds the requests).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store_runs import Process, alive

BUSY_MS = 5000
PENDING, DIALLING, DONE, FAILED, GIVEN_UP = "pending", "dialling", "done", "failed", "given_up"
ENDED = (DONE, FAILED, GIVEN_UP)


@dataclass(frozen=True)
class Request:
    """One in-queue call-back to dial: the call that booked it and the event's seq."""

    call_id: str
    seq: int
    queue: str
    number: str | None
    priority: int
    joined_ms: int
    requested_ms: int
    attempts: int
    customer: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.call_id, self.seq)


def owner_text(me: Process) -> str:
    return f"{me.host} {me.pid} {me.start or '-'}"


class CallbackRows:
    """The table in the store at `path`, a file or a URL (thread-safe: the dialler runs
    its statements off the event loop)."""

    def __init__(self, path: str | Path, me: Process) -> None:
        self.path = str(path)
        self.me = me
        self.owner = owner_text(me)
        self._lock = threading.Lock()
        self._db = connect(self.path, busy_ms=BUSY_MS)  # a file, or a PostgreSQL URL
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _change(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    def due(self, now_ms: int) -> list[Request]:
        """The pending requests whose next attempt may be made now, in line:
        higher priority first, then the earlier place in the queue."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM queue_callbacks WHERE status = 'pending' "
                "AND coalesce(next_attempt_ms, 0) <= ? "
                "ORDER BY priority DESC, joined_ms, requested_ms, call_id, seq",
                (now_ms,)).fetchall()
        return [Request(r["call_id"], r["seq"], r["queue"] or "", r["number"],
                        r["priority"] or 0, r["joined_ms"] or r["requested_ms"],
                        r["requested_ms"], r["attempts"], r["customer"]) for r in rows]

    def claim(self, request: Request, agent: str, now_ms: int) -> bool:
        """Mark the request dialling by this process (one attempt more);
        False when another took it meanwhile. Committed when it returns."""
        return self._change(
            "UPDATE queue_callbacks SET status = 'dialling', attempts = attempts + 1, "
            "agent = ?, owner = ?, updated_ms = ? WHERE call_id = ? AND seq = ? "
            "AND status = 'pending'",
            (agent, self.owner, now_ms, request.call_id, request.seq)) == 1

    def settle(self, request: Request, *, status: str, outcome: str, reason: str,
               now_ms: int, attempts_back: int = 0, next_attempt_ms: int | None = None,
               callback_id: str | None = None) -> bool:
        """What the attempt this process claimed came to. `attempts_back`: 1
        when it did not count (the agent's phone was not answered)."""
        return self._change(
            "UPDATE queue_callbacks SET status = ?, outcome = ?, reason_text = ?, "
            "attempts = attempts - ?, next_attempt_ms = ?, "
            "callback_id = coalesce(?, callback_id), owner = NULL, updated_ms = ?, "
            "ended_ms = ? WHERE call_id = ? AND seq = ? AND status = 'dialling' AND owner = ?",
            (status, outcome, reason, attempts_back, next_attempt_ms, callback_id, now_ms,
             now_ms if status in ENDED else None, request.call_id, request.seq,
             self.owner)) == 1

    def give_up_expired(self, now_ms: int, give_up_after_ms: int) -> int:
        """Pending requests older than the policy allows: given up."""
        return self._change(
            "UPDATE queue_callbacks SET status = 'given_up', "
            "outcome = coalesce(outcome, 'not_reached'), "
            "reason_text = 'not called back within the time allowed ([callbacks] "
            "give_up_after)', updated_ms = ?, ended_ms = ? "
            "WHERE status = 'pending' AND requested_ms + ? <= ?",
            (now_ms, now_ms, give_up_after_ms, now_ms))

    def reconcile(self, now_ms: int) -> list[tuple[str, int]]:
        """Requests a process of this host was dialling when it died: failed,
        outcome `interrupted`, never dialled again by themselves (the
        customer may have been reached: `ccf callback CALL --agent A`
        returns one by hand). Those of live processes or other hosts stay."""
        with self._lock:
            rows = self._db.execute("SELECT call_id, seq, owner FROM queue_callbacks "
                                    "WHERE status = 'dialling'").fetchall()
        closed = []
        for row in rows:
            host, pid, start = _owner(row["owner"])
            if host != self.me.host or row["owner"] == self.owner:
                continue
            if pid is not None and alive(pid, start):
                continue
            changed = self._change(
                "UPDATE queue_callbacks SET status = 'failed', outcome = 'interrupted', "
                "reason_text = ?, owner = NULL, updated_ms = ?, ended_ms = ? "
                "WHERE call_id = ? AND seq = ? AND status = 'dialling' AND owner IS ?",
                (f"the server dialling it (pid {pid}) stopped during the attempt; not "
                 "dialled again, as the customer may have been reached", now_ms, now_ms,
                 row["call_id"], row["seq"], row["owner"]))
            if changed:
                closed.append((row["call_id"], row["seq"]))
        return closed


def _owner(text: str | None) -> tuple[str | None, int | None, str | None]:
    parts = (text or "").split(" ")
    if len(parts) != 3 or not parts[1].isdigit():
        return None, None, None
    return parts[0], int(parts[1]), None if parts[2] == "-" else parts[2]


def listing(query: Callable[[str, tuple], list[dict[str, Any]]],
            statuses: tuple[str, ...] | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The requests (of `statuses`; None: every one), the oldest request
    first, read with a store's `query` (CallStore.query)."""
    where, args = "", ()
    if statuses:
        where = f"WHERE status IN ({', '.join('?' * len(statuses))})"
        args = tuple(statuses)
    return query(f"SELECT * FROM queue_callbacks {where} "
                 "ORDER BY requested_ms, call_id, seq LIMIT ?", (*args, limit))
