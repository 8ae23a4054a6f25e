"""The call store: every call's events and its call record, in one SQLite
file that the reports (a later issue) read. The schema is documented, with
example report queries, in docs/store.md.

`CallStore` is an `EventSink` (give it to the interpreter, alone or in a
`FanOut` beside the trace printer) and a `CallHistory` (`last_agent`).

What is written when:

- `call_started`: a call row with what is known at the start, so a call
  has a record from its first event even if the process dies later.
- every event: a row in `events`, with the step the call was in.
- `call_ended`: the finished call row, its step visits (`node_visits`),
  queue visits (`queue_visits`) and agent offers (`agent_legs`). The
  interpreter emits `call_ended` on every path (hang-up, error, transfer,
  voicemail), so a call that ends abnormally still gets its full record;
  calls still open when the store closes are finished with outcome
  `error`.

Writes are batched per call: one connection, events buffered in memory
and written in one transaction when a call ends (so a finished call is on
disk when its `call_ended` has been emitted), and besides every
`FLUSH_EVENTS` events or `FLUSH_SECONDS` seconds (so a live view of long
calls stays current). Committing every event would cost one transaction
per event (tens of thousands a second in a busy centre or a simulation),
and one connection is the only writer SQLite allows at a time anyway; a
lock makes `emit` safe from several threads as well as from many
coroutines of one event loop. Reads (`last_agent`, `call`, `events`,
`query`) flush first, so they see every event emitted so far.

What a call costs (examples/iws, ~25 events a call; bench/simulate.py):
about 0.07 ms of Python to fold and encode the events and 0.1 ms of
SQLite to insert the rows (each event row also updates the primary key
and the one events index), plus the commit: in WAL mode with
synchronous=NORMAL it writes the pages the call dirtied, about 0.5 ms for
one call, about 0.025 ms a call when 500 calls share it (calls share
index pages). So bulk simulations, which can simply be
run again after a crash, pass `calls_per_commit=SIMULATION_CALLS_PER_COMMIT`
and lose at most that many finished calls in a crash; live calls keep
the default of 1. Closing the store writes whatever is buffered, a batch
cut short included.
"""

from __future__ import annotations

import json
import json.encoder
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.values import to_json

SCHEMA_VERSION = 4
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

# Kinds after which a still-ringing agent offer counts as missed: the call
# moved on without that agent answering. (_FOLDS, below, folds the kinds
# that feed the record; the others, most events, only become event rows.)
_MOVED_ON = frozenset({"routing_decision", "step_entered", "voicemail",
                       "transfer", "prompt_played", "agent_answered"})
