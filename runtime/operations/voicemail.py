"""The messages callers left, from the call store: who, for whom, the file, called back or not.

A message's id is the id of the call that left it. Writes nothing but the `voicemail_done`
centre event of `mark_done` (a follow-up an agent closed on the console).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ccdsl.runtime.operations.recordings import epoch_ms

if TYPE_CHECKING:
    from ccdsl.runtime.operations.store import CallStore

# the message's own length is the last stored `voicemail` event's; the
# callbacks of a call are its `callback` centre events, newest last. The SQL is said alike
# on both back ends: JSON's true is 1 in SQLite and 'true' on PostgreSQL, neither a boolean.
_SQL = """
SELECT c.call_id, c.started, c.caller, c.customer_id, c.voicemail_mailbox AS mailbox,
       c.voicemail_file AS file, c.flow,
       (SELECT CAST(json_extract(e.data, '$.duration_ms') AS INTEGER) FROM events e
         WHERE e.call_id = c.call_id AND e.kind = 'voicemail'
           AND CAST(json_extract(e.data, '$.stored') AS TEXT) IN ('1', 'true')
         ORDER BY e.seq DESC LIMIT 1) AS duration_ms,
       (SELECT json_group_array(json(x.data)) FROM
          (SELECT data FROM centre_events ce WHERE ce.kind = 'callback'
             AND ce.source <> 'sim'  -- a rehearsal (`ccf callback --simulate`) rang no one
             AND ce.call_id = c.call_id ORDER BY ce.id) AS x) AS callbacks,
       (SELECT ce.data FROM centre_events ce WHERE ce.kind = 'voicemail_done'
           AND ce.call_id = c.call_id ORDER BY ce.id DESC LIMIT 1) AS done,
       (SELECT f.removed FROM removed_files f  -- retention deleted the file (schema 11)
         WHERE f.call_id = c.call_id AND f.file = c.voicemail_file) AS removed
FROM calls c
WHERE c.voicemail_file IS NOT NULL
"""


def list_messages(store: CallStore, *, for_agent: str | None = None,
                  since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The stored messages, newest first. `called_back`: "done" when a
    callback reached the customer, "failed" when every one tried failed,
    null when none was tried; `callbacks` lists the attempts; `done` is
    {agent, at} once someone marked the message done (`mark_done`), else null;
    `removed`: when retention deleted the file (ISO, UTC), else null."""
    sql, args = _SQL, []
    if for_agent is not None:
        sql += " AND c.voicemail_mailbox = ?"
        args.append(for_agent)
    if since is not None:
        sql += " AND c.started_ms >= ?"
        args.append(epoch_ms(since))
    rows = store.query(sql + " ORDER BY c.started_ms DESC, c.call_id DESC LIMIT ?",
                       (*args, max(0, limit)))
    return [_message(row) for row in rows]


def message(store: CallStore, call_id: str) -> dict[str, Any] | None:
    """The message the call left, or None."""
    rows = store.query(_SQL + " AND c.call_id = ?", (call_id,))
    return _message(rows[0]) if rows else None


def mark_done(store: CallStore, call_id: str, agent: str,
              at: datetime | None = None) -> dict[str, Any]:
    """Close the follow-up of a message: a `voicemail_done` centre event
    (who, when); the message is then listed with `done`. KeyError when the
    call left no message."""
    if message(store, call_id) is None:
        raise KeyError(call_id)
    moment = at or datetime.now(UTC)
    done = {"agent": agent, "at": moment.astimezone(UTC).isoformat(timespec="seconds")}
    store.record_centre_event("console", "voicemail_done", done, moment, call_id=call_id)
    store.flush()
    return done


def _message(row: dict[str, Any]) -> dict[str, Any]:
    attempts = [a for a in json.loads(row.pop("callbacks") or "[]") if isinstance(a, dict)]
    statuses = [a.get("status") for a in attempts]
    called_back = "done" if "done" in statuses else ("failed" if statuses else None)
    done = json.loads(row.pop("done") or "null")
    return {**row, "called_back": called_back, "callbacks": attempts,
            "done": done if isinstance(done, dict) else None}
