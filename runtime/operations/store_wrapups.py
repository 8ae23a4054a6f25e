"""Wrap-ups in the call store, one per call and agent asked (table wrapups): writing an agent's
values (taken once per agent, decided by the database, so two workers saving at once store one),
reading a call's, and which forms an agent has not filled in yet.

Must not talk to the CRM or the console: wrapup.py and the desk do.
"""

from __future__ import annotations

import enum
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.database import connect, transaction
from ccdsl.runtime.operations.store_errors import CallNotStored, StoreBusy, busy

log = logging.getLogger("ccdsl.store")

# How far back an agent's unsaved forms are looked for (from the call's start): a form is
# filled in the shift of its call, and one left a whole shift is past what the agent recalls
# of the call; `ccf wrapup` and the API still take it.
WINDOW_MS = 12 * 3600 * 1000
CLAIM_WAIT_S = 10.0  # how long a claim waits for another writer's lock (then StoreBusy)
# every agent's unsaved forms in the window (?1), the newest ?2 of each (waiting_all)
ALL_UNSAVED_SQL = ("SELECT agent, call_id FROM (SELECT w.agent AS agent, w.call_id AS call_id, "
                   "c.started_ms AS started_ms, row_number() OVER (PARTITION BY w.agent "
                   "ORDER BY c.started_ms DESC, w.call_id DESC) AS newest FROM wrapups w "
                   "JOIN calls c ON c.call_id = w.call_id WHERE w.entered IS NULL "
                   "AND w.agent <> '' AND c.started_ms >= ?1) u WHERE u.newest <= ?2 "
                   "ORDER BY started_ms, call_id")
# agents' forms (waiting_many): ?1 the agents' unsaved forms in the window, the newest ?4 of
# each (part 1), ?3 the calls asked about with every agent's row of each (part 2)
MANY_SQL = ("SELECT 1 AS part, u.agent AS agent, u.call_id AS call_id, "
            "u.started_ms AS started_ms, u.outcome AS outcome, 0 AS saved "
            "FROM (SELECT w.agent, w.call_id, c.started_ms, c.outcome, row_number() OVER "
            "(PARTITION BY w.agent ORDER BY c.started_ms DESC, w.call_id DESC) AS newest "
            "FROM wrapups w JOIN calls c ON c.call_id = w.call_id WHERE w.entered IS NULL "
            "AND c.started_ms >= ?2 AND w.agent IN (SELECT value FROM json_each(?1))) u "
            "WHERE u.newest <= ?4 "
            "UNION ALL SELECT 2, w.agent, c.call_id, c.started_ms, c.outcome, "
            "CASE WHEN w.entered IS NULL THEN 0 ELSE 1 END FROM calls c LEFT JOIN wrapups w "
            "ON w.call_id = c.call_id WHERE c.call_id IN (SELECT value FROM json_each(?3)) "
            "ORDER BY part, agent, started_ms, call_id")
# an agent's last answered offer on a call: the one the agent's wrap-up time goes to
# (keyed by its seq within the call: PostgreSQL has no rowid)
AGENT_LEG = ("SELECT seq, offered_ms, agent, queue, wrapup_ms FROM agent_legs WHERE call_id = ? "
             "AND agent = ? AND outcome = 'answered' ORDER BY seq DESC LIMIT 1")
# the values of (call, agent): a row asked for takes them while it has none; a save that
# comes before the form was written (another worker's call, still running) makes the row
_SAVE = ("INSERT INTO wrapups (call_id, agent, entered) VALUES (?, ?, ?) "
         "ON CONFLICT (call_id, agent) DO UPDATE SET entered = excluded.entered")
_SAVE_ONCE = _SAVE + " WHERE wrapups.entered IS NULL"


class Saved(enum.Enum):
    """What became of a save of an agent's wrap-up values (write)."""

    STORED = "stored"  # these are the agent's values now
    ALREADY = "already saved"  # `once`: the agent's values were there before
    NO_CALL = "no call"  # the store has no such call (pruned, or never stored): nothing saved