_ENTERING = frozenset({"step_entered", "handler_entered"})
# schema 4: one row per recording of a call, filled when the call ends (the
# migration from 3 makes the table and fills it from the stored events)
RECORDINGS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS recordings ("
    " call_id TEXT NOT NULL, file TEXT NOT NULL,"
    " started TEXT NOT NULL, started_ms INTEGER NOT NULL,"
    " duration_ms INTEGER,"  # until recording_stopped (stop recording, or the call's end)
    " caller TEXT, agent TEXT,"  # agent: who talked to the caller while it recorded
    " customer_id TEXT, flow TEXT,"
    # one b-tree, the key's: each call's recording costs one index insert
    " PRIMARY KEY (call_id, file)) WITHOUT ROWID",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    call_id           TEXT PRIMARY KEY,
    flow              TEXT,
    flow_version      TEXT,
    caller            TEXT,
    dialled           TEXT,
    customer_id       TEXT,
    started           TEXT,     -- ISO 8601 in the clock's zone: substr() gives local day/hour
    started_ms        INTEGER,  -- UTC epoch ms, for ranges and order
    answered          TEXT,
    ended             TEXT,
    ended_ms          INTEGER,
    duration_ms       INTEGER,
    outcome           TEXT,     -- hangup|transfer|voicemail|error|abandoned; NULL: in progress
    ended_by          TEXT,     -- caller|flow|agent|transfer
    queue             TEXT,     -- the last queue joined
    wait_ms           INTEGER,  -- time spent in queues, all of them
    agent             TEXT,     -- the last agent who answered
    talk_ms           INTEGER,
    talked_to_agent   INTEGER NOT NULL DEFAULT 0,
    recording         TEXT,
    voicemail_mailbox TEXT,
    voicemail_file    TEXT,
    wrapup            TEXT,     -- JSON: {"agent", "fields", "values"}
    error             TEXT
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_ms);
CREATE INDEX IF NOT EXISTS calls_caller ON calls (caller, started_ms);
CREATE INDEX IF NOT EXISTS calls_agent ON calls (agent, started_ms);
CREATE INDEX IF NOT EXISTS calls_customer ON calls (customer_id, started_ms);
CREATE INDEX IF NOT EXISTS calls_flow ON calls (flow, started_ms);
CREATE TABLE IF NOT EXISTS events (
    call_id  TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    at       TEXT NOT NULL,
    at_ms    INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    step     TEXT,     -- the step (or `on HANDLER`) the call was in
    file     TEXT,
    line     INTEGER,
    col      INTEGER,
    data     TEXT NOT NULL,  -- JSON
    PRIMARY KEY (call_id, seq)
);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, at_ms);
CREATE TABLE IF NOT EXISTS node_visits (
    call_id     TEXT NOT NULL,
    seq         INTEGER NOT NULL,  -- of the step_entered / handler_entered event
    node        TEXT NOT NULL,     -- step name, or `on start`, `on hangup`, ...
    node_kind   TEXT NOT NULL,     -- step|handler
    entered     TEXT NOT NULL,
    entered_ms  INTEGER NOT NULL,
    duration_ms INTEGER,
    choice      TEXT,              -- the last menu choice made in the visit
    dropped     INTEGER NOT NULL DEFAULT 0,  -- the caller hung up in this visit
    PRIMARY KEY (call_id, seq)
);
CREATE INDEX IF NOT EXISTS node_visits_node ON node_visits (node, entered_ms);
CREATE TABLE IF NOT EXISTS queue_visits (
    call_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,   -- of the queue_joined event
    queue      TEXT,
    priority   INTEGER,
    position   INTEGER,
    joined     TEXT NOT NULL,
    joined_ms  INTEGER NOT NULL,
    wait_ms    INTEGER,
    outcome    TEXT,               -- answered|timeout|empty|full|hangup
    agent      TEXT,
    talk_ms    INTEGER,
    PRIMARY KEY (call_id, seq)
);
CREATE INDEX IF NOT EXISTS queue_visits_queue ON queue_visits (queue, joined_ms);
CREATE TABLE IF NOT EXISTS agent_legs (
    call_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,   -- of the agent_offered event
    agent      TEXT,
    via        TEXT,               -- dial|queue
    queue      TEXT,
    offered    TEXT NOT NULL,
    offered_ms INTEGER NOT NULL,
    outcome    TEXT NOT NULL,      -- answered|missed|caller_gone
    ring_ms    INTEGER,
    talk_ms    INTEGER,
    ended_by   TEXT,
    wrapup_ms  INTEGER,            -- set with the wrap-up form
    PRIMARY KEY (call_id, seq)
);
CREATE INDEX IF NOT EXISTS agent_legs_agent ON agent_legs (agent, offered_ms);
CREATE TABLE IF NOT EXISTS centre_events (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    source    TEXT NOT NULL,   -- ami (Asterisk's manager link), serve (the server itself)
    kind      TEXT NOT NULL,   -- the AMI event name (QueueMemberStatus, ...) or the server's
    call_id   TEXT,            -- the Asterisk Uniqueid / Linkedid the event names, if any
    data      TEXT NOT NULL    -- JSON: the event's headers
);
CREATE INDEX IF NOT EXISTS centre_events_kind ON centre_events (kind, at_ms);
""" + "".join(f"{statement};\n" for statement in RECORDINGS_SCHEMA)

# What opening a file of an older schema version changes, by the version it
# had; SCHEMA then adds whatever is missing. Version 1 had an index
# events_step on events (step, kind) that no report query uses
# (docs/store.md) and that cost every event row an index insert.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: ("DROP INDEX IF EXISTS events_step",),
    2: (),  # version 3 added centre_events, which SCHEMA creates
    # version 4 added recordings: filled from the calls' recording events,
    # each with its recording_stopped (same call and file) for the length
    3: (*RECORDINGS_SCHEMA,
        "INSERT OR IGNORE INTO recordings (call_id, file, started, started_ms, duration_ms, "
        "caller, agent, customer_id, flow) "
        "SELECT e.call_id, json_extract(e.data, '$.file'), e.at, e.at_ms, "
        "(SELECT min(s.at_ms) FROM events s WHERE s.call_id = e.call_id "
        "AND s.kind = 'recording_stopped' AND s.seq > e.seq "
        "AND json_extract(s.data, '$.file') = json_extract(e.data, '$.file')) - e.at_ms, "
        "c.caller, c.agent, c.customer_id, c.flow "
        "FROM events e JOIN calls c ON c.call_id = e.call_id "
        "WHERE e.kind = 'recording_started' AND json_extract(e.data, '$.file') IS NOT NULL",),
}

_CALL_COLUMNS = ("call_id", "flow", "flow_version", "caller", "dialled", "customer_id",
                 "started", "started_ms", "answered", "ended", "ended_ms", "duration_ms",
                 "outcome", "ended_by", "queue", "wait_ms", "agent", "talk_ms",
                 "talked_to_agent", "recording", "voicemail_mailbox", "voicemail_file",
                 "wrapup", "error")
_NODE_COLUMNS = ("call_id", "seq", "node", "node_kind", "entered", "entered_ms", "duration_ms",
                 "choice", "dropped")
_QUEUE_COLUMNS = ("call_id", "seq", "queue", "priority", "position", "joined", "joined_ms",
                  "wait_ms", "outcome", "agent", "talk_ms")
_LEG_COLUMNS = ("call_id", "seq", "agent", "via", "queue", "offered", "offered_ms", "outcome",
                "ring_ms", "talk_ms", "ended_by", "wrapup_ms")
_RECORDING_COLUMNS = ("call_id", "file", "started", "started_ms", "duration_ms", "caller",
                      "agent", "customer_id", "flow")


_CENTRE_SQL = ("INSERT INTO centre_events (at, at_ms, source, kind, call_id, data) "
               "VALUES (?, ?, ?, ?, ?, ?)")


def _insert(table: str, columns: tuple[str, ...], verb: str = "INSERT OR REPLACE") -> str:
    return (f"{verb} INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


# the statements of a flush, made once
_NEW_CALL_SQL = _insert("calls", _CALL_COLUMNS, "INSERT OR IGNORE")
_CALL_SQL = _insert("calls", _CALL_COLUMNS)
_EVENT_SQL = "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_VISIT_SQL = (("node_visits", _NODE_COLUMNS, _insert("node_visits", _NODE_COLUMNS)),
              ("queue_visits", _QUEUE_COLUMNS, _insert("queue_visits", _QUEUE_COLUMNS)),
              ("agent_legs", _LEG_COLUMNS, _insert("agent_legs", _LEG_COLUMNS)),
              ("recordings", _RECORDING_COLUMNS, _insert("recordings", _RECORDING_COLUMNS)))


class StoreError(Exception):
    """The file is not a call store this version can use."""


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _c_encoder() -> Callable[[Any, int], list[str]] | None:
    """The C encoder json itself uses for json.dumps(value,
    ensure_ascii=False, separators=(",", ":"), default=to_json), made once
    and without the circular-reference check (event data is a tree): it
    takes containers and numbers and gives the text in pieces.
    JSONEncoder.encode builds a new one for every value it encodes (a third
    of the cost of an event's data). None where the json module has no C
    speedups."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    return make(None, to_json, json.encoder.encode_basestring, None, ":", ",",
                False, False, True)  # sort_keys, skipkeys, allow_nan: json's defaults


_C_ENCODE = _c_encoder()


def _encoder() -> Callable[[Any], str]:
    """json.dumps(value, ensure_ascii=False, separators=(",", ":"),
    default=to_json), made once: _C_ENCODE, or the plain JSONEncoder where
    there is none."""
    encode = _C_ENCODE
    if encode is None:
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                                check_circular=False, default=to_json).encode

    def dumps(value: Any) -> str:
        if isinstance(value, str):  # the C encoder takes containers and numbers
            return json.encoder.encode_basestring(value)
        return "".join(encode(value, 0))
    return dumps


