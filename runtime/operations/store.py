"""The call store: every call's events and its call record in one SQLite file or a PostgreSQL
database (docs/store.md).

Must not import the simulator or Asterisk, and `emit` must never wait for the database:
it folds and queues, and the writer thread (store_writer.py) writes.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.sqlite_nulls import bind_nulls_directly
from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations import store_history, store_ids, store_wrapups
from ccdsl.runtime.operations.centre_time import report_zone, utc_text
from ccdsl.runtime.operations.database import check_target, connect, is_postgres, transaction
from ccdsl.runtime.operations.database.contention import contended
from ccdsl.runtime.operations.store_ids import Claims, calls_of
from ccdsl.runtime.operations.store_migrate import StoreError, migrate, opening, version_of
from ccdsl.runtime.operations.store_queue import (
    BACKLOG_ROWS,
    FLUSH_SECONDS,
    WRITE_DELAY_S,
    Pending,
    queued_events,
)
from ccdsl.runtime.operations.store_record import (
    FOLDS,
    CallRecord,
    apply,
    close_node,
    dumps,
    event_element,
    recordings_done,
)
from ccdsl.runtime.operations.store_runs import Process, end_run, open_run, this_process
from ccdsl.runtime.operations.store_runs import reconcile as reconcile_runs
from ccdsl.runtime.operations.store_schema import CALL_COLUMNS, EVENT_COLUMNS, SCHEMA_VERSION
from ccdsl.runtime.operations.store_writer import Batch, Job, StoreWriter

__all__ = ["BACKLOG_ROWS", "FLUSH_EVENTS", "FLUSH_SECONDS", "SIMULATION_CALLS_PER_COMMIT",
           "WRITE_DELAY_S", "CallStore", "StoreError"]

log = logging.getLogger("ccdsl.store")

FLUSH_EVENTS = 1000
# What bulk simulations (many simulated calls in one process, `make bench`)
# pass as `calls_per_commit`: a crash loses at most this many finished
# calls of a simulation, which can simply be run again. Live calls keep the
# default of 1: a finished call goes to the writer when its `call_ended` is emitted.
SIMULATION_CALLS_PER_COMMIT = 500
# With several calls per commit the event bound grows with them (about 25
# events a simulated call), or it would cut every batch short: a commit's
# cost is mostly pages written, and calls share index pages.
EVENTS_PER_CALL = 50
CLOSE_WAIT_S = 10.0  # how long closing tries to write what is left
RESERVE_BUSY_MS = 30_000  # a `sim-N` reservation waits this long for other writers
RECONCILE_BATCH = 50  # calls one reconciling transaction closes; other writes go in between
CLAIMS_KEPT = 100_000  # Uniqueids whose calls this store remembers without reading the file
ENDED_KEPT = 10_000  # finished calls whose late events are kept as events only


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _connect(path: str) -> sqlite3.Connection:
    db = connect(path)
    db.row_factory = sqlite3.Row
    return db


class CallStore:
    """Events and call records on a SQLite file or a PostgreSQL database, created on first
    open (store_migrate.opening: which versions are brought up to date there)."""

    def __init__(self, path: str | Path, *, calls_per_commit: int = 1,
                 timezone: str | None = None, wait_s: float | None = None) -> None:
        """`timezone`: the centre's zone (IANA name), kept in meta when the
        store has none yet, for reports and listings; times are stored in UTC.
        `wait_s`: how long a read waits for the writer to write what came
        before it: None until written (commands, tests). A server passes a
        fraction of a second: `query` waits that long at most, and only while
        the file can be written; `call`, `events` and `last_agent` never
        wait: they see the file and the calls in memory."""
        self.path = check_target(path)  # before a folder is made for what is no path
        self.calls_per_commit = max(1, calls_per_commit)
        self.flush_events = max(FLUSH_EVENTS, EVENTS_PER_CALL * self.calls_per_commit)
        self.wait_s = wait_s
        if self.path == ":memory:":  # the writer's connection must see the same database
            self.path = f"file:ccf-store-{id(self)}?mode=memory&cache=shared"
        elif not is_postgres(self.path):
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        bind_nulls_directly()  # the rows' many NULLs bound without a failed look-up each
        self._db: sqlite3.Connection | None = _connect(self.path)  # reads, schema, reservations
        self._read_lock = threading.RLock()
        self._lock = threading.RLock()  # the fold state and the queue below
        self._cv = threading.Condition(self._lock)
        self._calls: dict[str, CallRecord] = {}  # open calls
        self._q = Pending(self.path, self.calls_per_commit, self.flush_events)
        # finished calls: the id their events came with -> the id they are stored as
        self._ended: OrderedDict[str, str] = OrderedDict()
        self._claims = Claims(CLAIMS_KEPT)
        self._reserved: set[str] = set()  # ids whose row reserve_call_id inserted
        self._stamp_of: datetime | None = None  # the last event time converted, and its forms
        self._stamp: tuple[str, int] = ("", 0)
        self._me: Process = this_process()
        self._run_id: int | None = None
        self._run_lock = threading.Lock()
        self._writer: StoreWriter | None = None
        self._inline = False  # the writer writes in this thread (a bulk simulation's)
        self._probe: sqlite3.Connection | None = None  # claim_call_id's reads
        self._probe_lock = threading.Lock()
        try:
            self._open(timezone)
        except BaseException:
            self._db.close()  # a PostgreSQL connection goes back to its pool
            raise

    def _open(self, timezone: str | None) -> None:
        assert self._db is not None
        if not is_postgres(self.path):
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        # a store already current is only read: opening it never waits for a
        # writer's lock (another process may hold it for long)
        found = self._version()
        if found != SCHEMA_VERSION:
            opening(self.path, found)  # StoreError: an older PostgreSQL store, to migrate
            self._migrate()
        if timezone and self._meta("timezone") is None:
            with self._transaction():
                self._db.execute("INSERT INTO meta (key, value) VALUES ('timezone', ?) "
                                 "ON CONFLICT (key) DO NOTHING", (timezone,))

    # -- schema ----------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        db = self._reader()
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' "
                          "AND name='meta'").fetchone():
            return None
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _version(self) -> int | None:
        return version_of(self._reader())

    def _migrate(self) -> None:
        assert self._db is not None
        with self._transaction():
            migrate(self._db, self.path)

    def zone(self) -> tzinfo:
        """The zone listings show times in: the centre's (meta `timezone`),
        else this machine's."""
        with self._read_lock:
            return report_zone(self._reader(), None)

    @property
    def schema_version(self) -> int:
        with self._read_lock:
            row = self._reader().execute(
                "SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    def _transaction(self) -> AbstractContextManager[None]:
        return transaction(self._reader())

    def _reader(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self.path}: the call store is closed")
        return self._db

    # -- EventSink -------------------------------------------------------

    def emit(self, event: Event) -> None:
        with self._lock:
            call_id, kind, at, data = event.call_id, event.kind, event.at, event.data
            # events of one moment share their times: convert each instant once
            if at is not self._stamp_of:
                self._stamp_of, self._stamp = at, (utc_text(at), _ms(at))
            iso, ms = self._stamp
            q = self._q
            call = self._calls.get(call_id)
            folds = kind in FOLDS
            if call is None and call_id in self._ended and kind != "call_started":
                step = None  # after its end: an event row, nothing more
                stored_id = self._ended[call_id]
            else:
                if call is None:
                    call = self._start(call_id, iso, ms)
                if folds or call.ringing:
                    step, changed = apply(call, event.seq, kind, data, iso, ms)
                    if changed:
                        q.dirty[call_id] = call
                else:  # most events: nothing to fold, the row names the node the call is in
                    node = call.node
                    step = node["node"] if node is not None else None
                stored_id = call.row["call_id"]
            seq = event.seq
            if (folds or q.event_rows + len(q.centre) + q.inflight_rows < BACKLOG_ROWS
                    or not q.full(BACKLOG_ROWS, "events")):
                element = event_element(seq, iso, ms, kind, step, event.loc, data)
                queued = q.events.get(stored_id)
                if queued is None:
                    q.events[stored_id] = [seq, element]
                else:
                    queued.append(element)
                q.event_rows += 1
                if kind == "menu_choice":
                    key = data.get("key")
                    q.choices.append((ms, stored_id, seq, iso, step,
                                      key if key is None or type(key) is str else dumps(key)))
            if kind == "call_ended" and call is not None:
                self._finish(call_id, call)
            # q.waiting, read as the attribute it is: this runs after every event
            if (q.due_at == math.inf or len(q.finished) >= q.calls_per_commit
                    or q.event_rows + len(q.centre) >= q.flush_events or q.wrapups or q.jobs):
                self._queued()
            elif self._inline and time.monotonic() >= q.due_at:
                # the one thing an event that fills no batch can make due:
                # a bulk simulation's batch that has waited long enough
                self._writer.pump()  # type: ignore[union-attr]

    def _start(self, call_id: str, iso: str, ms: int) -> CallRecord:
        """A call's first event (call_started, or whatever came first), at
        `iso` / `ms`. An id a call of this store ended with already (a
        caller that claimed no id) is stored as the next `ID~N`."""
        row = dict.fromkeys(CALL_COLUMNS)
        row["started"], row["started_ms"] = iso, ms
        row["talked_to_agent"] = 0
        row["previous_call"] = self._claims.previous(call_id)
        row["call_id"] = call_id
        if call_id in self._ended:
            row["call_id"] = self._claims.claim(call_id, 1)
            row["previous_call"] = self._claims.previous(row["call_id"])
        call = CallRecord(row, stored=call_id in self._reserved)
        self._reserved.discard(call_id)
        self._calls[call_id] = call
        self._q.dirty[call_id] = call
        return call

    def _finish(self, call_id: str, call: CallRecord) -> None:
        """The call whose events come as `call_id` ended."""
        del self._calls[call_id]
        self._q.dirty.pop(call_id, None)
        self._q.finished.append(call)
        self._ended[call_id] = call.row["call_id"]
        self._ended.move_to_end(call_id)
        if len(self._ended) > ENDED_KEPT:
            self._ended.popitem(last=False)

    # -- the queue (under self._lock) ----------------------------------------

    def _queued(self) -> None:
        """After a row is queued: start the writer with the first, and wake
        it when it should hear (store_queue.Pending.arrived); a bulk
        simulation's writes what is due at once, in this thread."""
        if self._q.arrived():
            self._start_writer()
            self._cv.notify_all()
        writer = self._writer
        if writer is not None and not writer.threaded and self._q.due_in() == 0:
            writer.pump()

    def _written(self, batch: Batch) -> None:
        """The writer wrote `batch` (self._lock held)."""
        if self._q.written():
            self._queued()

    def _start_writer(self) -> None:
        if self._writer is None:
            if self._db is None:
                raise StoreError(f"{self.path}: the call store is closed")
            self._writer = StoreWriter(self.path, self._cv, take=self._q.take,
                                       due_in=self._q.due_in, run_id=self._ensure_run,
                                       written=self._written,
                                       threaded=self.calls_per_commit == 1)
            self._inline = not self._writer.threaded

    def _ensure_run(self, db: sqlite3.Connection) -> int:
        """This process's row in `runs`, made the first time a call is written."""
        with self._run_lock:
            if self._run_id is None:
                self._run_id = open_run(db, self._me)
            return self._run_id

    # -- writing ---------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Have the writer write everything queued so far, and wait until it
        has (at most `timeout` seconds; None: until written). The error of a
        write that failed meanwhile is raised; the rows stay queued and are
        tried again. Another writer's lock is not an error: the flush waits it
        out (database.contended), trying again itself after the writer's backoff
        when there is no writer thread (a bulk simulation's). Returns whether
        everything was written (False: `timeout` passed first)."""
        with self._cv:
            writer = self._writer
            if writer is None:
                return True
            target = writer.taken + (1 if self._q.waiting else 0)
            if writer.written >= target and writer.inflight is None:
                return True
            failures = writer.failures
            deadline = None if timeout is None else time.monotonic() + timeout
            if not writer.threaded:
                writer.pump(math.inf if deadline is None else deadline)
                if writer.failures > failures and writer.error is not None:
                    if contended(writer.error):
                        return False  # still locked when the timeout passed
                    raise writer.error
                return True
            writer.want()
            while writer.written < target:
                if writer.dead is not None:
                    raise StoreError(f"{self.path}: the writer stopped: {writer.dead!r}")
                if writer.failures > failures and writer.failed_take >= target \
                        and writer.error is not None and not contended(writer.error):
                    raise writer.error
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cv.wait(left)
            return True

    def _sync(self, *, memory_too: bool = True) -> None:
        """Before a read: wait for the writer as `wait_s` says. A read that
        sees the file only (`query`) waits up to `wait_s` while the writer is
        writing well; while writes fail (the file locked) it reads the file
        as it is. Reads that also see the calls in memory need not wait."""
        if self.wait_s is None:
            self.flush()
            return
        writer = self._writer
        if memory_too or self.wait_s <= 0 or writer is None or writer.error is not None:
            return
        try:
            self.flush(self.wait_s)
        except (sqlite3.Error, StoreError):
            pass  # the read sees the file as it is; last_error says why

    @property
    def last_error(self) -> str | None:
        """Why the writer's last write failed, while it has not written since."""
        writer = self._writer
        error = writer.error if writer is not None else None
        return None if error is None else f"{type(error).__name__}: {error}"

    @property
    def dropped(self) -> dict[str, int]:
        """Rows dropped while the backlog was full, by kind (events, centre_events)."""
        with self._lock:
            return dict(self._q.dropped)

    @property
    def backlog(self) -> int:
        """Rows queued or being written (events and centre events)."""
        with self._lock:
            return self._q.backlog()

    def record_centre_event(self, source: str, kind: str, data: Mapping[str, Any],
                            at: datetime, call_id: str | None = None) -> None:
        """Keep an event of the centre rather than of one flow's run (an AMI
        event: a member paused, a device ringing, a caller leaving a queue).
        Queued like call events; the first to go when the backlog is full."""
        with self._lock:
            if self._q.full(BACKLOG_ROWS // 2, "centre_events"):
                return
            self._q.centre.append((utc_text(at), _ms(at), source, kind,
                                 call_id, dumps(dict(data))))
            self._queued()

    def set_wrapup(self, call_id: str, values: Mapping[str, Any], wrapup_ms: int | None = None,
                   agent: str | None = None) -> None:
        """Store what `agent` (None: the agent asked last) entered after the call (and how long
        the wrap-up took, for handling time). KeyError for a call the store has not."""
        if self.call(call_id) is None:
            raise KeyError(call_id)
        with self._lock:
            self._q.wrapups.append((call_id, to_json(dict(values)), wrapup_ms, agent))
            self._queued()
            self._cv.notify_all()
        self._sync()

    # -- call ids --------------------------------------------------------

    def reserve_call_id(self, prefix: str = "sim-", at: datetime | None = None) -> str:
        """The next `PREFIX N` free in the file, its row inserted at once (stamped `at`,
        a simulated clock's, else now) so no other process takes it; deleted at close
        if its call never started."""
        with self._read_lock:
            db = self._reader()
            run_id = self._ensure_run(db)
            db.execute(f"PRAGMA busy_timeout={RESERVE_BUSY_MS}")
            try:
                with self._transaction():
                    call_id = store_ids.reserve_row(db, prefix, at or datetime.now(UTC), run_id)
            finally:
                db.execute("PRAGMA busy_timeout=5000")
        with self._lock:
            self._reserved.add(call_id)
        return call_id

    def claim_call_id(self, base: str) -> str:
        """The id of a new call of Asterisk Uniqueid `base`: `base` itself,
        or `base~N` when the store already has calls of it (a channel that
        runs AGI again). Never waits for a lock: the calls this store
        started are in memory, and the file is read without waiting; the
        writer gives a call whose id the file turns out to have the next free one."""
        with self._lock:
            known = self._claims.known(base)
        if known is None:
            known = self._calls_on_disk(base)
        with self._lock:
            return self._claims.claim(base, known)

    def latest_call_id(self, base: str) -> str:
        """The id of the latest call this store claimed for a Uniqueid (the
        Uniqueid itself when none): where an AMI event of that channel goes."""
        with self._lock:
            return self._claims.latest(base)

    def _calls_on_disk(self, base: str) -> int:
        """The calls of a Uniqueid in the file, read on a connection of its
        own that never waits for a lock (a WAL reader needs none)."""
        try:
            with self._probe_lock:
                if self._probe is None:
                    self._probe = connect(self.path, busy_ms=0)
                return calls_of(self._probe, base)
        except sqlite3.Error:
            return 0  # not known now: the writer checks the file when it inserts the row

    # -- runs ------------------------------------------------------------

    def reconcile(self, *, wait: bool = True) -> list[str] | None:
        """Close as `interrupted` the calls of runs that are over (store_runs.reconcile), by
        the writer: the closed ids once done within `wait_s`; None when still to be done,
        or `wait` False (ccf serve's periodic one): the log says what it closed."""
        job = Job(lambda db: reconcile_runs(db, self._me, self._run_id, RECONCILE_BATCH),
                  then=lambda ids: len(ids or ()) < RECONCILE_BATCH or self.reconcile(wait=False))
        with self._lock:
            self._q.jobs.append(job)
            self._queued()
            self._cv.notify_all()
        if not wait:
            return None
        try:
            self._sync()
        except (sqlite3.Error, StoreError) as exc:
            log.warning("call store %s: calls left open not reconciled yet: %s", self.path, exc)
        return job.result if job.done.is_set() else None

    def close(self) -> None:
        """Finish calls still open (outcome `error`), write everything (trying for
        CLOSE_WAIT_S), close the file. StoreError when rows could not be written."""
        with self._lock:
            if self._db is None:
                return
            for call_id, call in list(self._calls.items()):
                row = call.row
                now_ms = _ms(datetime.now().astimezone())
                close_node(call, now_ms)
                row["outcome"] = row["outcome"] or "error"
                row["error"] = row["error"] or "the call had not ended when the store closed"
                call.settle_ringing("caller_gone")
                recordings_done(call, now_ms)
                self._finish(call_id, call)
            unused, self._reserved = sorted(self._reserved), set()
            if unused:  # the centre stopped between reserving an id and starting its call
                self._q.jobs.append(Job(lambda db: store_ids.forget_reservations(db, unused)))
            if self._run_id is not None or self._q.waiting:
                self._q.jobs.append(Job(self._end_run))
                self._queued()
            writer = self._writer
        lost: str | None = None
        if writer is not None:
            deadline = time.monotonic() + CLOSE_WAIT_S
            while True:
                try:
                    if self.flush(max(0.0, deadline - time.monotonic())):
                        break
                except (sqlite3.Error, StoreError):
                    if time.monotonic() < deadline and writer.dead is None:
                        continue
                with self._lock:
                    lost = (f"{self._q.backlog()} row(s) not written ({self.last_error}); "
                            f"the calls open or finished since the last write are lost")
                break
            with self._lock:
                if lost is None:
                    writer.stop()
                else:
                    writer.abandon()
            writer.join(CLOSE_WAIT_S)
        with self._read_lock, self._probe_lock:
            for db in (self._db, self._probe):
                if db is not None:
                    db.close()
            self._db = self._probe = None
        if lost is not None:
            log.error("call store %s: %s", self.path, lost)
            raise StoreError(f"{self.path}: {lost}")

    def _end_run(self, db: sqlite3.Connection) -> None:
        if self._run_id is not None:
            end_run(db, self._run_id)

    def __enter__(self) -> CallStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------

    def _stored_id(self, call_id: str) -> str:
        writer = self._writer
        return writer.renamed.get(call_id, call_id) if writer is not None else call_id

    def _in_memory(self, call_id: str) -> tuple[CallRecord | None, list[list]]:
        """The record of a call open or not yet written, and its events not
        yet written, each as its values but call_id (self._lock held)."""
        record = self._calls.get(call_id)
        batches = self._inflight()
        events = [e for b in batches for r in b.events if r[0] == call_id
                  for e in json.loads(r[2])]
        events += [json.loads(e) for e in queued_events(self._q.events, call_id)]
        if record is None:
            for finished in itertools.chain(self._q.finished,
                                            *(b.records for b in reversed(batches))):
                if finished.row["call_id"] == call_id:
                    record = finished
                    break
        return record, events

    def last_agent(self, phone: str, since: datetime | None = None) -> str | None:
        """The agent who last talked to this caller (CallHistory)."""
        self._sync()
        return store_history.last_agent(self._unwritten_rows(phone), self._read_file, phone,
                                        _ms(since) if since is not None else None)

    def recent_calls(self, caller: str, exclude: str, limit: int) -> list[dict[str, Any]]:
        """A caller's last calls but `exclude`, newest first, written or not
        (a screen pop's; store_history.recent_calls)."""
        self._sync()
        return store_history.recent_calls(self._unwritten_rows(caller), self._read_file, caller,
                                          exclude, limit)

    def _unwritten_rows(self, caller: str) -> list[dict[str, Any]]:
        """The caller's rows (only theirs copied: every `last agent` and pop reads
        them) of calls not in the file yet or not as now: open, queued, being written."""
        with self._lock:
            return [dict(call.row) for call in itertools.chain(
                self._calls.values(), self._q.finished,
                *(b.records for b in self._inflight())) if call.row["caller"] == caller]

    def _inflight(self) -> list[Batch]:
        """The batch the writer holds (being written, or failed and waiting), if any."""
        writer = self._writer
        return [writer.inflight] if writer is not None and writer.inflight is not None else []

    def _read_file(self, sql: str, args: tuple | list) -> list[sqlite3.Row]:
        with self._read_lock:
            return self._reader().execute(sql, args).fetchall()

    def call(self, call_id: str) -> dict[str, Any] | None:
        """A call record as a dict (its wrap-ups: store_wrapups.of_call), or None."""
        self._sync()
        with self._lock:
            record, _ = self._in_memory(call_id)
            memory, asked = (dict(record.row), list(record.wrapups)) if record else (None, [])
        with self._read_lock:
            row = self._reader().execute("SELECT * FROM calls WHERE call_id=?",
                                         (self._stored_id(call_id),)).fetchone()
        if row is None and memory is None:
            return None
        out = dict(row) if row is not None else {"run_id": None}
        if memory is not None:  # more recent than the file
            out.update({k: v for k, v in memory.items()
                        if k != "previous_call" or out.get(k) is None})
            out["call_id"] = row["call_id"] if row is not None else call_id
        out.update(store_wrapups.of_call(self._read_file, out["call_id"], asked))
        return out

    def events(self, call_id: str) -> list[dict[str, Any]]:
        """A call's events in order, data decoded."""
        self._sync()
        with self._lock:
            _, queued = self._in_memory(call_id)
        with self._read_lock:
            rows = self._reader().execute("SELECT * FROM events WHERE call_id=? ORDER BY seq",
                                          (self._stored_id(call_id),)).fetchall()
        by_seq = {r["seq"]: dict(r, data=json.loads(r["data"])) for r in rows}
        for values in queued:
            if values[0] not in by_seq:
                by_seq[values[0]] = dict(zip(EVENT_COLUMNS, (call_id, *values), strict=True))
        return [by_seq[seq] for seq in sorted(by_seq)]

    def query(self, sql: str, args: tuple | Mapping = ()) -> list[dict[str, Any]]:
        """Run a read-only report query (docs/store.md has examples)."""
        self._sync(memory_too=False)
        with self._read_lock:
            return [dict(r) for r in self._reader().execute(sql, args).fetchall()]