def write(db: sqlite3.Connection, call_id: str, values: Any, wrapup_ms: int | None,
          agent: str | None = None, once: bool = False) -> Saved:
    """Store `agent`'s wrap-up values (JSON) of a call in the open write transaction of `db`
    (None: the agent asked last), with the wrap-up time of the agent's last answered leg and
    the rollups' handling time. `once`: only when the agent has no values stored yet, by a
    conditional upsert whose row count says whether these are the agent's values (another
    worker's save of the same instant then counts none, on SQLite and PostgreSQL alike).
    Another agent's values are never touched."""
    row = db.execute("SELECT agent, flow, started_ms, outcome FROM calls WHERE call_id = ?",
                     (call_id,)).fetchone()
    if row is None:
        log.error("call store: the wrap-up of call %s has no call to go to", call_id)
        return Saved.NO_CALL
    if agent is None:
        last = db.execute("SELECT agent FROM wrapups WHERE call_id = ? "
                          "ORDER BY coalesce(seq, 0) DESC LIMIT 1", (call_id,)).fetchone()
        agent = last[0] if last is not None else (row[0] or "")
    taken = db.execute(_SAVE_ONCE if once else _SAVE,
                       (call_id, agent, json_text.dumps(values, ensure_ascii=False))).rowcount
    if once and taken != 1:
        return Saved.ALREADY
    if wrapup_ms is not None:
        leg = db.execute(AGENT_LEG, (call_id, agent)).fetchone()
        if leg is None:
            return Saved.STORED
        if row[3] is not None:  # an ended call: its figures are in the rollups
            rollup.wrapup_changed(db, row[1], row[2], leg, wrapup_ms)
        db.execute("UPDATE agent_legs SET wrapup_ms = ? WHERE call_id = ? AND seq = ?",
                   (wrapup_ms, call_id, leg[0]))
    return Saved.STORED


def claim(store, call_id: str, values: Any, wrapup_ms: int | None = None,
          agent: str | None = None, *, wait_s: float | None = None) -> bool:
    """Store `agent`'s wrap-up values of a call unless that agent's are stored already, in
    one transaction of its own (write(once=True)), after the store's writer has written what
    it holds (the form asked for, which the values fill in). Returns whether these are the
    agent's values (False: the agent's were stored before). CallNotStored when the store has
    no such call; StoreBusy when another writer's lock lasts past `wait_s` (None:
    CLAIM_WAIT_S), or the store cannot be reached (nothing stored either way). Blocks: call
    it off the event loop."""
    wait_s = CLAIM_WAIT_S if wait_s is None else wait_s
    try:
        if not store.flush(wait_s):
            raise StoreBusy(f"the call store is busy: another writer held its lock past "
                            f"{wait_s:g} s")
        db = connect(store.path, busy_ms=int(wait_s * 1000))
        try:
            with transaction(db):
                saved = write(db, call_id, to_json(dict(values)), wrapup_ms, agent, once=True)
        finally:
            db.close()
    except sqlite3.OperationalError as exc:  # either back end's lock, lost link, conflict
        raise busy(exc) from exc
    if saved is Saved.NO_CALL:
        raise CallNotStored(call_id)
    return saved is Saved.STORED