_ENCODE = _encoder()


def _dumps(value: Any) -> str:
    # Most event data is plain JSON already: encode it directly, with
    # to_json only for the run-time values inside (records, dates,
    # durations), instead of first copying the whole structure through
    # to_json. Keys json cannot take (a tuple) fall back to the full walk.
    if not value and isinstance(value, dict):
        return "{}"
    try:
        return _ENCODE(value)
    except TypeError:
        return _ENCODE(to_json(value))


_NOBODY = object()  # settle_ringing keeps no leg


@dataclass
class _Call:
    """What the store tracks of a call in progress."""

    row: dict[str, Any]
    node: dict[str, Any] | None = None  # the open node visit
    nodes: list[dict[str, Any]] = field(default_factory=list)
    queue: dict[str, Any] | None = None  # the open queue visit
    queues: list[dict[str, Any]] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)
    # the legs still ringing, kept as they change: most events ask for them
    ringing: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)

    def settle_ringing(self, outcome: str, keep: Any = _NOBODY) -> None:
        """Every leg still ringing (but those of agent `keep`) ends with
        `outcome`."""
        still = []
        for leg in self.ringing:
            if leg["agent"] == keep:
                still.append(leg)
            else:
                leg["outcome"] = outcome
        self.ringing = still


# the _Call attribute holding each visit table's rows
_VISITS = {"node_visits": "nodes", "queue_visits": "queues", "agent_legs": "legs",
           "recordings": "recordings"}


