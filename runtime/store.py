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

The commit is most of the cost of storing a call (about 1,700 calls a
second with 15 events each, one commit per call; about 4,000 with 10 calls
per commit). Bulk simulations that can lose their last few calls in a
crash may pass `calls_per_commit=N`; live calls keep the default of 1.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.events import Event
from runtime.values import to_json

SCHEMA_VERSION = 1
FLUSH_EVENTS = 1000
FLUSH_SECONDS = 1.0

# Kinds after which a still-ringing agent offer counts as missed: the call
# moved on without that agent answering.
_MOVED_ON = frozenset({"routing_decision", "step_entered", "voicemail",
                       "transfer", "prompt_played", "agent_answered"})

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
CREATE INDEX IF NOT EXISTS events_step ON events (step, kind);
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
"""

_CALL_COLUMNS = ("call_id", "flow", "flow_version", "caller", "dialled", "customer_id",
                 "started", "started_ms", "answered", "ended", "ended_ms", "duration_ms",
                 "outcome", "ended_by", "queue", "wait_ms", "agent", "talk_ms",
                 "talked_to_agent", "recording", "voicemail_mailbox", "voicemail_file",
                 "wrapup", "error")


class StoreError(Exception):
    """The file is not a call store this version can use."""


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _dumps(value: Any) -> str:
    # Most event data is plain JSON already: encode it directly, with
    # to_json only for the run-time values inside (records, dates,
    # durations), instead of first copying the whole structure through
    # to_json. Keys json cannot take (a tuple) fall back to the full walk.
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=to_json)
    except TypeError:
        return json.dumps(to_json(value), ensure_ascii=False, separators=(",", ":"))


@dataclass
class _Call:
    """What the store tracks of a call in progress."""

    row: dict[str, Any]
    node: dict[str, Any] | None = None  # the open node visit
    nodes: list[dict[str, Any]] = field(default_factory=list)
    queue: dict[str, Any] | None = None  # the open queue visit
    queues: list[dict[str, Any]] = field(default_factory=list)
    legs: list[dict[str, Any]] = field(default_factory=list)

    def ringing(self) -> list[dict[str, Any]]:
        return [leg for leg in self.legs if leg["outcome"] == "ringing"]


class CallStore:
    """Events and call records on a SQLite file, created on first open."""

    def __init__(self, path: str | Path, *, calls_per_commit: int = 1) -> None:
        self.path = str(path)
        self.calls_per_commit = max(1, calls_per_commit)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._calls: dict[str, _Call] = {}
        self._new_calls: list[dict[str, Any]] = []
        self._events: list[tuple] = []
        self._finished: list[_Call] = []
        self._last_flush = time.monotonic()
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
            call = self._calls.get(event.call_id)
            if call is None:
                call = self._start(event)
            before = call.node
            self._track(call, event)
            # an event belongs to the node the call was in; entering one belongs to it
            current = call.node if event.kind in ("step_entered", "handler_entered") else before
            node = current["node"] if current else None
            loc = event.loc or {}
            self._events.append((event.call_id, event.seq, event.at.isoformat(), _ms(event.at),
                                 event.kind, node, loc.get("file"), loc.get("line"),
                                 loc.get("column"), _dumps(event.data)))
            if event.kind == "call_ended":
                self._finish(call)
            if (len(self._finished) >= self.calls_per_commit
                    or len(self._events) >= FLUSH_EVENTS
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

    def _start(self, event: Event) -> _Call:
        """A call's first event (call_started, or whatever came first)."""
        row = dict.fromkeys(_CALL_COLUMNS)
        row.update(call_id=event.call_id, started=event.at.isoformat(),
                   started_ms=_ms(event.at), talked_to_agent=0)
        call = _Call(row)
        self._calls[event.call_id] = call
        self._new_calls.append(row)
        return call

    def _track(self, call: _Call, event: Event) -> None:
        """Fold one event into the call's record and visits."""
        row, data, kind = call.row, event.data, event.kind
        if kind in _MOVED_ON:
            answered = data.get("agent") if kind == "agent_answered" else None
            for leg in call.ringing():
                if leg["agent"] != answered:
                    leg["outcome"] = "missed"
        if kind == "call_started":
            row.update(flow=data.get("flow"), flow_version=_text(data.get("flow_version")),
                       caller=data.get("caller"), dialled=data.get("dialled"))
        elif kind in ("step_entered", "handler_entered"):
            self._close_node(call, event.at)
            name = data.get("step") if kind == "step_entered" else f"on {data.get('handler')}"
            call.node = {"call_id": row["call_id"], "seq": event.seq, "node": str(name),
                         "node_kind": "step" if kind == "step_entered" else "handler",
                         "entered": event.at.isoformat(), "entered_ms": _ms(event.at),
                         "duration_ms": None, "choice": None, "dropped": 0}
            call.nodes.append(call.node)
        elif kind == "menu_choice" and call.node is not None:
            call.node["choice"] = _text(data.get("key"))
        elif kind == "answered":
            row["answered"] = row["answered"] or event.at.isoformat()
        elif kind == "crm_query":
            row["customer_id"] = row["customer_id"] or _customer_id(data)
        elif kind == "queue_joined":
            call.queue = {"call_id": row["call_id"], "seq": event.seq, "queue": data.get("queue"),
                          "priority": data.get("priority"), "position": data.get("position"),
                          "joined": event.at.isoformat(), "joined_ms": _ms(event.at),
                          "wait_ms": None, "outcome": None, "agent": None, "talk_ms": None}
            call.queues.append(call.queue)
            row["queue"] = data.get("queue")
        elif kind == "queue_left":
            wait = _int(data.get("wait_ms"))
            row["wait_ms"] = (row["wait_ms"] or 0) + wait
            if call.queue is not None:
                call.queue.update(wait_ms=wait, outcome=data.get("outcome"))
                if data.get("outcome") != "answered":
                    call.queue = None
            for leg in call.ringing():
                leg["outcome"] = "caller_gone" if data.get("outcome") == "hangup" else "missed"
        elif kind == "agent_offered":
            call.legs.append({"call_id": row["call_id"], "seq": event.seq,
                              "agent": data.get("agent"), "via": data.get("via"),
                              "queue": call.queue["queue"] if call.queue else None,
                              "offered": event.at.isoformat(), "offered_ms": _ms(event.at),
                              "outcome": "ringing", "ring_ms": None, "talk_ms": None,
                              "ended_by": None, "wrapup_ms": None})
        elif kind == "agent_answered":
            agent = data.get("agent")
            row.update(agent=agent, talked_to_agent=1)
            for leg in reversed(call.legs):
                if leg["agent"] == agent and leg["outcome"] == "ringing":
                    leg.update(outcome="answered", ring_ms=data.get("ring_ms"))
                    break
            if call.queue is not None:
                call.queue["agent"] = agent
        elif kind == "conversation_ended":
            talk = _int(data.get("talk_ms"))
            row["talk_ms"] = (row["talk_ms"] or 0) + talk
            for leg in reversed(call.legs):
                if leg["agent"] == data.get("agent") and leg["outcome"] == "answered":
                    leg.update(talk_ms=talk, ended_by=data.get("ended_by"))
                    break
            if call.queue is not None:
                call.queue["talk_ms"] = talk
                call.queue = None
        elif kind == "recording_started":
            row["recording"] = row["recording"] or data.get("file")
        elif kind == "voicemail":
            row.update(voicemail_mailbox=data.get("mailbox"), voicemail_file=data.get("file"))
        elif kind == "wrapup_requested":
            row["wrapup"] = _dumps({"agent": data.get("agent"), "fields": data.get("fields"),
                                    "values": None})
        elif kind == "error":
            row["error"] = row["error"] or _text(data.get("message"))
        elif kind == "hangup":
            row["ended_by"] = row["ended_by"] or data.get("by")
            if data.get("by") == "caller":
                if call.node is not None:
                    call.node["dropped"] = 1
                for leg in call.ringing():
                    leg["outcome"] = "caller_gone"
        elif kind == "call_ended":
            self._close_node(call, event.at)
            row.update(outcome=data.get("outcome"), ended=event.at.isoformat(),
                       ended_ms=_ms(event.at))
            duration = data.get("duration_ms")
            row["duration_ms"] = (_int(duration) if duration is not None
                                  else row["ended_ms"] - row["started_ms"])
            gone = "caller_gone" if row["ended_by"] in (None, "caller") else "missed"
            for leg in call.ringing():
                leg["outcome"] = gone

    @staticmethod
    def _close_node(call: _Call, at: datetime) -> None:
        if call.node is not None:
            call.node["duration_ms"] = _ms(at) - call.node["entered_ms"]
            call.node = None

    def _finish(self, call: _Call) -> None:
        del self._calls[call.row["call_id"]]
        self._finished.append(call)

    # -- writing ---------------------------------------------------------

    def flush(self) -> None:
        """Write everything buffered, in one transaction."""
        with self._lock:
            if not (self._new_calls or self._events or self._finished):
                self._last_flush = time.monotonic()
                return
            with self._transaction():
                cols = ", ".join(_CALL_COLUMNS)
                marks = ", ".join("?" * len(_CALL_COLUMNS))
                # a call that started and ended since the last flush is written
                # once, finished, by _write_call (not inserted, then replaced)
                done = {call.row["call_id"] for call in self._finished}
                self._db.executemany(f"INSERT OR IGNORE INTO calls ({cols}) VALUES ({marks})",
                                     [tuple(_col(r[c]) for c in _CALL_COLUMNS)
                                      for r in self._new_calls if r["call_id"] not in done])
                self._db.executemany("INSERT OR REPLACE INTO events VALUES "
                                     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._events)
                for call in self._finished:
                    self._write_call(call)
            # cleared only once written: a failed write keeps them for the next try
            self._new_calls, self._events, self._finished = [], [], []
            self.last_error = None
            self._last_flush = time.monotonic()

    def _write_call(self, call: _Call) -> None:
        cols = ", ".join(_CALL_COLUMNS)
        marks = ", ".join("?" * len(_CALL_COLUMNS))
        self._db.execute(f"INSERT OR REPLACE INTO calls ({cols}) VALUES ({marks})",
                         tuple(_col(call.row[c]) for c in _CALL_COLUMNS))
        for table, rows in (("node_visits", call.nodes), ("queue_visits", call.queues),
                            ("agent_legs", call.legs)):
            if rows:
                names = list(rows[0])
                self._db.executemany(
                    f"INSERT OR REPLACE INTO {table} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' * len(names))})",
                    [tuple(_col(r[n]) for n in names) for r in rows])

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
                self._close_node(call, datetime.now().astimezone())
                row["outcome"] = row["outcome"] or "error"
                row["error"] = row["error"] or "the call had not ended when the store closed"
                for leg in call.ringing():
                    leg["outcome"] = "caller_gone"
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


def _statements(script: str) -> list[str]:
    """The schema's statements one by one: `executescript` would commit the
    open transaction, and creating the schema must be all or nothing."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _int(value: Any) -> int:
    """A number from event data; anything else counts as 0 (the store
    records what it is given and never breaks the call over a field)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return int(value)
    return 0


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
