"""The call store's writer: a thread with its own connection (SQLite or PostgreSQL), writing
queued rows in batches.

Must not fold events or decide what a row holds; the event loop never waits for it
(docs/store.md "Writing").
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccdsl.runtime.operations import rollup, store_wrapups
from ccdsl.runtime.operations.database import connect, rollback_quietly
from ccdsl.runtime.operations.database.contention import contended
from ccdsl.runtime.operations.store_ids import free_repeat, taken_of
from ccdsl.runtime.operations.store_record import CallRecord
from ccdsl.runtime.operations.store_schema import (
    ASKED_SQL,
    CALL_COLUMNS,
    CENTRE_SQL,
    CHOICE_SQL,
    EVENT_SQL,
    KEEPING,
    NEW_CALL_SQL,
    UPDATE_CALL_SQL,
    VISIT_SQL,
)

log = logging.getLogger("ccdsl.store")

# A failed write (the file locked, the disk full; on PostgreSQL a lock wait or a lost
# connection) is tried again after RETRY_S[0], doubling to RETRY_S[1]; each try waits
# BUSY_MS for a lock, so a lock is noticed soon (reads stop waiting for the writer while
# it lasts).
RETRY_S = (0.1, 2.0)
BUSY_MS = 200
_PREVIOUS = CALL_COLUMNS.index("previous_call")


@dataclass
class Job:
    """Work for the writer's connection inside a write's transaction (the
    reconciliation at start, marking this run ended): `run(db)`'s result
    lands in `result`, and `done` is set once it is committed."""

    run: Callable[[sqlite3.Connection], Any]
    result: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    # called with the result once committed, in the writer's thread (queueing more work)
    then: Callable[[Any], None] | None = None


@dataclass
class Batch:
    """The rows of one write, in the order they go in."""

    inserts: list[tuple] = field(default_factory=list)  # new calls (CALL_COLUMNS values)
    updates: list[tuple] = field(default_factory=list)  # (UPDATE_COLUMNS values..., call_id)
    events: list[tuple] = field(default_factory=list)  # event_batches rows
    event_count: int = 0  # the events in them
    choices: list[tuple] = field(default_factory=list)  # menu_choices rows
    visits: dict[str, list[tuple]] = field(default_factory=dict)  # table -> rows
    wrapups: list[tuple] = field(default_factory=list)  # (call_id, values, wrapup_ms, agent)
    centre: list[tuple] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)  # its finished calls, for reads
    take: int = 0  # its number; a merged batch has the later one's

    @property
    def rows(self) -> int:
        """The rows that count against the store's backlog bound."""
        return self.event_count + len(self.centre)

    def merge(self, later: Batch) -> Batch:
        """This batch (which failed to write) with the next one after it."""
        for name in ("inserts", "updates", "events", "choices", "wrapups", "centre", "jobs",
                     "records"):
            getattr(self, name).extend(getattr(later, name))
        self.event_count += later.event_count
        for table, rows in later.visits.items():
            self.visits.setdefault(table, []).extend(rows)
        self.take = later.take
        return self


