"""Pruning a call store: the ended calls before a date with their rows, old centre events and
ended runs, in short transactions. Keeps every rollup (the reports' figures); deletes no file.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.moments import parse_moment
from ccdsl.runtime.operations.database import transaction
from ccdsl.runtime.operations.store_migrate import version_of

BATCH = 500  # calls (or centre events) a transaction deletes: a serving writer waits that long
FINISHED_CALLBACKS = ("done", "failed", "given_up")
# every table with rows of one call, the call's own row last
CALL_TABLES = ("event_batches", "menu_choices", "node_visits", "queue_visits", "agent_legs",
               "recordings", "queue_callbacks", "removed_files", "wrapups")
SINCE = {"removed_files": 11, "wrapups": 13}  # the schema version a table came with
# the agent-time report reads agent_state events over any range: they stay
KEPT_CENTRE_KINDS = ("agent_state",)

_FINISHED = ", ".join(repr(s) for s in FINISHED_CALLBACKS)
_KEPT_KINDS = ", ".join(repr(k) for k in KEPT_CENTRE_KINDS)


def _prunable(call: str) -> str:
    """A call (the row `call` names: `calls` or an alias) that ended before the cutoff (one
    ? mark), with no call-back of it still to dial."""
    return (f"{call}.outcome IS NOT NULL AND {call}.ended_ms IS NOT NULL AND {call}.ended_ms < ? "
            f"AND NOT EXISTS (SELECT 1 FROM queue_callbacks q WHERE q.call_id = {call}.call_id "
            f"AND q.status NOT IN ({_FINISHED}))")


def _no_kept_call(table: str, column: str, counting: bool) -> str:
    """No call that stays names the row by `column`. Pruning, the calls are gone by then:
    any call left stays. Counting (a dry run deletes nothing), the prunable calls are still
    there and do not count (one more ? mark, the cutoff)."""
    kept = f" AND NOT ({_prunable('c')})" if counting else ""
    return f"NOT EXISTS (SELECT 1 FROM calls c WHERE c.{column} = {table}.{column}{kept})"


def _old_centre(counting: bool) -> str:
    """A centre event before the cutoff that no kept call names (a voicemail's `callback`s and
    `voicemail_done` go with their call)."""
    return (f"at_ms < ? AND kind NOT IN ({_KEPT_KINDS}) AND (call_id IS NULL OR "
            f"{_no_kept_call('centre_events', 'call_id', counting)})")


def _old_run(counting: bool) -> str:
    """An ended run no kept call names."""
    return f"ended_ms IS NOT NULL AND ended_ms < ? AND {_no_kept_call('runs', 'run_id', counting)}"


# the rows that go after the calls: (table, key, condition); each condition's marks are cutoffs
AFTER_CALLS = (("centre_events", "id", _old_centre), ("runs", "run_id", _old_run))


class PruneError(ValueError):
    """A date that cannot be read, or a database that is not a call store."""


@dataclass(frozen=True)
class Pruned:
    """Rows deleted (or, for a dry run, that would be) per table, in CALL_TABLES' order then
    calls, centre_events, runs; `files_left`: recording and voicemail files of the pruned calls
    still on disk, which no row names any more."""

    counts: tuple[tuple[str, int], ...]
    files_left: int


def cutoff(text: str, zone: tzinfo) -> datetime:
    """The moment `--before` names: a date (midnight in the centre's zone) or a date and time
    (docs/operations.md); PruneError otherwise."""
    stripped = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", stripped):
        try:
            return datetime.fromisoformat(stripped).replace(tzinfo=zone)
        except ValueError as exc:
            raise PruneError(f"{text!r} is not a date: {exc}") from None
    try:
        return parse_moment(stripped, zone)
    except InputError:
        raise PruneError(f"{text!r} is not a date: give one such as 2026-01-01, or a date and "
                         "time such as \"2026-01-01 06:00\" or 2026-01-01T06:00+08:00") from None


def schema_version(db) -> int:
    """The store's schema version; PruneError for a database that is not a call store."""
    try:
        found = version_of(db)
    except sqlite3.Error:
        found = None
    if found is None:
        raise PruneError("it is not a call store (no schema version in its `meta` table)")
    return found


def _tables(db) -> tuple[str, ...]:
    version = schema_version(db)
    return tuple(t for t in CALL_TABLES if version >= SINCE.get(t, 0))


# meta's `pruned_before_ms`: the latest --before a prune took; before it, only the rollups
HORIZON_SQL = ("INSERT INTO meta (key, value) VALUES ('pruned_before_ms', ?) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value "
               "WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)")


def prune(db, before_ms: int, *, dry_run: bool = False, batch: int = BATCH,
          on_batch: Callable[[], None] | None = None) -> Pruned:
    """Delete (or count, `dry_run`) what `ccf store prune --before` removes from the store on
    connection `db` (autocommit; SQLite or PostgreSQL). Each batch is a transaction of its own;
    `on_batch` runs between them (tests)."""
    tables = _tables(db)
    files = _files_left(db, before_ms)
    if dry_run:
        return Pruned(_counted(db, tables, before_ms), files)
    totals = dict.fromkeys((*tables, "calls", "centre_events", "runs"), 0)
    while True:
        ids = [r[0] for r in db.execute(f"SELECT call_id FROM calls WHERE {_prunable('calls')} "
                                        "ORDER BY ended_ms LIMIT ?", (before_ms, batch))]
        if not ids:
            break
        marks = ", ".join("?" * len(ids))
        with transaction(db):
            for table in (*tables, "calls"):
                cursor = db.execute(f"DELETE FROM {table} WHERE call_id IN ({marks})", ids)
                totals[table] += max(cursor.rowcount, 0)
        if on_batch is not None:
            on_batch()
    for table, key, condition in AFTER_CALLS:
        where = condition(False)
        while True:
            with transaction(db):
                cursor = db.execute(f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM "
                                    f"{table} WHERE {where} ORDER BY {key} LIMIT ?)",
                                    (before_ms, batch))
                done = max(cursor.rowcount, 0)
            totals[table] += done
            if done < batch:
                break
    with transaction(db):  # what a report over earlier times must say (reports/pruned.py)
        db.execute(HORIZON_SQL, (str(before_ms),))
    return Pruned(tuple(totals.items()), files)


def _counted(db, tables: tuple[str, ...], before_ms: int) -> tuple[tuple[str, int], ...]:
    chosen = f"SELECT call_id FROM calls WHERE {_prunable('calls')}"
    counts = [(t, _one(db, f"SELECT count(*) FROM {t} WHERE call_id IN ({chosen})", before_ms))
              for t in tables]
    counts.append(("calls", _one(db, f"SELECT count(*) FROM calls WHERE {_prunable('calls')}",
                                 before_ms)))
    # the centre events and runs the calls' deletion would free, as prune() would find them
    counts += [(table, _one(db, f"SELECT count(*) FROM {table} WHERE {condition(True)}",
                            before_ms, before_ms)) for table, _key, condition in AFTER_CALLS]
    return tuple(counts)


def _files_left(db, before_ms: int) -> int:
    """The pruned calls' recording and voicemail files that retention has not removed."""
    version = schema_version(db)
    chosen = f"SELECT call_id FROM calls WHERE {_prunable('calls')}"

    def kept(file: str) -> str:  # the file `file` names is not one retention removed
        return (f"AND NOT EXISTS (SELECT 1 FROM removed_files f WHERE f.call_id = r.call_id AND "
                f"f.file = r.{file})") if version >= 11 else ""

    recordings = _one(db, f"SELECT count(*) FROM recordings r WHERE r.call_id IN ({chosen}) "
                          f"{kept('file')}", before_ms)
    voicemail = _one(db, "SELECT count(*) FROM calls r WHERE r.voicemail_file IS NOT NULL AND "
                         f"r.call_id IN ({chosen}) {kept('voicemail_file')}", before_ms)
    return recordings + voicemail


def _one(db, sql: str, *args) -> int:
    return int(db.execute(sql, args).fetchone()[0] or 0)

