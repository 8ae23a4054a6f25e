"""The calls and recordings in the call store, found again for `ccf calls`.
Queries only: no rendering, no Asterisk (the CRM side is runtime.core.recorded_call)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.moments import parse_moment
from ccdsl.runtime.operations.removed_files import removed_on

if TYPE_CHECKING:
    from ccdsl.runtime.operations.store import CallStore

# -- reading the call store: `ccf calls list` and `ccf calls show` -----------------------

# a span back from now: whole minutes, hours, days or weeks
SINCE_UNITS = ("m", "h", "d", "w")


class QueryError(ValueError):
    """A filter that cannot be read (`--since yesterday`)."""


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a `--since`: a span back from `now` (`30m`, `2h`, `3d`,
    `1w`), a date (`2026-11-30`, midnight) or a date and time
    (`2026-11-30 10:00`, `2026-11-30 10:00 Asia/Shanghai`, ISO 8601 with or
    without an offset; without one, the zone of `now`)."""
    try:
        span = parse_duration_ms(text, "--since", units=SINCE_UNITS, spaced=True, whole=True)
    except InputError:
        pass  # not a span: a date or a moment
    else:
        try:
            return now - timedelta(milliseconds=span)
        except OverflowError:
            raise QueryError(f"--since {text!r} reaches back before the year 1") from None
    if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", text):
        try:
            return datetime.fromisoformat(text.strip()).replace(tzinfo=now.tzinfo)
        except ValueError as exc:
            raise QueryError(f"--since {text!r}: {exc}") from None
    try:
        return parse_moment(text, now.tzinfo)
    except InputError:
        raise QueryError(f"--since {text!r}: expected a span such as 2h or 3d, a date such as "
                         "2026-11-30, or a date and time such as \"2026-11-30 10:00\", "
                         "\"2026-11-30 10:00 Asia/Shanghai\" or 2026-11-30T10:00+08:00") from None


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
