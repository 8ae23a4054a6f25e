"""The call store's schema: its tables, migrations from older versions, the statements of a flush.

Only SQL text and column names: must not touch a connection or know about events.
"""

from __future__ import annotations

from ccdsl.runtime.operations.removed_files import CRM_TOLD_SCHEMA, REMOVED_FILES_SCHEMA
from ccdsl.runtime.operations.rollup import BACKFILL, ROLLUP_SCHEMA, SCHEMA_11_ROLLUPS
from ccdsl.runtime.operations.workers_schema import WORKERS_SCHEMA

SCHEMA_VERSION = 13

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
# schema 7: one row per in-queue call-back a call booked (its `callback_requested`
# event), written with the call's visits; ccf serve's dialler moves it on
# (runtime/operations/callback_rows.py; docs/store.md "queue_callbacks")
CALLBACKS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS queue_callbacks ("
    " call_id TEXT NOT NULL, seq INTEGER NOT NULL,"  # the call and its event: the request
    " queue TEXT, number TEXT, priority INTEGER,"
    " joined TEXT, joined_ms INTEGER,"  # the caller's place in line
    " waited_ms INTEGER, customer TEXT, reason TEXT,"
    " requested TEXT NOT NULL, requested_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL,"  # pending|dialling|done|failed|given_up
    " attempts INTEGER NOT NULL DEFAULT 0,"  # the customer's line dialled so often
    " next_attempt_ms INTEGER,"  # not before (NULL: now)
    " outcome TEXT,"  # the last attempt's: answered|no_answer|busy|failed|interrupted|...
    " reason_text TEXT,"  # why, in words
    " agent TEXT,"  # who took it (the last agent rung)
    " callback_id TEXT,"  # the call-back's own call (Asterisk's Uniqueid of the agent's leg)
    " owner TEXT,"  # while dialling: the process that dials it (host pid start)
    " updated_ms INTEGER, ended_ms INTEGER,"  # ended: done, failed or given up
    " PRIMARY KEY (call_id, seq))",
    "CREATE INDEX IF NOT EXISTS queue_callbacks_status ON queue_callbacks "
    "(status, next_attempt_ms)",
)
# schema 13: one wrap-up per call and agent asked for one (every agent whose talk on the call
# ended), the only place a wrap-up is kept: the form asked for is written as the call's row is,
# the values by the save (store_wrapups.py), which takes them only while the row has none
WRAPUPS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS wrapups ("
    " call_id TEXT NOT NULL, agent TEXT NOT NULL,"  # agent '': not known (a save with none)
    " seq INTEGER,"  # of the wrapup_requested event: the order agents were asked in
    " asked_ms INTEGER,"  # NULL: stored before schema 13, or saved before it was asked
    " fields TEXT,"  # JSON: the names of the form's fields
    " entered TEXT,"  # JSON: the values the agent saved; NULL until saved
    " PRIMARY KEY (call_id, agent))",
    # the forms waiting to be filled in (store_wrapups.waiting): few, whatever the calls
    "CREATE INDEX IF NOT EXISTS wrapups_unsaved ON wrapups (agent, call_id) WHERE entered IS NULL",
)
# the one wrap-up a call kept before schema 13, as its agent's (run only where there is one:
# store_migrate.needed)
CARRY_WRAPUPS = ("INSERT INTO wrapups (call_id, agent, fields, entered) "
                 "SELECT call_id, coalesce(json_extract(wrapup, '$.agent'), agent, ''), "
                 "json_extract(wrapup, '$.fields'), json_extract(wrapup, '$.values') "
                 "FROM calls WHERE wrapup IS NOT NULL")
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
    started           TEXT,     -- ISO 8601 in UTC (before schema 5: in the clock's zone)
    started_ms        INTEGER,  -- UTC epoch ms, for ranges and order
    answered          TEXT,
    ended             TEXT,
    ended_ms          INTEGER,
    duration_ms       INTEGER,
    outcome           TEXT,     -- hangup|transfer|voicemail|error|abandoned|handed_back|
                                -- interrupted (NULL: in progress)
    ended_by          TEXT,     -- caller|flow|agent|transfer|handed_back
    queue             TEXT,     -- the last queue joined
    wait_ms           INTEGER,  -- time spent in queues, all of them
    agent             TEXT,     -- the last agent who answered
    talk_ms           INTEGER,
    talked_to_agent   INTEGER NOT NULL DEFAULT 0,
    recording         TEXT,
    voicemail_mailbox TEXT,
    voicemail_file    TEXT,
    error             TEXT,
    previous_call     TEXT,     -- schema 6: the earlier call of the same Asterisk Uniqueid
    run_id            INTEGER   -- schema 6: the run (runs) that wrote the call
);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_ms);
CREATE INDEX IF NOT EXISTS calls_caller ON calls (caller, started_ms);
CREATE INDEX IF NOT EXISTS calls_agent ON calls (agent, started_ms);
CREATE INDEX IF NOT EXISTS calls_customer ON calls (customer_id, started_ms);
CREATE INDEX IF NOT EXISTS calls_flow ON calls (flow, started_ms);
-- only the calls in progress: what a starting server reconciles
CREATE INDEX IF NOT EXISTS calls_open ON calls (run_id) WHERE outcome IS NULL;
-- schema 10: a call's events in one row per write that had any of them (a bulk
-- simulation's: one row a call), each event a JSON array of EVENT_COLUMNS but call_id;
-- seq is the first event's. The view `events` shows one row per event.
CREATE TABLE IF NOT EXISTS event_batches (
    call_id  TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    events   TEXT NOT NULL,  -- JSON: [[seq, at, at_ms, kind, step, file, line, col, data], ...]
    PRIMARY KEY (call_id, seq)
);
CREATE VIEW IF NOT EXISTS events AS
SELECT b.call_id AS call_id, json_extract(e.value, '$[0]') AS seq,
       json_extract(e.value, '$[1]') AS at, json_extract(e.value, '$[2]') AS at_ms,
       json_extract(e.value, '$[3]') AS kind, json_extract(e.value, '$[4]') AS step,
       json_extract(e.value, '$[5]') AS file, json_extract(e.value, '$[6]') AS line,
       json_extract(e.value, '$[7]') AS col, json_extract(e.value, '$[8]') AS data
