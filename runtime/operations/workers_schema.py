"""The tables N `ccf serve` workers share through the call store: deployed flows, workers, signals.

Only SQL text (SQLite's dialect; dialect.py says it to PostgreSQL): must not touch a connection.
"""

from __future__ import annotations

# schema 11: the flow store in the database (docs/workers.md "Flows"), the workers that serve
# from it, and the ccf-answered signals one worker leaves for the worker running the call
WORKERS_SCHEMA: tuple[str, ...] = (
    # one row per deployed version, never changed once written
    "CREATE TABLE IF NOT EXISTS flow_versions ("
    " version TEXT PRIMARY KEY,"  # 0001, 0002: as the folder store names them
    " created TEXT NOT NULL,"
    " manifest TEXT NOT NULL,"  # JSON: what `ccf flows` lists
    " bundle TEXT NOT NULL,"  # JSON: each flow's IR by name
    " attached TEXT NOT NULL)",  # JSON: the text files kept with it (its dialplan)
    # the one row naming the version new calls start on (version NULL: nothing deployed);
    # serial moves on every change, so a worker sees a rollback to a version it once had
    "CREATE TABLE IF NOT EXISTS flow_pointer ("
    " name TEXT PRIMARY KEY,"  # always 'current'
    " version TEXT,"
    " serial INTEGER NOT NULL,"
    " changed TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS workers ("
    " worker TEXT PRIMARY KEY,"  # host pid start: one process, never reused
    " host TEXT NOT NULL, pid INTEGER NOT NULL,"
    " started TEXT NOT NULL,"
    " address TEXT,"  # its FastAGI host:port
    " api TEXT,"  # its HTTP API host:port (NULL: none)
    " heartbeat_ms INTEGER NOT NULL,"  # its last beat; up while recent
    " calls_running INTEGER NOT NULL DEFAULT 0,"
    " served INTEGER NOT NULL DEFAULT 0,"
    " version TEXT,"  # the flow version new calls start on there
    " state TEXT NOT NULL,"  # serving|stopping|stopped
    " stopped TEXT)",
    "CREATE TABLE IF NOT EXISTS answered_signals ("
    " call_id TEXT NOT NULL, at_ms INTEGER NOT NULL,"
    " agent TEXT, channel TEXT, at TEXT NOT NULL,"
    " sender TEXT,"  # the worker whose FastAGI took the agent's Gosub
    " taken_by TEXT,"  # the worker that fired the call's hook (NULL: waiting)
    " done_ms INTEGER,"  # when the hook had run (the sender's Gosub returns then)
    " PRIMARY KEY (call_id, at_ms, channel))",
    "CREATE INDEX IF NOT EXISTS answered_signals_waiting ON answered_signals (taken_by, at_ms)",
)

WORKER_TABLES = ("flow_versions", "flow_pointer", "workers", "answered_signals")