class CallStore:
    """Events and call records on a SQLite file, created on first open."""

    def __init__(self, path: str | Path, *, calls_per_commit: int = 1) -> None:
        self.path = str(path)
        self.calls_per_commit = max(1, calls_per_commit)
        self.flush_events = max(FLUSH_EVENTS, EVENTS_PER_CALL * self.calls_per_commit)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._calls: dict[str, _Call] = {}
        self._new_calls: list[dict[str, Any]] = []
        self._events: list[tuple] = []
        self._finished: list[_Call] = []
        self._centre: list[tuple] = []  # centre_events rows not yet written
        self._last_flush = time.monotonic()
        self._stamp_of: datetime | None = None  # the last event time converted, and its forms
        self._stamp: tuple[str, int] = ("", 0)
        self.last_error: str | None = None  # why the last flush from emit failed
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

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
            for statement in _statements(SCHEMA):
                self._db.execute(statement)
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                             "('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created', ?)",
                             (datetime.now().astimezone().isoformat(timespec="seconds"),))

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
                self._stamp_of, self._stamp = at, (at.isoformat(), _ms(at))
            iso, ms = self._stamp
            call = self._calls.get(call_id)
            if call is None:
                call = self._start(call_id, iso, ms)
            # an event belongs to the node the call was in; entering one belongs to it
            current = call.node
            if call.ringing and kind in _MOVED_ON:
                call.settle_ringing(
                    "missed", keep=data.get("agent") if kind == "agent_answered" else None)
            fold = _FOLDS.get(kind)
            if fold is not None:
                fold(call, event.seq, data, iso, ms)
                if kind in _ENTERING:
                    current = call.node
            loc = event.loc
            if loc:
                file, line, col = loc.get("file"), loc.get("line"), loc.get("column")
            else:
                file = line = col = None
            events = self._events
            # _dumps(data), inlined for the dict nearly every event's data is
            if type(data) is dict and _C_ENCODE is not None:
                try:
                    text = "".join(_C_ENCODE(data, 0)) if data else "{}"
                except TypeError:
                    text = _dumps(data)
            else:
                text = _dumps(data)
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

    def _start(self, call_id: str, iso: str, ms: int) -> _Call:
        """A call's first event (call_started, or whatever came first), at
        `iso` / `ms`."""
        row = dict.fromkeys(_CALL_COLUMNS)
        row["call_id"] = call_id
        row["started"], row["started_ms"] = iso, ms
        row["talked_to_agent"] = 0
        call = _Call(row)
        self._calls[call_id] = call
        self._new_calls.append(row)
        return call

    def _finish(self, call: _Call) -> None:
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
                self._db.executemany(_NEW_CALL_SQL, [_values(r, _CALL_COLUMNS)
                                                     for r in self._new_calls
                                                     if r["call_id"] not in done])
                self._db.executemany(_EVENT_SQL, self._events)
                if finished:
                    self._db.executemany(_CALL_SQL, [_values(call.row, _CALL_COLUMNS)
                                                     for call in finished])
                    for table, columns, sql in _VISIT_SQL:
                        rows = [_values(r, columns) for call in finished
                                for r in getattr(call, _VISITS[table])]
                        if rows:
                            self._db.executemany(sql, rows)
                if self._centre:
                    self._db.executemany(_CENTRE_SQL, self._centre)
            # cleared only once written: a failed write keeps them for the next try
            self._new_calls, self._events, self._finished = [], [], []
            self._centre = []
            self.last_error = None
            self._last_flush = time.monotonic()

    def record_centre_event(self, source: str, kind: str, data: Mapping[str, Any],
                            at: datetime, call_id: str | None = None) -> None:
        """Keep an event of the centre rather than of one flow's run (an AMI
        event: a member paused, a device ringing, a caller leaving a queue).
        Buffered like call events; written with the next flush, at the
        latest FLUSH_SECONDS later when events keep coming."""
        with self._lock:
            self._centre.append((at.isoformat(timespec="milliseconds"), _ms(at), source, kind,
                                 call_id, _dumps(dict(data))))
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
                _close_node(call, now_ms)
                row["outcome"] = row["outcome"] or "error"
                row["error"] = row["error"] or "the call had not ended when the store closed"
                call.settle_ringing("caller_gone")
                _recordings_done(call, now_ms)
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


