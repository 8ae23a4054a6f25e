"""The calls and recordings in the call store, found again for `ccf calls`.
Queries only: no rendering, no Asterisk (the CRM side is runtime.core.recorded_call)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.removed_files import removed_on

if TYPE_CHECKING:
    from ccdsl.runtime.operations.store import CallStore

# -- reading the call store: `ccf calls list` and `ccf calls show` -----------------------


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# the calls an agent talked in: the agent on the record, or any offer they answered
_TALKED_IN = ("(agent = ? OR call_id IN (SELECT call_id FROM agent_legs "
              "WHERE agent = ? AND outcome = 'answered'))")
IN_PROGRESS = "in_progress"  # an `outcome` filter: the calls with no outcome yet


def list_calls(store: CallStore, *, customer: str | None = None, agent: str | None = None,
               since: datetime | None = None, until: datetime | None = None,
               caller: str | None = None, outcome: str | None = None,
               call_id: str | None = None, limit: int = 50,
               offset: int = 0) -> list[dict[str, Any]]:
    """The newest calls first, each with its first recording (calls.recording).
    `agent`: calls the agent talked in (any answered offer, not only the
    last one); `customer`: the CRM customer id found on the call; `since`
    and `until`: started at or after, and before; `caller`: a part of the
    caller's number; `outcome`: the record's, or IN_PROGRESS for none yet;
    `call_id`: that call only (whether it passes the other filters);
    `offset`: skip that many (paging)."""
    where, args = [], []
    if call_id is not None:
        where.append("call_id = ?")
        args.append(call_id)
    if customer is not None:
        where.append("customer_id = ?")
        args.append(customer)
    if agent is not None:
        where.append(_TALKED_IN)
        args += [agent, agent]
    if caller:
        # a part of the number: +86138 finds every 138 number; LIKE's own signs are text
        escaped = caller.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append("caller LIKE ? ESCAPE '\\'")
        args.append(f"%{escaped}%")
    if since is not None:
        where.append("started_ms >= ?")
        args.append(epoch_ms(since))
    if until is not None:
        where.append("started_ms < ?")
        args.append(epoch_ms(until))
    if outcome == IN_PROGRESS:
        where.append("outcome IS NULL")
    elif outcome:
        where.append("outcome = ?")
        args.append(outcome)
    sql = ("SELECT call_id, started, flow, caller, customer_id, agent, outcome, duration_ms, "
           "talk_ms, queue, recording, voicemail_mailbox, voicemail_file FROM calls")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return store.query(sql + " ORDER BY started_ms DESC, call_id DESC LIMIT ? OFFSET ?",
                       (*args, max(0, limit), max(0, offset)))


def call_recordings(store: CallStore, call_id: str) -> list[dict[str, Any]]:
    """A call's recordings (the `recordings` table), each with `exists`:
    whether its file is on this machine's disk, and `removed`: when retention
    deleted it (`ccf store prune --recordings-before`), else None."""
    rows = store.query("SELECT * FROM recordings WHERE call_id = ? ORDER BY started_ms, file",
                       (call_id,))
    removed = removed_on(store.query, call_id) if rows else {}
    return [{**row, "exists": _on_disk(row["file"]), "removed": removed.get(row["file"])}
            for row in rows]


def _on_disk(file: str | None) -> bool:
    # Asterisk's MixMonitor may add the format's extension to a bare name
    return bool(file) and (os.path.isfile(file) or os.path.isfile(f"{file}.wav"))


@dataclass(frozen=True)
class CallDetail:
    """What `ccf calls show` prints: the record, its events in order (as
    runtime.core.events.Event, what the trace renderer takes), its recordings and
    its step visits."""

    record: dict[str, Any]
    events: tuple[Event, ...]
    recordings: tuple[dict[str, Any], ...]
    visits: tuple[dict[str, Any], ...]


def call_detail(store: CallStore, call_id: str) -> CallDetail | None:
    record = store.call(call_id)
    if record is None:
        return None
    if record.get("voicemail_file"):
        gone = removed_on(store.query, call_id).get(record["voicemail_file"])
        record = {**record, "voicemail_removed": gone}
    events = tuple(Event(row["call_id"], row["seq"], datetime.fromisoformat(row["at"]),
                         row["kind"], row["data"], _loc(row))
                   for row in store.events(call_id))
    visits = store.query("SELECT * FROM node_visits WHERE call_id = ? ORDER BY seq", (call_id,))
    return CallDetail(record, events, tuple(call_recordings(store, call_id)), tuple(visits))


def _loc(row: dict[str, Any]) -> dict[str, Any] | None:
    if row.get("file") is None:
        return None
    return {"file": row["file"], "line": row["line"], "column": row["col"]}