class StoreWriter:
    """Writes batches taken from the store on a thread of its own, or, with
    `threaded=False` (bulk simulations, where nothing waits on a live
    call), in the store's own thread when it calls `pump()`: a second thread
    there would only contend for the GIL. The store's condition guards
    everything here but the connection; `take()` and `due_in()` are called
    with it held."""

    def __init__(self, path: str, cv: threading.Condition, *,
                 take: Callable[[], Batch | None], due_in: Callable[[], float | None],
                 run_id: Callable[[sqlite3.Connection], int],
                 written: Callable[[Batch], None], threaded: bool = True) -> None:
        self.path = path
        self._cv = cv
        self._take, self._due_in, self._run_id, self._written_cb = take, due_in, run_id, written
        self.taken = 0  # batches taken so far
        self.written = 0  # the take number of the last batch written
        self.failures = 0  # failed writes so far
        self.failed_take = 0
        self.error: BaseException | None = None
        self.dead: BaseException | None = None  # what ended the thread, when a bug did
        self.inflight: Batch | None = None  # being written, or waiting to be tried again
        self.renamed: dict[str, str] = {}  # a call id the file had -> the id it got
        self._previous: dict[str, str] = {}  # a renamed call's id -> the call before it
        self._wanted = False  # someone waits for everything taken or pending
        self._stopping = False
        self._abandoned = False
        self._retry_at = 0.0
        self._db: sqlite3.Connection | None = None  # inline: opened at the first pump
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._loop, name="ccf-store-writer",
                                            daemon=True)
            self._thread.start()

    # -- asked by the store (its condition held) -------------------------------------------

    def want(self) -> None:
        """Write what is pending now, without waiting for the batch to fill."""
        self._wanted = True
        self._cv.notify_all()

    def stop(self) -> None:
        """Write what is left, then end."""
        self._stopping = True
        self._cv.notify_all()

    def abandon(self) -> None:
        """End without writing what is left (the store could not be written
        for as long as closing may wait)."""
        self._abandoned = True
        self._cv.notify_all()

    def join(self, timeout: float) -> bool:
        if self._thread is None:
            if self._db is not None:
                self._db.close()
                self._db = None
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def threaded(self) -> bool:
        return self._thread is not None

    def pump(self, deadline: float | None = None) -> None:
        """Inline: take what is queued and write it now, in this thread (the
        store's lock held). A failure is kept as a thread's would be. With a
        `deadline` (time.monotonic(); math.inf for none), a write another
        writer's lock stopped (database.contended) is tried again after the
        writer's backoff, the store's lock let go meanwhile, until it is
        written or the deadline passes (a flush)."""
        if self._db is None:
            self._db = _connect(self.path)
        batch = self._next()
        while batch is not None:
            self._attempt(self._db, batch)
            if deadline is None or self.inflight is None or self.error is None \
                    or not contended(self.error):
                return
            now = time.monotonic()
            if now >= deadline:
                return
            with self._cv:
                self._cv.wait(min(self._retry_at, deadline) - now)
            batch = self._next()

    # -- the thread ------------------------------------------------------------------------

    def _loop(self) -> None:
        db = None
        try:
            db = _connect(self.path)
            while self._round(db):
                pass
        except BaseException as exc:  # a bug: say so, and let no one wait for it
            log.exception("call store %s: the writer stopped", self.path)
            with self._cv:
                self.dead = exc
                self._cv.notify_all()
        finally:
            if db is not None:
                db.close()

    def _round(self, db: sqlite3.Connection) -> bool:
        """Wait for a batch, write it. False once stopped with nothing left."""
        with self._cv:
            while True:
                if self._abandoned:
                    return False
                now = time.monotonic()
                if self.inflight is not None:
                    if now >= self._retry_at or self._wanted:
                        break  # a failed batch again, with whatever came since
                    due = None
                else:
                    due = self._due_in()
                    if self._wanted or self._stopping or due == 0:
                        break
                self._cv.wait(self._retry_at - now if self.inflight is not None else due)
            batch = self._next()
            if batch is None:
                self._cv.notify_all()
                return not self._stopping
        self._attempt(db, batch)
        return True

    def _next(self) -> Batch | None:
        """What to write now: what failed before, with everything queued
        since (the condition held)."""
        batch = self._take()
        if batch is not None:
            self.taken += 1
            batch.take = self.taken
            batch = self.inflight.merge(batch) if self.inflight is not None else batch
        else:
            batch = self.inflight
        self._wanted = False
        self.inflight = batch
        return batch

    def _attempt(self, db: sqlite3.Connection, batch: Batch) -> None:
        try:
            self._write(db, batch)
        except Exception as exc:  # noqa: BLE001 - the rows stay queued, whatever failed
            rollback_quietly(db)  # PostgreSQL: nothing more runs in a failed transaction
            if not isinstance(exc, sqlite3.Error):
                # a job's bug must not hold the calls' rows back for ever
                log.exception("call store %s: a job failed; the rows are tried without it",
                              self.path)
                for job in batch.jobs:
                    job.done.set()
                batch.jobs = []
            with self._cv:
                self.failures += 1
                self.failed_take, self.error = batch.take, exc
                delay = min(RETRY_S[0] * 2 ** min(self.failures - 1, 16), RETRY_S[1])
                self._retry_at = time.monotonic() + delay
                self._cv.notify_all()
            if self.failures == 1 or self.failures % 50 == 0:
                log.warning("call store %s: %d row(s) not written yet (%s: %s); retrying",
                            self.path, batch.rows, type(exc).__name__, exc)
            return
        with self._cv:
            recovered = self.error is not None
            self.inflight, self.error, self.failures = None, None, 0
            self.written = batch.take
            self._written_cb(batch)
            self._cv.notify_all()
        if recovered:
            log.warning("call store %s: writing again; the %d row(s) that waited are written",
                        self.path, batch.rows)
        for job in batch.jobs:
            job.done.set()
            if job.then is not None:
                job.then(job.result)

    def _write(self, db: sqlite3.Connection, batch: Batch) -> None:
        run_id = self._run_id(db) if batch.inserts else None
        db.execute("BEGIN IMMEDIATE")
        try:
            _write_rows(db, self._resolve(db, batch), run_id, ended=self._ended(batch))
        except sqlite3.IntegrityError as exc:
            rollback_quietly(db)
            # a row whose key the file already has, which ids unique by
            # construction should never meet: keep the row there, write the rest
            log.error("call store %s: %s; writing the batch keeping the rows already there",
                      self.path, exc)
            db.execute("BEGIN IMMEDIATE")
            try:
                _write_rows(db, self._resolve(db, batch), run_id, keeping=True,
                            ended=self._ended(batch))
            except BaseException:
                rollback_quietly(db)
                raise
        except BaseException:
            rollback_quietly(db)
            raise
        db.execute("COMMIT")

    def _ended(self, batch: Batch) -> list[str]:
        """The ids the batch's finished calls are stored as (after _resolve)."""
        return [self.renamed.get(c.row["call_id"], c.row["call_id"]) for c in batch.records]

    def _resolve(self, db: sqlite3.Connection, batch: Batch) -> Batch:
        """The batch with every call id the file already had for another
        call given the next free `UNIQUEID~N` (the earlier call named as its
        previous_call), here and in every later batch of that call."""
        fresh = [values[0] for values in batch.inserts if values[0] not in self.renamed]
        found = taken_of(db, fresh) if fresh else ()
        for call_id in fresh:
            if call_id in found and call_id not in self.renamed:
                new_id, previous = free_repeat(db, call_id)
                log.warning("call store %s: call id %s is taken by an earlier call; this call "
                            "is stored as %s", self.path, call_id, new_id)
                self.renamed[call_id] = new_id
                self._previous[new_id] = previous
        if not self.renamed:
            return batch
        ren = self.renamed
        out = Batch(take=batch.take, jobs=batch.jobs, records=batch.records, centre=batch.centre,
                    event_count=batch.event_count)
        for values in batch.inserts:
            new_id = ren.get(values[0])
            if new_id is None:
                out.inserts.append(values)
                continue
            fixed = list(values)
            fixed[0] = new_id
            fixed[_PREVIOUS] = self._previous.get(new_id, fixed[_PREVIOUS])
            out.inserts.append(tuple(fixed))
        out.updates = [(*v[:-1], ren.get(v[-1], v[-1])) for v in batch.updates]
        out.events = [(ren.get(v[0], v[0]), *v[1:]) for v in batch.events]
        out.choices = [(v[0], ren.get(v[1], v[1]), *v[2:]) for v in batch.choices]
        out.visits = {t: [(ren.get(v[0], v[0]), *v[1:]) for v in rows]
                      for t, rows in batch.visits.items()}
        out.wrapups = [(ren.get(v[0], v[0]), *v[1:]) for v in batch.wrapups]
        return out