# -- folding events into a call's record -------------------------------------------------
# One function per kind that feeds the record or its visits, each given the
# call, the event's seq and data, and its time as ISO text and epoch ms. A
# table, not a chain of comparisons: most events are of kinds with nothing
# to fold (their ringing legs are settled in `emit`), and a dict look-up
# finds that at once.


def _close_node(call: _Call, ms: int) -> None:
    if call.node is not None:
        call.node["duration_ms"] = ms - call.node["entered_ms"]
        call.node = None


def _fold_started(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row.update(flow=data.get("flow"), flow_version=_text(data.get("flow_version")),
                    caller=data.get("caller"), dialled=data.get("dialled"))


def _fold_step(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    _open_node(call, seq, str(data.get("step")), "step", at, ms)


def _fold_handler(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    handler = data.get("handler")
    if handler == "answered_by_agent":
        # it runs inside the step that rang the agent and ends without an
        # event: the conversation and what follows stay that step's
        return
    _open_node(call, seq, f"on {handler}", "handler", at, ms)


def _open_node(call: _Call, seq: int, name: str, node_kind: str, at: str, ms: int) -> None:
    _close_node(call, ms)
    call.node = {"call_id": call.row["call_id"], "seq": seq, "node": name,
                 "node_kind": node_kind, "entered": at, "entered_ms": ms,
                 "duration_ms": None, "choice": None, "dropped": 0}
    call.nodes.append(call.node)


def _fold_choice(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    if call.node is not None:
        call.node["choice"] = _text(data.get("key"))


def _fold_answered(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["answered"] = call.row["answered"] or at


def _fold_crm(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["customer_id"] = call.row["customer_id"] or _customer_id(data)


def _fold_joined(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row = call.row
    call.queue = {"call_id": row["call_id"], "seq": seq, "queue": data.get("queue"),
                  "priority": data.get("priority"), "position": data.get("position"),
                  "joined": at, "joined_ms": ms,
                  "wait_ms": None, "outcome": None, "agent": None, "talk_ms": None}
    call.queues.append(call.queue)
    row["queue"] = data.get("queue")


def _fold_left(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row = call.row
    wait = _int(data.get("wait_ms"))
    row["wait_ms"] = (row["wait_ms"] or 0) + wait
    if call.queue is not None:
        call.queue.update(wait_ms=wait, outcome=data.get("outcome"))
        if data.get("outcome") != "answered":
            call.queue = None
    call.settle_ringing("caller_gone" if data.get("outcome") == "hangup" else "missed")


def _fold_offered(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    leg = {"call_id": call.row["call_id"], "seq": seq,
           "agent": data.get("agent"), "via": data.get("via"),
           "queue": call.queue["queue"] if call.queue else None,
           "offered": at, "offered_ms": ms,
           "outcome": "ringing", "ring_ms": None, "talk_ms": None,
           "ended_by": None, "wrapup_ms": None}
    call.legs.append(leg)
    call.ringing.append(leg)


def _fold_agent_answered(call: _Call, seq: int, data: Mapping[str, Any], at: str,
                         ms: int) -> None:
    agent = data.get("agent")
    call.row.update(agent=agent, talked_to_agent=1)
    for recording in call.recordings:  # the agent who talks while it records
        if recording["duration_ms"] is None:
            recording["agent"] = agent
    for leg in reversed(call.ringing):
        if leg["agent"] == agent:
            leg.update(outcome="answered", ring_ms=data.get("ring_ms"))
            call.ringing.remove(leg)
            break
    if call.queue is not None:
        call.queue["agent"] = agent


def _fold_conversation(call: _Call, seq: int, data: Mapping[str, Any], at: str,
                       ms: int) -> None:
    row = call.row
    talk = _int(data.get("talk_ms"))
    row["talk_ms"] = (row["talk_ms"] or 0) + talk
    for leg in reversed(call.legs):
        if leg["agent"] == data.get("agent") and leg["outcome"] == "answered":
            leg.update(talk_ms=talk, ended_by=data.get("ended_by"))
            break
    if call.queue is not None:
        call.queue["talk_ms"] = talk
        call.queue = None


def _fold_recording(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row, file = call.row, data.get("file")
    row["recording"] = row["recording"] or file
    if file is None:
        return
    # started during a conversation (`record call` in `on answered by agent`): that agent
    legs = call.legs
    talking = legs and legs[-1]["outcome"] == "answered" and legs[-1]["talk_ms"] is None
    call.recordings.append({"call_id": row["call_id"], "file": _text(file), "started": at,
                            "started_ms": ms, "duration_ms": None,
                            "agent": legs[-1]["agent"] if talking else None})


def _fold_recording_stopped(call: _Call, seq: int, data: Mapping[str, Any], at: str,
                            ms: int) -> None:
    file = _text(data.get("file"))
    for recording in reversed(call.recordings):
        if recording["file"] == file and recording["duration_ms"] is None:
            recording["duration_ms"] = ms - recording["started_ms"]
            break


def _recordings_done(call: _Call, ms: int) -> None:
    """A finished call's recordings get what the call's record knows: the
    caller, the customer (found at any time in the call), the flow; one
    still open when the call ended lasts until then."""
    row = call.row
    for recording in call.recordings:
        recording.update(caller=row["caller"], customer_id=row["customer_id"],
                         flow=row["flow"])
        if recording["duration_ms"] is None:
            recording["duration_ms"] = max(0, ms - recording["started_ms"])


def _fold_voicemail(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    # the record names the message the call left: a later attempt that stored
    # nothing (the caller said nothing) must not erase an earlier message
    if data.get("stored") and data.get("file"):
        call.row.update(voicemail_mailbox=data.get("mailbox"), voicemail_file=data.get("file"))


def _fold_wrapup(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["wrapup"] = _dumps({"agent": data.get("agent"), "fields": data.get("fields"),
                                 "values": None})


def _fold_error(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["error"] = call.row["error"] or _text(data.get("message"))


def _fold_hangup(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    call.row["ended_by"] = call.row["ended_by"] or data.get("by")
    if data.get("by") == "caller":
        if call.node is not None:
            call.node["dropped"] = 1
        call.settle_ringing("caller_gone")


def _fold_ended(call: _Call, seq: int, data: Mapping[str, Any], at: str, ms: int) -> None:
    row = call.row
    _close_node(call, ms)
    row.update(outcome=data.get("outcome"), ended=at, ended_ms=ms)
    duration = data.get("duration_ms")
    row["duration_ms"] = (_int(duration) if duration is not None
                          else row["ended_ms"] - row["started_ms"])
    call.settle_ringing("caller_gone" if row["ended_by"] in (None, "caller") else "missed")
    if call.recordings:
        _recordings_done(call, ms)


_FOLDS: dict[str, Callable[[_Call, int, Mapping[str, Any], str, int], None]] = {
    "call_started": _fold_started,
    "step_entered": _fold_step,
    "handler_entered": _fold_handler,
    "menu_choice": _fold_choice,
    "answered": _fold_answered,
    "crm_query": _fold_crm,
    "queue_joined": _fold_joined,
    "queue_left": _fold_left,
    "agent_offered": _fold_offered,
    "agent_answered": _fold_agent_answered,
    "conversation_ended": _fold_conversation,
    "recording_started": _fold_recording,
    "recording_stopped": _fold_recording_stopped,
    "voicemail": _fold_voicemail,
    "wrapup_requested": _fold_wrapup,
    "error": _fold_error,
    "hangup": _fold_hangup,
    "call_ended": _fold_ended,
}


def _statements(script: str) -> list[str]:
    """The schema's statements one by one: `executescript` would commit the
    open transaction, and creating the schema must be all or nothing."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _int(value: Any) -> int:
    """A number from event data; anything else counts as 0 (the store
    records what it is given and never breaks the call over a field)."""
    if isinstance(value, (int, float)):  # a bool too: it is an int
        return int(value)
    return 0


_SQL_TYPES = frozenset((type(None), int, float, str))


def _values(row: Mapping[str, Any], columns: tuple[str, ...]) -> tuple:
    # _col inlined for the plain values that are nearly all of them
    values = [row[c] for c in columns]
    return tuple([v if type(v) in _SQL_TYPES else _col(v) for v in values])


def _col(value: Any) -> Any:
    """A value SQLite can hold: event data may carry run-time values."""
    if value is None or isinstance(value, (int, float, str)):
        return value
    return _dumps(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(to_json(value))


def _customer_id(data: Mapping[str, Any]) -> str | None:
    """The customer's id from a CRM query that found one (the interpreter
    reports the found record, in its JSON form, as the query's result)."""
    result = data.get("result")
    if not isinstance(result, Mapping) or result.get("id") is None:
        return None
    operation = str(data.get("operation") or "")
    if result.get("kind") == "customer" or "customer" in operation:
        return str(result["id"])
    return None