def of_call(read: Callable[[str, tuple], list[Any]], call_id: str,
            asked: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """A call's wrap-ups as its record shows them: `wrapups`, one {"agent", "fields",
    "values"} per agent asked, in the order they were asked (values None: not saved yet), and
    `wrapup`, the last of them (None: none asked), for readers of one. `read`: the store's
    reader of the file; `asked`: the forms of the call in the store's memory, not all written
    yet (the file's rows, which have the values, come over them)."""
    found: dict[str, tuple[int | None, dict[str, Any]]] = {}
    for w in asked:
        found[w["agent"]] = (w["seq"], {"agent": w["agent"] or None,
                                        "fields": _decoded(w["fields"]), "values": None})
    for r in read("SELECT agent, seq, fields, entered FROM wrapups WHERE call_id = ?",
                  (call_id,)):
        seq, known = found.get(r["agent"], (None, {}))
        found[r["agent"]] = (r["seq"] if r["seq"] is not None else seq, {
            "agent": r["agent"] or None, "values": _decoded(r["entered"]),
            "fields": _decoded(r["fields"]) if r["fields"] is not None else known.get("fields")})
    # in the order asked; a wrap-up saved by an agent not asked for one comes after
    ordered = [w for _, w in sorted(found.values(), key=lambda pair: (pair[0] is None,
                                                                      pair[0] or 0))]
    return {"wrapups": ordered, "wrapup": ordered[-1] if ordered else None}


@dataclass(frozen=True)
class Waiting:
    """An agent's forms as the store has them: `unsaved`, oldest first (the newest `limit`
    of the window), and `done`: those of the ids asked about that no longer wait (saved,
    older than the window, or their call ended with no form asked)."""

    unsaved: tuple[str, ...]
    done: frozenset[str]


def waiting(store, agent: str, now_ms: int, known: Sequence[str] = (), *,
            limit: int, window_ms: int = WINDOW_MS) -> Waiting:
    """Which forms wait for `agent` (the calls whose form was asked of the agent and not
    filled in by the agent, started in the window), and which of `known` (the ids a desk
    holds) no longer do. Reads the database every worker shares, so each worker's desk
    shows the same forms; a call the store has not written yet is in neither."""
    return waiting_many(store, {agent: known}, now_ms, limit=limit, window_ms=window_ms)[agent]


def waiting_all(store, now_ms: int, *, limit: int,
                window_ms: int = WINDOW_MS) -> dict[str, tuple[str, ...]]:
    """Every agent's unsaved forms (as waiting() finds one agent's), oldest first, the
    newest `limit` of each: what a desk starting over the store shows (one read)."""
    out: dict[str, list[str]] = {}
    for r in store.query(ALL_UNSAVED_SQL, (now_ms - window_ms, limit)):
        out.setdefault(str(r["agent"]), []).append(str(r["call_id"]))
    return {agent: tuple(ids) for agent, ids in out.items()}


def waiting_many(store, known: Mapping[str, Sequence[str]], now_ms: int, *, limit: int,
                 window_ms: int = WINDOW_MS) -> dict[str, Waiting]:
    """waiting() of each agent of `known` (agent -> the ids that agent's desk holds), all in
    one read however many agents: what the desks of a floor's agents wrapping up read
    again together, and waiting() itself for one. The ids and agents go as JSON arrays, so
    no count of them runs into either back end's limit on a statement's parameters."""
    if not known:
        return {}
    since = now_ms - window_ms
    ids = sorted({c for calls in known.values() for c in calls})
    unsaved: dict[str, list[str]] = {agent: [] for agent in known}
    # call -> (started_ms, outcome, {agent: whether that agent's values are in})
    calls: dict[str, tuple[Any, Any, dict[str, bool]]] = {}
    for r in store.query(MANY_SQL, (json_text.dumps(sorted(known)), since,
                                    json_text.dumps(ids), limit)):
        if r["part"] == 1:  # the newest `limit`, oldest first, in the database's order of ids
            unsaved.setdefault(str(r["agent"]), []).append(str(r["call_id"]))
            continue
        _, _, rows = calls.setdefault(str(r["call_id"]), (r["started_ms"], r["outcome"], {}))
        if r["agent"] is not None:
            rows[str(r["agent"])] = bool(r["saved"])
    out: dict[str, Waiting] = {}
    for agent, asked in known.items():
        mine = tuple(unsaved[agent])
        done = set()
        for call_id in dict.fromkeys(asked):
            if call_id in mine or call_id not in calls:
                continue
            started, outcome, rows = calls[call_id]
            if (rows.get(agent) or (started is not None and started < since)
                    or (outcome is not None and agent not in rows)):
                done.add(call_id)
        out[agent] = Waiting(mine, frozenset(done))
    return out


def _decoded(text: Any) -> Any:
    """JSON text as its value; None for none, or for text that is not JSON."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
