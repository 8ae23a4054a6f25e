"""The call store: every call's events and its call record in one SQLite file (docs/store.md).

Must not import the simulator or Asterisk. `CallStore` is an `EventSink` and a
`CallHistory`; docs/store.md says what is written when and why writes are batched.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations.centre_time import report_zone, utc_text
from ccdsl.runtime.operations.store_record import (
    ENTERING,
    FOLDS,
    MOVED_ON,
    VISITS,
    CallRecord,
    close_node,
    dumps,
    recordings_done,
    row_values,
)
from ccdsl.runtime.operations.store_schema import (
    CALL_COLUMNS,
    CALL_SQL,
    CENTRE_SQL,
    EVENT_SQL,
    MIGRATIONS,
    NEW_CALL_SQL,
    SCHEMA,
    SCHEMA_VERSION,
    VISIT_SQL,
    statements,
)

FLUSH_EVENTS = 1000
FLUSH_SECONDS = 1.0
# What bulk simulations (many simulated calls in one process, `make bench`)
# pass as `calls_per_commit`: a crash loses at most this many finished
# calls of a simulation, which can simply be run again. Live calls keep the
# default of 1: a finished call is on disk when its `call_ended` is emitted.
SIMULATION_CALLS_PER_COMMIT = 500
# With several calls per commit the event bound grows with them (about 25
# events a simulated call), or it would cut every batch short: a commit's
# cost is mostly pages written, and calls share index pages.
EVENTS_PER_CALL = 50


class StoreError(Exception):
    """The file is not a call store this version can use."""


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class CallStore:
    """Events and call records on a SQLite file, created on first open."""

    def __init__(self, path: str | Path, *, calls_per_commit: int = 1,
                 timezone: str | None = None) -> None:
        """`timezone`: the centre's zone (IANA name), kept in meta when the
        store has none yet, for reports and listings; times are stored in UTC."""
        self.path = str(path)
        self.calls_per_commit = max(1, calls_per_commit)
        self.flush_events = max(FLUSH_EVENTS, EVENTS_PER_CALL * self.calls_per_commit)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._calls: dict[str, CallRecord] = {}
        self._new_calls: list[dict[str, Any]] = []
        self._events: list[tuple] = []
        self._finished: list[CallRecord] = []
        self._centre: list[tuple] = []  # centre_events rows not yet written
        self._last_flush = time.monotonic()
        self._stamp_of: datetime | None = None  # the last event time converted, and its forms
        self._stamp: tuple[str, int] = ("", 0)
        self.last_error: str | None = None  # why the last flush from emit failed
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()
        if timezone:
            with self._transaction():
                self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES "
                                 "('timezone', ?)", (timezone,))

    # -- schema ----------------------------------------------------------

    def _migrate(self) -> None:
        with self._transaction():
            has_meta = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
            if has_meta:
                row = self._db.execute(
                    "SELECT value FROM meta WHERE key='schema_version'").fetchone()
                found = int(row[0]) if row else None
                if found is not None and found > SCHEMA_VERSION:
                    raise StoreError(f"{self.path}: call store schema version {found} is newer "
                                     f"than this ccdsl understands ({SCHEMA_VERSION})")
                if found == SCHEMA_VERSION:
                    return
                for version in range(found or SCHEMA_VERSION, SCHEMA_VERSION):
                    for statement in MIGRATIONS.get(version, ()):
                        self._db.execute(statement)
            for statement in statements(SCHEMA):
                self._db.execute(statement)
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                             "('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)",
                             (datetime.now(UTC).isoformat(timespec="seconds"),))

    def zone(self) -> tzinfo:
        """The zone listings show times in: the centre's (meta `timezone`),
        else this machine's."""
        with self._lock:
            return report_zone(self._db, None)

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- EventSink -------------------------------------------------------

    def emit(self, event: Event) -> None:
        with self._lock:
            call_id, kind, at, data = event.call_id, event.kind, event.at, event.data
            # events of one moment share their times: convert each instant once
            if at is not self._stamp_of:
                self._stamp_of, self._stamp = at, (utc_text(at), _ms(at))
            iso, ms = self._stamp
            call = self._calls.get(call_id)
            if call is None:
                call = self._start(call_id, iso, ms)
            # an event belongs to the node the call was in; entering one belongs to it
            current = call.node
            if call.ringing and kind in MOVED_ON:
                call.settle_ringing(
                    "missed", keep=data.get("agent") if kind == "agent_answered" else None)
            fold = FOLDS.get(kind)
            if fold is not None:
                fold(call, event.seq, data, iso, ms)
                if kind in ENTERING:
                    current = call.node
            loc = event.loc
            if loc:
                file, line, col = loc.get("file"), loc.get("line"), loc.get("column")
            else:
                file = line = col = None
            events = self._events
            text = dumps(data)
            events.append((call_id, event.seq, iso, ms, kind,
                           current["node"] if current else None, file, line, col, text))
            if kind == "call_ended":
                self._finish(call)
            if (len(self._finished) >= self.calls_per_commit
                    or len(events) >= self.flush_events
                    or time.monotonic() - self._last_flush >= FLUSH_SECONDS):
                self._flush_quietly()

    def _flush_quietly(self) -> None:
        """Flush from `emit`: a store that cannot write (a locked or full
        disk) must not break the call. The rows stay buffered and the next
        flush tries again; `last_error` says what went wrong."""
        try:
            self.flush()
        except sqlite3.Error as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"

    def _start(self, call_id: str, iso: str, ms: int) -> CallRecord:
        """A call's first event (call_started, or whatever came first), at
        `iso` / `ms`."""
        row = dict.fromkeys(CALL_COLUMNS)
        row["call_id"] = call_id
        row["started"], row["started_ms"] = iso, ms
        row["talked_to_agent"] = 0
        call = CallRecord(row)
        self._calls[call_id] = call
        self._new_calls.append(row)
        return call

    def _finish(self, call: CallRecord) -> None:
        del self._calls[call.row["call_id"]]
        self._finished.append(call)

    # -- writing ---------------------------------------------------------

    def flush(self) -> None:
        """Write everything buffered, in one transaction: one statement per
        table for all the rows buffered (executemany), made once."""
        with self._lock:
            if not (self._new_calls or self._events or self._finished or self._centre):
                self._last_flush = time.monotonic()
                return
            finished = self._finished
            # a call that started and ended since the last flush is written
            # once, finished (not inserted, then replaced)
            done = {call.row["call_id"] for call in finished}
            with self._transaction():
                self._db.executemany(NEW_CALL_SQL, [row_values(r, CALL_COLUMNS)
                                                     for r in self._new_calls
                                                     if r["call_id"] not in done])
                self._db.executemany(EVENT_SQL, self._events)
                if finished:
                    self._db.executemany(CALL_SQL, [row_values(call.row, CALL_COLUMNS)
                                                     for call in finished])
                    for table, columns, sql in VISIT_SQL:
                        rows = [row_values(r, columns) for call in finished
                                for r in getattr(call, VISITS[table])]
                        if rows:
                            self._db.executemany(sql, rows)
                if self._centre:
                    self._db.executemany(CENTRE_SQL, self._centre)
            # cleared only once written: a failed write keeps them for the next try
            self._new_calls, self._events, self._finished = [], [], []
            self._centre = []
            self.last_error = None
            self._last_flush = time.monotonic()

    def flush_due(self) -> None:
        """Write what has waited FLUSH_SECONDS or more, for a server's timer:
        without it the last events of a quiet centre (a call's final
        Hangup) wait for the next event, unseen by reports."""
        with self._lock:
            due = ((self._new_calls or self._events or self._finished or self._centre)
                   and time.monotonic() - self._last_flush >= FLUSH_SECONDS)
        if due:
            self._flush_quietly()

    def record_centre_event(self, source: str, kind: str, data: Mapping[str, Any],
                            at: datetime, call_id: str | None = None) -> None:
        """Keep an event of the centre rather than of one flow's run (an AMI
        event: a member paused, a device ringing, a caller leaving a queue).
        Buffered like call events; written with the next flush, at the
        latest FLUSH_SECONDS later when events keep coming."""
        with self._lock:
            self._centre.append((utc_text(at), _ms(at), source, kind,
                                 call_id, dumps(dict(data))))
            if (len(self._centre) >= self.flush_events
                    or time.monotonic() - self._last_flush >= FLUSH_SECONDS):
                self._flush_quietly()

    def set_wrapup(self, call_id: str, values: Mapping[str, Any],
                   wrapup_ms: int | None = None) -> None:
        """Store what the agent entered after the call (and how long the
        wrap-up took, for handling time)."""
        self.flush()
        with self._lock, self._transaction():
            row = self._db.execute("SELECT wrapup, agent FROM calls WHERE call_id=?",
                                   (call_id,)).fetchone()
            if row is None:
                raise KeyError(call_id)
            wrapup = json.loads(row["wrapup"]) if row["wrapup"] else {
                "agent": row["agent"], "fields": None}
            wrapup["values"] = to_json(dict(values))
            self._db.execute("UPDATE calls SET wrapup=? WHERE call_id=?",
                             (json.dumps(wrapup, ensure_ascii=False), call_id))
            if wrapup_ms is not None:
                self._db.execute(
                    "UPDATE agent_legs SET wrapup_ms=? WHERE rowid = (SELECT rowid FROM "
                    "agent_legs WHERE call_id=? AND outcome='answered' ORDER BY seq DESC "
                    "LIMIT 1)", (wrapup_ms, call_id))

    def close(self) -> None:
        """Finish calls still open (they get outcome `error`), write
        everything, close the file."""
        with self._lock:
            if self._db is None:
                return
            for call in list(self._calls.values()):
                row = call.row
                now_ms = _ms(datetime.now().astimezone())
                close_node(call, now_ms)
                row["outcome"] = row["outcome"] or "error"
                row["error"] = row["error"] or "the call had not ended when the store closed"
                call.settle_ringing("caller_gone")
                recordings_done(call, now_ms)
                self._finish(call)
            self.flush()
            self._db.close()
            self._db = None

    def __enter__(self) -> CallStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------

    def last_agent(self, phone: str, since: datetime | None = None) -> str | None:
        """The agent who last talked to this caller (CallHistory)."""
        self.flush()
        sql = ("SELECT agent FROM calls WHERE caller=? AND talked_to_agent=1 "
               "AND agent IS NOT NULL")
        args: list[Any] = [phone]
        if since is not None:
            sql += " AND started_ms >= ?"
            args.append(_ms(since))
        row = self._db.execute(sql + " ORDER BY started_ms DESC, call_id DESC LIMIT 1",
                               args).fetchone()
        return row["agent"] if row else None

    def call(self, call_id: str) -> dict[str, Any] | None:
        """A call record as a dict (wrapup decoded), or None."""
        self.flush()
        row = self._db.execute("SELECT * FROM calls WHERE call_id=?", (call_id,)).fetchone()
        if row is None:
            return None
        record = dict(row)
        record["wrapup"] = json.loads(record["wrapup"]) if record["wrapup"] else None
        return record

    def events(self, call_id: str) -> list[dict[str, Any]]:
        """A call's events in order, data decoded."""
        self.flush()
        rows = self._db.execute("SELECT * FROM events WHERE call_id=? ORDER BY seq",
                                (call_id,)).fetchall()
        return [dict(r, data=json.loads(r["data"])) for r in rows]

    def query(self, sql: str, args: tuple | Mapping = ()) -> list[dict[str, Any]]:
        """Run a read-only report query (docs/store.md has examples)."""
        self.flush()
        return [dict(r) for r in self._db.execute(sql, args).fetchall()]