FROM event_batches b, json_each(b.events) e;
-- schema 10: the menu choices by time (docs/store.md's query), one b-tree
CREATE TABLE IF NOT EXISTS menu_choices (
    at_ms   INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,  -- of the menu_choice event
    at      TEXT NOT NULL,
    step    TEXT,              -- the menu's step
    choice  TEXT,              -- the key (or timeout, invalid ...)
    PRIMARY KEY (at_ms, call_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS node_visits (
    call_id     TEXT NOT NULL,
    seq         INTEGER NOT NULL,  -- of the step_entered / handler_entered event
    node        TEXT NOT NULL,     -- step name, or `on start`, `on hangup`, ...
    node_kind   TEXT NOT NULL,     -- step|handler|queue (the wait in a queue)
    entered     TEXT NOT NULL,
    entered_ms  INTEGER NOT NULL,
    duration_ms INTEGER,
    choice      TEXT,              -- the last menu choice made in the visit (a queue's: its key)
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
    outcome    TEXT,               -- answered|timeout|empty|full|hangup|handed_back
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
    outcome    TEXT NOT NULL,      -- answered|missed|caller_gone|handed_back
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
CREATE TABLE IF NOT EXISTS runs (
    run_id        INTEGER PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    process_start TEXT,     -- the OS's start mark of the process, to tell a reused pid
    command       TEXT,     -- `ccf serve`, `ccf simulate`...
    started       TEXT NOT NULL,
    started_ms    INTEGER NOT NULL,
    ended         TEXT,     -- NULL while it runs, or after a crash until reconciled
    ended_ms      INTEGER,
    end_note      TEXT      -- NULL: closed its store; else who found it dead, and when
);
""" + "".join(f"{statement};\n" for statement in (*RECORDINGS_SCHEMA, *CALLBACKS_SCHEMA,
                                                   *ROLLUP_SCHEMA, *REMOVED_FILES_SCHEMA,
                                                   *WORKERS_SCHEMA, *WRAPUPS_SCHEMA))

# What opening a file of an older schema version changes, by the version it
# had; SCHEMA then adds whatever is missing. Version 1 had an index
# events_step on events (step, kind) that no report query uses
# (docs/store.md) and that cost every event row an index insert.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # version 13 keeps each agent's wrap-up of a call (wrapups) instead of the one calls.wrapup
    # held: that one is carried over as its agent's, and the column goes
    12: (*WRAPUPS_SCHEMA, CARRY_WRAPUPS, "ALTER TABLE calls DROP COLUMN wrapup"),
    # version 12 notes when the CRM was told of each removed file (removed_files.py): the files
    # removed before it are not, so the next prune tells an HTTP CRM of them
    11: CRM_TOLD_SCHEMA,
    # version 11 notes the recording and voicemail files retention removed (removed_files.py),
    # and shares flows, workers and ccf-answered signals between workers (workers_schema.py);
    # it keeps the agent offers and node visits per quarter hour too, and the node visits per
    # queue (rollup.py)
    10: (*REMOVED_FILES_SCHEMA, *WORKERS_SCHEMA, *SCHEMA_11_ROLLUPS),
    # version 10 keeps a call's events in one row per write (event_batches, read
    # through the view `events`) and the menu choices in a table of their own:
    # one row a call instead of some 25, each with its key's index insert
    9: ("CREATE TABLE IF NOT EXISTS event_batches (call_id TEXT NOT NULL, "
        "seq INTEGER NOT NULL, events TEXT NOT NULL, PRIMARY KEY (call_id, seq))",
        "INSERT INTO event_batches (call_id, seq, events) "
        "SELECT call_id, min(seq), json_group_array(json_array(seq, at, at_ms, kind, step, "
        "file, line, col, json(data))) "
        "FROM (SELECT * FROM events ORDER BY call_id, seq) GROUP BY call_id",
        "CREATE TABLE IF NOT EXISTS menu_choices (at_ms INTEGER NOT NULL, "
        "call_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, step TEXT, "
        "choice TEXT, PRIMARY KEY (at_ms, call_id, seq)) WITHOUT ROWID",
        "INSERT OR IGNORE INTO menu_choices (at_ms, call_id, seq, at, step, choice) "
        "SELECT at_ms, call_id, seq, at, step, json_extract(data, '$.key') "
        "FROM events WHERE kind = 'menu_choice'",
        "DROP TABLE events"),
    # version 9 drops events_kind (kind, at_ms), which cost every event row, some 25
    # a call, an index insert: of the queries by kind over time only the menu
    # choices' (docs/store.md) remains, and SCHEMA's partial index serves it
    8: ("DROP INDEX IF EXISTS events_kind",),
    # version 8 added the rollups the reports read (runtime/operations/rollup.py), filled
    # from every call the store has
    7: (*ROLLUP_SCHEMA, *BACKFILL),
    1: ("DROP INDEX IF EXISTS events_step",),
    # version 6 links a repeated Asterisk Uniqueid's call to the earlier one
    # and names the run that wrote each call (SCHEMA adds the runs table and
    # the index of open calls); the calls of older files have no run
    5: ("ALTER TABLE calls ADD COLUMN previous_call TEXT",
        "ALTER TABLE calls ADD COLUMN run_id INTEGER"),
    2: (),  # version 3 added centre_events, which SCHEMA creates
    # version 5 writes every time in UTC and keeps the centre's zone in meta
    # (`timezone`); older rows keep their local text, which has its offset
    4: (),
    # version 7 added queue_callbacks: filled from the calls' callback_requested
    # events, each still to be dialled (a store of a server that had no dialler)
    6: (*CALLBACKS_SCHEMA,
        "INSERT OR IGNORE INTO queue_callbacks (call_id, seq, queue, number, priority, joined, "
        "joined_ms, waited_ms, customer, reason, requested, requested_ms, status) "
        "SELECT call_id, seq, json_extract(data, '$.queue'), json_extract(data, '$.number'), "
        "json_extract(data, '$.priority'), json_extract(data, '$.joined_at'), "
        "at_ms - coalesce(json_extract(data, '$.waited_ms'), 0), "
        "json_extract(data, '$.waited_ms'), json_extract(data, '$.customer'), "
        "json_extract(data, '$.reason'), at, at_ms, 'pending' "
        "FROM events WHERE kind = 'callback_requested'"),
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

CALL_COLUMNS = ("call_id", "flow", "flow_version", "caller", "dialled", "customer_id",
                 "started", "started_ms", "answered", "ended", "ended_ms", "duration_ms",
                 "outcome", "ended_by", "queue", "wait_ms", "agent", "talk_ms",
                 "talked_to_agent", "recording", "voicemail_mailbox", "voicemail_file",
                 "error", "previous_call")
# what a later write of a call's row sets: the writer alone sets the link to
# an earlier call, when it first inserts the row
UPDATE_COLUMNS = tuple(c for c in CALL_COLUMNS if c not in ("call_id", "previous_call"))
NODE_COLUMNS = ("call_id", "seq", "node", "node_kind", "entered", "entered_ms", "duration_ms",
                 "choice", "dropped")
QUEUE_COLUMNS = ("call_id", "seq", "queue", "priority", "position", "joined", "joined_ms",
                  "wait_ms", "outcome", "agent", "talk_ms")
LEG_COLUMNS = ("call_id", "seq", "agent", "via", "queue", "offered", "offered_ms", "outcome",
                "ring_ms", "talk_ms", "ended_by", "wrapup_ms")
RECORDING_COLUMNS = ("call_id", "file", "started", "started_ms", "duration_ms", "caller",
                      "agent", "customer_id", "flow")
# what folding a callback_requested event writes; the dialler sets the rest
CALLBACK_COLUMNS = ("call_id", "seq", "queue", "number", "priority", "joined", "joined_ms",
                     "waited_ms", "customer", "reason", "requested", "requested_ms", "status")


CENTRE_SQL = ("INSERT INTO centre_events (at, at_ms, source, kind, call_id, data) "
               "VALUES (?, ?, ?, ?, ?, ?)")


def _insert(table: str, columns: tuple[str, ...], tail: str = "") -> str:
    # a plain INSERT: a row of call data is written once and never replaced;
    # a key met twice is an error the writer resolves, not a silent overwrite
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}){tail}")


# the statements of a write, made once; a new call's row ends with its run_id
NEW_CALL_SQL = _insert("calls", (*CALL_COLUMNS, "run_id"))
UPDATE_CALL_SQL = ("UPDATE calls SET " + ", ".join(f"{c} = ?" for c in UPDATE_COLUMNS)
                   + " WHERE call_id = ?")
# the forms asked for (store_record's `wrapups`), written as the call's row is: a row there
# already keeps its values (saved first, on another worker) and what it says of the asking
WRAPUP_COLUMNS = ("call_id", "agent", "seq", "asked_ms", "fields")
ASKED_SQL = _insert("wrapups", WRAPUP_COLUMNS, " ON CONFLICT (call_id, agent) DO UPDATE SET "
                    + ", ".join(f"{c} = coalesce(wrapups.{c}, excluded.{c})"
                                for c in WRAPUP_COLUMNS[2:]))
# the view `events`' columns; an event_batches row holds all but call_id for each event
EVENT_COLUMNS = ("call_id", "seq", "at", "at_ms", "kind", "step", "file", "line", "col", "data")
EVENT_SQL = _insert("event_batches", ("call_id", "seq", "events"))
CHOICE_SQL = _insert("menu_choices", ("at_ms", "call_id", "seq", "at", "step", "choice"))
VISIT_SQL = (("node_visits", NODE_COLUMNS, _insert("node_visits", NODE_COLUMNS)),
              ("queue_visits", QUEUE_COLUMNS, _insert("queue_visits", QUEUE_COLUMNS)),
              ("agent_legs", LEG_COLUMNS, _insert("agent_legs", LEG_COLUMNS)),
              ("recordings", RECORDING_COLUMNS, _insert("recordings", RECORDING_COLUMNS)),
              ("queue_callbacks", CALLBACK_COLUMNS,
               _insert("queue_callbacks", CALLBACK_COLUMNS)))
# the same, keeping a row already there (a write retried row by row after a
# conflict nothing should cause, and reconciling a crashed run's calls)
KEEPING = " ON CONFLICT DO NOTHING"
SET_VERSION_SQL = ("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


# PostgreSQL's `events` view: the same columns from the same JSON text. The json type (not
# jsonb) keeps each element's text as written, so `data` reads back byte for byte.
PG_EVENTS_VIEW = (
    "CREATE VIEW events AS "
    "SELECT b.call_id AS call_id, (e.value->>0)::bigint AS seq, e.value->>1 AS at, "
    "(e.value->>2)::bigint AS at_ms, e.value->>3 AS kind, e.value->>4 AS step, "
    "e.value->>5 AS file, (e.value->>6)::bigint AS line, (e.value->>7)::bigint AS col, "
    "(e.value->8)::text AS data "
    "FROM event_batches b, json_array_elements(b.events::json) WITH ORDINALITY AS e(value, n)")


def statements(script: str) -> list[str]:
    """The schema's statements one by one: `executescript` would commit the
    open transaction, and creating the schema must be all or nothing."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def pg_statements() -> list[str]:
    """SCHEMA for PostgreSQL: the same statements (the connection translates their types),
    the `events` view said in PostgreSQL's JSON functions."""
    out = []
    for statement in statements(SCHEMA):
        if statement.startswith("CREATE VIEW IF NOT EXISTS events "):
            # made again each time: a row is never replaced in a store module (not even a view)
            out += ["DROP VIEW IF EXISTS events", PG_EVENTS_VIEW]
        else:
            out.append(statement)
    return out