def _connect(path: str) -> sqlite3.Connection:
    return connect(path, busy_ms=BUSY_MS)


def _write_rows(db: sqlite3.Connection, batch: Batch, run_id: int | None, *,
                keeping: bool = False, ended: list[str] | None = None) -> None:
    """One write's rows, each table with one prepared statement; with
    `keeping`, a row whose key is there already is left as it is. The calls
    `ended` (their ids as stored) go into the rollups with their rows."""
    tail = KEEPING if keeping else ""
    if batch.inserts:
        db.executemany(NEW_CALL_SQL + tail, [(*v, run_id) for v in batch.inserts])
    if batch.events:
        db.executemany(EVENT_SQL + tail, batch.events)
    if batch.choices:
        db.executemany(CHOICE_SQL + tail, batch.choices)
    if batch.updates:
        db.executemany(UPDATE_CALL_SQL, batch.updates)
    for table, _, sql in VISIT_SQL:
        rows = batch.visits.get(table)
        if rows:
            db.executemany(sql + tail, rows)
    if batch.visits.get("wrapups"):  # the forms asked for, before their values
        db.executemany(ASKED_SQL, batch.visits["wrapups"])
    # before the wrap-ups: a wrap-up moves the rollups of a call already in them
    if keeping:
        rollup.rebuild_calls(db, ended or [])
    else:  # the ended calls' visits are all in this batch: _resolve gave a taken id a new one
        rollup.calls_ended(db, ended or [],
                           frozenset(table for table, rows in batch.visits.items() if rows))
    for call_id, values, wrapup_ms, agent in batch.wrapups:
        store_wrapups.write(db, call_id, values, wrapup_ms, agent)
    if batch.centre:
        db.executemany(CENTRE_SQL, batch.centre)
    for job in batch.jobs:
        job.result = job.run(db)
