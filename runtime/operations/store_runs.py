"""The runs that write a call store (host, pid, start), and closing the calls a dead run left open.

SQL on a connection it is given; the writer thread runs it. Must not decide when to reconcile.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.store_record import (
    VISITS,
    CallRecord,
    apply,
    interrupt,
    row_values,
)
from ccdsl.runtime.operations.store_schema import (
    ASKED_SQL,
    CALL_COLUMNS,
    KEEPING,
    UPDATE_CALL_SQL,
    UPDATE_COLUMNS,
    VISIT_SQL,
    WRAPUP_COLUMNS,
)

log = logging.getLogger("ccdsl.store")


@dataclass(frozen=True)
class Process:
    """One process, as a later process on the same host can tell it apart
    from any other, even one given the same pid after it ended."""

    host: str
    pid: int
    start: str | None  # the OS's start mark (Linux: boot id and start time); None: unknown


def process_start(pid: int) -> str | None:
    """The boot and the moment (clock ticks since boot) process `pid` started,
    from /proc; None where there is no /proc or no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces
    fields = stat[stat.rfind(")") + 2:].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def this_process() -> Process:
    return Process(socket.gethostname(), os.getpid(), process_start(os.getpid()))


def alive(pid: int, start: str | None) -> bool:
    """Whether the process a run row names still runs on this host. Where
    that cannot be told (no signal 0 on Windows), it is taken as alive:
    reconciling a live run's calls would end calls still running."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    if start is None:
        return True
    now = process_start(pid)
    return now is None or now == start


def command() -> str:
    """How this process was started, for people reading `runs`: `ccf serve`."""
    argv = sys.argv or ["?"]
    return " ".join([os.path.basename(argv[0]) or "?", *argv[1:2]])


def open_run(db: sqlite3.Connection, me: Process) -> int:
    """This process's row in `runs` (one statement: atomic without a transaction; RETURNING
    on both back ends, PostgreSQL having no lastrowid)."""
    now = datetime.now(UTC)
    return db.execute("INSERT INTO runs (host, pid, process_start, command, started, "
                      "started_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING run_id",
                      (me.host, me.pid, me.start, command(), now.isoformat(),
                       int(now.timestamp() * 1000))).fetchone()[0]


def end_run(db: sqlite3.Connection, run_id: int, note: str | None = None) -> None:
    now = datetime.now(UTC)
    db.execute("UPDATE runs SET ended = ?, ended_ms = ?, end_note = ? WHERE run_id = ? "
               "AND ended_ms IS NULL", (now.isoformat(), int(now.timestamp() * 1000), note,
                                       run_id))


# ---- reconciling ---------------------------------------------------------------------------

# A `ccf serve` of another host is taken as dead when its worker row (workers.py, beaten every
# 2 s) has been silent this long: far past a network hiccup or a stalled disk, well inside
# what a supervisor waits for a call the wallboard still shows. A worker cut off from the
# store for longer has its calls closed as interrupted while they may still run (docs/workers.md).
ORPHANED_AFTER_S = 120.0
# the runs of other hosts whose `ccf serve` stopped beating: a worker's id is "host pid start"
ORPHANED_RUNS = (
    "SELECT r.run_id, r.host, r.pid, r.command, r.started, w.heartbeat_ms FROM runs r "
    "JOIN workers w ON w.worker = r.host || ' ' || r.pid || ' ' || "
    "coalesce(r.process_start, '-') "
    "WHERE r.ended_ms IS NULL AND r.host != ? AND w.state != 'stopped' AND w.heartbeat_ms < ? "
    "ORDER BY r.run_id")


def reconcile(db: sqlite3.Connection, me: Process, run_id: int | None,
              limit: int | None = None) -> list[str]:
    """Close the calls left open by runs that are certainly over, inside the caller's
    transaction: runs of this host whose process is gone; runs of another host whose
    `ccf serve` has not beaten its worker row for ORPHANED_AFTER_S (its host lost, or killed
    there with no worker started since); calls of files older than schema 6, which name no
    run. At most `limit` calls (a run is ended once all of its are closed): one transaction
    holds the store's write lock, and a killed worker may have left thousands. Their ids."""
    now = datetime.now(UTC)
    closer = f"run {run_id} (pid {me.pid} on {me.host})" if run_id else \
        f"pid {me.pid} on {me.host}"
    closed: list[str] = []
    room = [limit if limit is not None else -1]  # calls still to close in this transaction
    runs = db.execute("SELECT run_id, pid, process_start, command, started FROM runs "
                      "WHERE ended_ms IS NULL AND host = ? ORDER BY run_id", (me.host,))
    for dead, pid, start, what, started in runs.fetchall():
        if dead == run_id or alive(pid, start):
            continue
        why = (f"{what or 'the run'} that ran it (pid {pid} on {me.host}, run {dead}, "
               f"started {started}) stopped without ending it")
        closed += _end_dead_run(db, dead, why, f"no longer running: found by {closer} at "
                                f"{now.isoformat()}", now, closer, room)
        if not room[0]:
            return closed
    silent_since = int(now.timestamp() * 1000) - int(ORPHANED_AFTER_S * 1000)
    for dead, host, pid, what, started, beat in db.execute(ORPHANED_RUNS,
                                                            (me.host, silent_since)).fetchall():
        last = datetime.fromtimestamp(beat / 1000, UTC).isoformat(timespec="seconds")
        why = (f"{what or 'the run'} that ran it (pid {pid} on {host}, run {dead}, started "
               f"{started}) stopped beating its worker row at {last}")
        closed += _end_dead_run(db, dead, why, f"silent since {last}: taken as dead by "
                                f"{closer} at {now.isoformat()}", now, closer, room)
        if not room[0]:
            return closed
    legacy = [r[0] for r in db.execute("SELECT call_id FROM calls WHERE run_id IS NULL "
                                       "AND outcome IS NULL ORDER BY call_id")]
    if room[0] >= 0:  # the batch's limit holds for these too; the next batch takes the rest
        legacy = legacy[:room[0]]
    for call_id in legacy:
        _close(db, call_id, "it was stored before schema 6 by a process that is no longer "
               "running", now, closer)
    if legacy:
        log.warning("call store: %d call(s) left open before schema 6 closed as "
                    "interrupted: %s", len(legacy), ", ".join(legacy))
    return closed + legacy


