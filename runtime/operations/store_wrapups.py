"""Wrap-ups in the call store: writing a call's values (taken once, decided by the database, so
two workers saving at once store one), and which forms an agent has not filled in yet.

Must not talk to the CRM or the console: wrapup.py and the desk do.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.database import connect, transaction

log = logging.getLogger("ccdsl.store")

# How far back an agent's unsaved forms are looked for (from the call's start): a form is
# filled in the shift of its call, and one left a whole shift is past what the agent recalls
# of the call; `ccf wrapup` and the API still take it.
WINDOW_MS = 12 * 3600 * 1000
CLAIM_WAIT_S = 10.0  # how long a claim waits for another writer's lock (then an error)
ASKED_SQL = ("SELECT call_id FROM calls WHERE agent = ? AND started_ms >= ? "
             "AND wrapup IS NOT NULL AND json_extract(wrapup, '$.agent') = ? "
             "AND json_extract(wrapup, '$.values') IS NULL "
             "ORDER BY started_ms DESC, call_id DESC LIMIT ?")
ALL_ASKED_SQL = ("SELECT agent, call_id FROM calls WHERE started_ms >= ? "
                 "AND wrapup IS NOT NULL AND json_extract(wrapup, '$.agent') = agent "
                 "AND json_extract(wrapup, '$.values') IS NULL ORDER BY started_ms, call_id")


def write(db: sqlite3.Connection, call_id: str, values: Any, wrapup_ms: int | None,
          once: bool = False) -> bool:
    """Store a call's wrap-up values (JSON) in the open write transaction of `db`, with the
    wrap-up time of its last answered leg and the rollups' handling time. `once`: only when
    no values are stored yet, by a conditional UPDATE whose row count says whether these are
    the call's values (another worker's save of the same instant then counts none, on SQLite
    and PostgreSQL alike). Returns whether they were stored."""
    row = db.execute("SELECT wrapup, agent, flow, started_ms, outcome FROM calls "
                     "WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        log.error("call store: the wrap-up of call %s has no call to go to", call_id)
        return False
    wrapup = json.loads(row[0]) if row[0] else {"agent": row[1], "fields": None}
    if once and isinstance(wrapup, dict) and wrapup.get("values") is not None:
        return False
    wrapup = {**wrapup, "values": values} if isinstance(wrapup, dict) else \
        {"agent": row[1], "fields": None, "values": values}
    sql = "UPDATE calls SET wrapup = ? WHERE call_id = ?"
    # as read above: a save that changed the row since is not overwritten
    taken = db.execute(sql + " AND wrapup IS ?" if once else sql,
                       (json_text.dumps(wrapup, ensure_ascii=False), call_id,
                        *((row[0],) if once else ()))).rowcount
    if once and taken != 1:
        return False
    if wrapup_ms is not None:
        leg = db.execute(rollup.LAST_ANSWERED_LEG, (call_id,)).fetchone()
        if leg is None:
            return True
        if row[4] is not None:  # an ended call: its figures are in the rollups
            rollup.wrapup_changed(db, row[2], row[3], leg, wrapup_ms)
        db.execute("UPDATE agent_legs SET wrapup_ms = ? WHERE call_id = ? AND seq = ?",
                   (wrapup_ms, call_id, leg[0]))
    return True


def claim(store, call_id: str, values: Any, wrapup_ms: int | None = None, *,
          wait_s: float = CLAIM_WAIT_S) -> bool:
    """Store a call's wrap-up values unless some are stored already, in one transaction of
    its own (write(once=True)), after the store's writer has written what it holds (the
    call's final row, which would otherwise come after and lose them). Returns whether these
    are the call's values; sqlite3.OperationalError when another writer's lock lasts past
    `wait_s` (nothing stored). Blocks: call it off the event loop."""
    if not store.flush(wait_s):
        raise sqlite3.OperationalError(f"the call store is locked by another writer (waited "
                                       f"{wait_s:g} s)")
    db = connect(store.path, busy_ms=int(wait_s * 1000))
    try:
        with transaction(db):
            return write(db, call_id, to_json(dict(values)), wrapup_ms, once=True)
    finally:
        db.close()


@dataclass(frozen=True)
class Waiting:
    """An agent's forms as the store has them: `unsaved`, oldest first (the newest `limit`
    of the window), and `done`: those of the ids asked about that no longer wait (saved,
    older than the window, or their call ended with no form asked)."""

    unsaved: tuple[str, ...]
    done: frozenset[str]


def waiting(store, agent: str, now_ms: int, known: Sequence[str] = (), *,
            limit: int, window_ms: int = WINDOW_MS) -> Waiting:
    """Which forms wait for `agent` (the calls the agent talked on last whose form was asked
    of the agent and not filled in, started in the window), and which of `known` (the ids a
    desk holds) no longer do. Reads the database every worker shares, so each worker's desk
    shows the same forms; a call the store has not written yet is in neither."""
    since = now_ms - window_ms
    rows = store.query(ASKED_SQL, (agent, since, agent, limit))
    unsaved = tuple(reversed([str(r["call_id"]) for r in rows]))
    rest = [c for c in dict.fromkeys(known) if c not in unsaved]
    done: set[str] = set()
    for start in range(0, len(rest), 500):
        part = rest[start:start + 500]
        for r in store.query("SELECT call_id, started_ms, outcome, wrapup FROM calls WHERE "
                             f"call_id IN ({', '.join('?' * len(part))})", tuple(part)):
            wrapup = _decoded(r["wrapup"])
            if (wrapup.get("values") is not None
                    or (r["started_ms"] is not None and r["started_ms"] < since)
                    or (r["outcome"] is not None and r["wrapup"] is None)):
                done.add(str(r["call_id"]))
    return Waiting(unsaved, frozenset(done))


def waiting_all(store, now_ms: int, *, limit: int,
                window_ms: int = WINDOW_MS) -> dict[str, tuple[str, ...]]:
    """Every agent's unsaved forms (as waiting() finds one agent's), oldest first, the
    newest `limit` of each: what a desk starting over the store shows (one read)."""
    out: dict[str, list[str]] = {}
    for r in store.query(ALL_ASKED_SQL, (now_ms - window_ms,)):
        out.setdefault(str(r["agent"]), []).append(str(r["call_id"]))
    return {agent: tuple(ids[-limit:]) for agent, ids in out.items()}


def _decoded(text: Any) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else None
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
