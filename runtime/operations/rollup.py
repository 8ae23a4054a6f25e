"""The call store's rollups: per UTC quarter hour or day and flow, the additive figures of the
calls, queue visits, agent offers and node visits of the calls that ended (docs/reports.md
"Rollups"), kept in the transaction that writes a call's end, and rebuilt from the rows.

SQL text, and the statements that keep the rollups inside the caller's transaction; must not
fold events, commit, or know a report's sections.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ccdsl import json_text

QUARTER_MS = 900_000
DAY_MS = 86_400_000
# the grains, coarsest first: whole UTC days, and whole UTC quarter hours, the unit every
# zone's hours and days begin on (Asia/Kolkata at :30, Asia/Kathmandu at :45)
GRAINS = {"d": DAY_MS, "q": QUARTER_MS}
# a key that is NULL in the rows (a visit without a queue, a call without a flow): a text no
# name starts with; a name that does start with it is kept with one more in front
NONE = "\x01"
# the service-level thresholds counted ahead, in seconds: a report asking for another reads
# the queue visits themselves (docs/reports.md "Rollups")
WITHIN_S = (5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300)

# a call contained in the IVR: it ended in the flow (outcome hangup) without joining a queue or
# ringing an agent (docs/reports.md "summary")
CONTAINED = ("t.outcome = 'hangup' "
             "AND NOT EXISTS (SELECT 1 FROM queue_visits q WHERE q.call_id = t.call_id) "
             "AND NOT EXISTS (SELECT 1 FROM agent_legs a WHERE a.call_id = t.call_id)")
ENDED = "t.outcome IS NOT NULL AND t.outcome != 'interrupted'"
ANSWERED_HANDLING = ("CASE WHEN t.outcome = 'answered' THEN coalesce(t.talk_ms, 0) "
                     "+ coalesce(t.wrapup_ms, 0) END")
# the node a visit came from: the last step or handler entered before it in the call (a wait
# in a queue happens inside a step: the step is still where the call goes on from)
PREVIOUS = ("(SELECT p.node FROM node_visits p WHERE p.call_id = t.call_id AND p.seq < t.seq "
            "AND p.node_kind != 'queue' ORDER BY p.seq DESC LIMIT 1)")


def _of_call(table: str, expr: str, how: str) -> str:
    """Per call row t: `how` (sum, count) of `expr` over its rows of `table` (aliased t too)."""
    inner = expr.replace("t.", "x.")
    return f"(SELECT {how}({inner}) FROM {table} x WHERE x.call_id = t.call_id)"


@dataclass(frozen=True)
class Figure:
    name: str
    how: str  # its aggregate over rows t of the rollup's table: sum, count or max
    of: str  # what it aggregates: an expression over a row t, or *
    combine: str = "sum"  # how two partial figures make one: sum or max
    # `of` holds subqueries: when calls are added, worked out once a row, not once a grain
    per_row: bool = False

    @property
    def raw(self) -> str:
        """Its aggregate over the rows t, as SQL."""
        return f"{self.how}({self.of})"


@dataclass(frozen=True)
class Rollup:
    table: str  # the rollup's
    rows: str  # the table of rows it adds up
    ms: str  # their time, UTC epoch ms
    keys: tuple[tuple[str, str], ...]  # (column, expression over t) besides grain, bucket, flow
    figures: tuple[Figure, ...]
    grains: tuple[str, ...]
    join: str = ""  # another table the keys read (alias v), joined to the rows t
    joined: str = ""  # the visit table `join` reads: a row adds up only with a row there

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)

    @property
    def visits(self) -> tuple[str, ...]:
        """The visit tables a call needs rows in for this rollup to add it up (none for
        the calls' own rollup: every call is a row of calls)."""
        own = () if self.rows == "calls" else (self.rows,)
        return (*own, self.joined) if self.joined else own


_ANSWERED_WAIT = "CASE WHEN t.outcome = 'answered' THEN t.wait_ms END"
CALLS = Rollup("rollup_calls", "calls", "started_ms", (), (
    Figure("calls", "count", "*"),
    Figure("answered", "sum", "t.talked_to_agent"),
    Figure("abandoned", "sum", "t.outcome = 'abandoned'"),
    Figure("voicemail", "sum", "t.outcome = 'voicemail'"),
    # a call handed back to the dialplan at shutdown went on in the dialplan like a
    # transferred one: never a drop or an abandon (docs/reports.md)
    Figure("transferred", "sum", "t.outcome IN ('transfer', 'handed_back')"),
    Figure("in_progress", "sum", "t.outcome IS NULL"),
    Figure("interrupted", "sum", "t.outcome = 'interrupted'"),
    Figure("duration_sum", "sum", "t.duration_ms"),
    Figure("duration_n", "count", "t.duration_ms"),
    Figure("wait_sum", "sum", "t.wait_ms"),
    Figure("wait_n", "count", "t.wait_ms"),
    Figure("contained", "sum", CONTAINED, per_row=True),
    Figure("ended", "sum", ENDED),
    # the speed of answer and the handling time of these calls: over their answered queue
    # visits and their offers, wherever those fall in time
    Figure("asa_sum", "sum", _of_call("queue_visits", _ANSWERED_WAIT, "sum"), per_row=True),
    Figure("asa_n", "sum", _of_call("queue_visits", _ANSWERED_WAIT, "count"), per_row=True),
    Figure("aht_sum", "sum", _of_call("agent_legs", ANSWERED_HANDLING, "sum"), per_row=True),
    Figure("aht_n", "sum", _of_call("agent_legs", ANSWERED_HANDLING, "count"), per_row=True),
), ("d", "q"))

QUEUES = Rollup("rollup_queues", "queue_visits", "joined_ms", (("queue", "t.queue"),), (
    Figure("offered", "count", "*"),
    Figure("answered", "sum", "t.outcome = 'answered'"),
    Figure("hangup", "sum", "t.outcome = 'hangup'"),
    Figure("timeout", "sum", "t.outcome = 'timeout'"),
    Figure("no_agents", "sum", "t.outcome IN ('empty', 'full')"),
    *(Figure(f"within_{s}", "sum", f"t.outcome = 'answered' AND t.wait_ms <= {s * 1000}")
      for s in WITHIN_S),
    Figure("wait_sum", "sum", "t.wait_ms"),
    Figure("wait_n", "count", "t.wait_ms"),
    Figure("wait_max", "max", "t.wait_ms", "max"),
    Figure("answer_sum", "sum", _ANSWERED_WAIT),
    Figure("answer_n", "count", _ANSWERED_WAIT),
    Figure("talk_sum", "sum", "CASE WHEN t.outcome = 'answered' THEN t.talk_ms END"),
    Figure("talk_n", "count", "CASE WHEN t.outcome = 'answered' THEN t.talk_ms END"),
), ("d", "q"))

_ANSWERED_LEG = "t.outcome = 'answered'"
LEGS = Rollup("rollup_legs", "agent_legs", "offered_ms", (("agent", "t.agent"),
                                                          ("queue", "t.queue")), (
    Figure("offered", "count", "*"),
    Figure("answered", "sum", _ANSWERED_LEG),
    Figure("missed", "sum", "t.outcome = 'missed'"),
    Figure("caller_gone", "sum", "t.outcome = 'caller_gone'"),
    Figure("talk", "sum",
           f"CASE WHEN {_ANSWERED_LEG} THEN coalesce(t.talk_ms, 0) ELSE 0 END"),
    Figure("wrapup", "sum",
           f"CASE WHEN {_ANSWERED_LEG} THEN coalesce(t.wrapup_ms, 0) ELSE 0 END"),
    Figure("handling_sum", "sum", ANSWERED_HANDLING),
    Figure("handling_n", "count", ANSWERED_HANDLING),
    Figure("ring_sum", "sum", f"CASE WHEN {_ANSWERED_LEG} THEN t.ring_ms END"),
    Figure("ring_n", "count", f"CASE WHEN {_ANSWERED_LEG} THEN t.ring_ms END"),
), ("d", "q"))

NODES = Rollup("rollup_nodes", "node_visits", "entered_ms", (
    ("node", "t.node"), ("kind", "t.node_kind"), ("previous", PREVIOUS), ("choice", "t.choice")), (
    Figure("visits", "count", "*"),
    Figure("chosen", "sum", "t.choice IS NOT NULL"),
    Figure("total", "sum", "coalesce(t.duration_ms, 0)"),
    Figure("duration_sum", "sum", "t.duration_ms"),
    Figure("duration_n", "count", "t.duration_ms"),
    Figure("dropped", "sum", "t.dropped"),
), ("d", "q"))

# the node visits again under each queue their call joined (once however often it joined):
# what a report with --queue reads for its node, choice and flow sections, which keep a call
# by any of its queue visits (docs/reports.md "Rollups")
NODES_BY_QUEUE = Rollup("rollup_nodes_queues", "node_visits", "entered_ms", (
    ("queue", "v.queue"), *NODES.keys), NODES.figures, ("d", "q"), (
    "JOIN queue_visits v ON v.call_id = t.call_id AND v.queue IS NOT NULL AND v.seq = "
    "(SELECT min(w.seq) FROM queue_visits w WHERE w.call_id = t.call_id AND w.queue = v.queue)"),
    "queue_visits")

ROLLUPS = (CALLS, QUEUES, LEGS, NODES, NODES_BY_QUEUE)


def _key_columns(rollup: Rollup) -> tuple[str, ...]:
    return ("grain", "bucket", "flow", *(name for name, _ in rollup.keys))


def _schema(rollup: Rollup) -> str:
    keys = ", ".join(f"{name} TEXT NOT NULL" for name, _ in rollup.keys)
    figures = ", ".join(f"{f.name} INTEGER" for f in rollup.figures)
    return (f"CREATE TABLE IF NOT EXISTS {rollup.table} (grain TEXT NOT NULL, "
            f"bucket INTEGER NOT NULL, flow TEXT NOT NULL, {keys + ', ' if keys else ''}"
            f"{figures}, PRIMARY KEY ({', '.join(_key_columns(rollup))})) WITHOUT ROWID")


# schema 8: the rollups, filled from the calls there are when a store is migrated
ROLLUP_SCHEMA = tuple(_schema(r) for r in ROLLUPS)


def encode(expr: str) -> str:
    """SQL for a key's stored text: NULL as NONE, a name beginning with NONE one NONE longer."""
    return (f"CASE WHEN {expr} IS NULL THEN '{NONE}' WHEN substr({expr}, 1, 1) = '{NONE}' "
            f"THEN '{NONE}' || {expr} ELSE {expr} END")


def decode(column: str) -> str:
    """SQL for a stored key as the rows have it (NULL for NONE)."""
    return (f"CASE WHEN {column} = '{NONE}' THEN NULL WHEN substr({column}, 1, 1) = '{NONE}' "
            f"THEN substr({column}, 2) ELSE {column} END")


def bucket_sql(ms: str, unit: int) -> str:
    """The start of the bucket of `unit` ms holding the UTC ms `ms` (floored, before 1970 too)."""
    return f"({ms} - (({ms} % {unit}) + {unit}) % {unit})"


def _combine(table: str, figure: Figure) -> str:
    """An upsert's SET of one figure: the partial figures made one, NULL where both are."""
    old, new = f"{table}.{figure.name}", f"excluded.{figure.name}"
    if figure.combine == "max":
        return f"{figure.name} = CASE WHEN {old} IS NULL OR {new} > {old} THEN {new} ELSE {old} END"
    return f"{figure.name} = coalesce({old} + {new}, {old}, {new})"


def _inner(rollup: Rollup, moment: str, after: tuple[str, ...] = ()) -> str:
    """The columns of the rows a rollup adds up: the row's own, its moment (`moment`), its
    call's flow, its keys, then `after`."""
    own = rollup.rows == "calls"
    return ", ".join(("t.*", moment, f"{'t' if own else 'c'}.flow AS flow_",
                      *(f"{expr} AS {name}_" for name, expr in rollup.keys), *after))


def _upsert(rollup: Rollup, grain: str, figures: list[str], rows: str,
            grouped: tuple[str, ...] = ()) -> str:
    """INSERT the `figures` of `rows` (each with bucket_, flow_ and the keys), grouped, into
    the rollup at `grain` (a literal or a column), adding to the rows already there."""
    keys = [name for name, _ in rollup.keys]
    columns = _key_columns(rollup) + tuple(f.name for f in rollup.figures)
    select = ", ".join((grain, "bucket_", encode("flow_"), *(encode(f"{k}_") for k in keys),
                        *figures))
    group = ", ".join((*grouped, "bucket_", "flow_", *(f"{k}_" for k in keys)))
    sets = ", ".join(_combine(rollup.table, f) for f in rollup.figures)
    return (f"INSERT INTO {rollup.table} ({', '.join(columns)}) SELECT {select} "
            f"FROM {rows} t WHERE true GROUP BY {group} "
            f"ON CONFLICT ({', '.join(_key_columns(rollup))}) DO UPDATE SET {sets}")


def _add_sql(rollup: Rollup, grain: str, which: str) -> str:
    """Add to the rollup, at `grain`, the rows of the calls `which` keeps (a condition on the
    rows t and their call c): the calls that ended, and rows whose call has no row at all."""
    inner = _inner(rollup, f"{bucket_sql('t.' + rollup.ms, GRAINS[grain])} AS bucket_")
    source = (f"calls t WHERE t.outcome IS NOT NULL AND ({which})" if rollup.rows == "calls"
              else f"{rollup.rows} t {rollup.join} LEFT JOIN calls c ON c.call_id = t.call_id "
              f"WHERE (c.outcome IS NOT NULL OR c.call_id IS NULL) AND ({which})")
    return _upsert(rollup, f"'{grain}'", [f.raw for f in rollup.figures],
                   f"(SELECT {inner} FROM {source})")


# the calls named by a JSON array of ids, each once (SQLite's json_each; the one
# store-specific part)
_IDS = "json_each(:ids) i"


def _add_named_sql(rollup: Rollup) -> str:
    """_add_sql of the calls named by :ids (a JSON array, each id once) at every grain in one
    statement: their rows, with their keys and the per-row figures' expressions worked out,
    read once into a materialized CTE, then grouped once per grain."""
    per_row = [f for f in rollup.figures if f.per_row]
    inner = _inner(rollup, f"t.{rollup.ms} AS ms_",
                   tuple(f"{f.of} AS row{n}_" for n, f in enumerate(per_row)))
    # the named calls joined, not looked up by IN: IN's list would be a temporary table
    source = (f"{_IDS} JOIN calls t ON t.call_id = i.value WHERE t.outcome IS NOT NULL"
              if rollup.rows == "calls" else
              f"{_IDS} JOIN {rollup.rows} t ON t.call_id = i.value {rollup.join} "
              "LEFT JOIN calls c ON c.call_id = t.call_id "
              "WHERE (c.outcome IS NOT NULL OR c.call_id IS NULL)")
    figures = [f"{f.how}(t.row{per_row.index(f)}_)" if f.per_row else f.raw
               for f in rollup.figures]
    units = " UNION ALL ".join(f"SELECT '{g}' AS grain_, {GRAINS[g]} AS unit_"
                               for g in rollup.grains)
    rows = (f"(SELECT r.*, g.grain_, {bucket_sql('r.ms_', 'g.unit_')} AS bucket_ "
            f"FROM rows_ r CROSS JOIN ({units}) g)")
    return (f"WITH rows_ AS MATERIALIZED (SELECT {inner} FROM {source}) "
            + _upsert(rollup, "grain_", figures, rows, ("grain_",)))


def _in_range(rollup: Rollup) -> str:
    return f"t.{rollup.ms} >= :lo AND t.{rollup.ms} < :hi"


# made once: every statement of adding calls, and of filling a range
ADD_CALLS = tuple(_add_named_sql(r) for r in ROLLUPS)
# the calls ADD_CALLS adds at a time: its CTE's rows grow costlier to read past some hundreds
# of calls (a bulk simulation's write has 500)
ADD_AT_ONCE = 50
FILL = tuple((r, g, _add_sql(r, g, _in_range(r))) for r in ROLLUPS for g in r.grains)
# schema 8 from 7: every call there is added up, into rollups emptied first (a file whose
# version was set back by hand may have some already)
BACKFILL = (*(f"DELETE FROM {r.table}" for r in ROLLUPS),
            *(_add_sql(r, g, "true") for r in ROLLUPS for g in r.grains))
# schema 11 from 10: the agent offers and node visits per quarter hour too (schema 8 kept
# them per day only), so a day in any zone reads them from the rollups alone, and the node
# visits per queue; emptied first, as a store coming from before 8 has them from BACKFILL
SCHEMA_11_ROLLUPS = (_schema(NODES_BY_QUEUE),
                     *(f"DELETE FROM {r.table} WHERE grain = 'q'" for r in (LEGS, NODES)),
                     f"DELETE FROM {NODES_BY_QUEUE.table}",
                     *(_add_sql(r, "q", "true") for r in (LEGS, NODES)),
                     *(_add_sql(NODES_BY_QUEUE, g, "true") for g in NODES_BY_QUEUE.grains))


def calls_ended(db: sqlite3.Connection, call_ids: list[str],
                written: frozenset[str] | None = None) -> None:
    """Add the calls that just ended (their rows written in this transaction) to the
    rollups. A call without an outcome is left to the reports' reading of the rows.
    `written`: the tables of visits this transaction wrote rows to (the writer knows: a
    call's visits are written with its end); a rollup over any other would add nothing
    and is not asked. None: every rollup is asked."""
    if not call_ids:
        return
    named = list(dict.fromkeys(call_ids))  # each once: the statements join them
    # a statement that finds no rows costs as much as a call's own (a live call's commit)
    statements = ADD_CALLS if written is None else [
        sql for rollup, sql in zip(ROLLUPS, ADD_CALLS, strict=True)
        if all(table in written for table in rollup.visits)]
    for start in range(0, len(named), ADD_AT_ONCE):
        ids = {"ids": json_text.dumps(named[start:start + ADD_AT_ONCE])}
        for sql in statements:
            db.execute(sql, ids)


def rebuild(db: sqlite3.Connection, lo_ms: int, hi_ms: int) -> None:
    """Make the rollups' buckets touching [lo_ms, hi_ms) again from the rows (after a write
    that kept rows already there, whose calls may have been added before)."""
    for rollup, grain, sql in FILL:
        unit = GRAINS[grain]
        lo = lo_ms - lo_ms % unit
        hi = hi_ms + (-hi_ms) % unit
        db.execute(f"DELETE FROM {rollup.table} WHERE grain = ? AND bucket >= ? AND bucket < ?",
                   (grain, lo, hi))
        db.execute(sql, {"lo": lo, "hi": hi})


def rebuild_calls(db: sqlite3.Connection, call_ids: list[str]) -> None:
    """rebuild() over the time of these calls (their start to their end)."""
    if not call_ids:
        return
    lo, hi = db.execute("SELECT min(started_ms), max(coalesce(ended_ms, started_ms)) FROM calls "
                        "WHERE call_id IN (SELECT value FROM json_each(?))",
                        (json_text.dumps(call_ids),)).fetchone()
    if lo is not None:
        rebuild(db, lo, hi + 1)


def wrapup_changed(db: sqlite3.Connection, flow: str | None, started_ms: int,
                   leg: tuple, wrapup_ms: int) -> None:
    """Before a call that ended (one in the rollups), of `flow` and started at `started_ms`,
    has `wrapup_ms` as the wrap-up time of its offer `leg` (store_wrapups.AGENT_LEG's row): move
    the rollups' handling time by the difference."""
    _, offered, agent, queue, before = leg
    delta = wrapup_ms - (before or 0)
    if not delta:
        return
    flow_key = _key(flow)
    for grain, unit in GRAINS.items():
        db.execute("UPDATE rollup_legs SET wrapup = wrapup + ?, handling_sum = handling_sum + ? "
                   "WHERE grain = ? AND bucket = ? AND flow = ? AND agent = ? AND queue = ?",
                   (delta, delta, grain, offered - offered % unit, flow_key, _key(agent),
                    _key(queue)))
        db.execute("UPDATE rollup_calls SET aht_sum = aht_sum + ? WHERE grain = ? "
                   "AND bucket = ? AND flow = ?",
                   (delta, grain, started_ms - started_ms % unit, flow_key))


def _key(value: object) -> str:
    """A key as encode() stores it, in Python."""
    if value is None:
        return NONE
    text = str(value)
    return NONE + text if text.startswith(NONE) else text