def _end_dead_run(db: sqlite3.Connection, dead: int, why: str, note: str, now: datetime,
                  closer: str, room: list[int]) -> list[str]:
    """A dead run's open calls closed as interrupted, at most room[0] of them (-1: all; room[0]
    counts down), and the run ended with `note` once none is left."""
    ids = [r[0] for r in db.execute("SELECT call_id FROM calls WHERE run_id = ? "
                                    "AND outcome IS NULL ORDER BY call_id", (dead,))]
    more = 0 <= room[0] < len(ids)
    if more:
        ids = ids[:room[0]]
    for call_id in ids:
        _close(db, call_id, why, now, closer)
    if room[0] >= 0:
        room[0] -= len(ids)
    if not more:
        db.execute("UPDATE runs SET ended = ?, ended_ms = ?, end_note = ? WHERE run_id = ?",
                   (now.isoformat(), int(now.timestamp() * 1000), note, dead))
    if ids:
        log.warning("call store: %d call(s) left open by run %d (%s) closed as interrupted: %s",
                    len(ids), dead, note, ", ".join(ids))
    return ids


def _close(db: sqlite3.Connection, call_id: str, why: str, now: datetime, closer: str) -> None:
    """One open call's record rebuilt from its stored events (as the store
    folds them while a call runs), closed at its last event."""
    stored = db.execute("SELECT started, started_ms, previous_call FROM calls "
                        "WHERE call_id = ?", (call_id,)).fetchone()
    row = dict.fromkeys(CALL_COLUMNS)
    row.update(call_id=call_id, started=stored[0], started_ms=stored[1], previous_call=stored[2],
               talked_to_agent=0)
    call = CallRecord(row)
    last = (stored[0], stored[1])
    for seq, at, at_ms, kind, data in db.execute(
            "SELECT seq, at, at_ms, kind, data FROM events WHERE call_id = ? ORDER BY seq",
            (call_id,)):
        try:
            fields = json.loads(data)
        except ValueError:
            fields = {}
        apply(call, seq, kind, fields if isinstance(fields, dict) else {}, at, at_ms)
        last = (at, at_ms)
    at, ms = last
    interrupt(call, at or now.isoformat(), ms if ms is not None else int(now.timestamp() * 1000),
              f"interrupted: the {why}; its last event was at {at}; closed at "
              f"{now.isoformat()} by {closer}")
    db.execute(UPDATE_CALL_SQL, (*row_values(row, UPDATE_COLUMNS), call_id))
    # the forms asked for; one saved while it ran (ccf wrapup) keeps its values
    db.executemany(ASKED_SQL, [row_values(w, WRAPUP_COLUMNS) for w in call.wrapups])
    for table, columns, sql in VISIT_SQL:
        rows = [row_values(r, columns) for r in getattr(call, VISITS[table])]
        if rows:
            db.executemany(sql + KEEPING, rows)
    rollup.calls_ended(db, [call_id])
