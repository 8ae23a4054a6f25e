"""A caller's history in the call store: the agent who last talked to them, their last calls.

Each merges the rows the store has not written yet (given) with the file's (read through
the function given), so a call that just ended, or ended while the file was locked, counts.
Must not write, nor reach into the store's queue itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

ReadFile = Callable[[str, tuple | list], list[Any]]
RECENT_KEYS = ("call_id", "started", "started_ms", "outcome", "agent", "recording")


def last_agent(unwritten: Sequence[dict[str, Any]], read: ReadFile, phone: str,
               since_ms: int | None) -> str | None:
    """The agent of the caller's newest call that reached one (since `since_ms`)."""
    best: tuple[int, str, str] | None = None
    for row in unwritten:
        if (row["caller"] == phone and row["talked_to_agent"] and row["agent"]
                and (since_ms is None or row["started_ms"] >= since_ms)):
            mine = (row["started_ms"], row["call_id"], row["agent"])
            best = max(best or mine, mine)
    sql = ("SELECT started_ms, call_id, agent FROM calls WHERE caller=? "
           "AND talked_to_agent=1 AND agent IS NOT NULL")
    args: list[Any] = [phone]
    if since_ms is not None:
        sql += " AND started_ms >= ?"
        args.append(since_ms)
    rows = read(sql + " ORDER BY started_ms DESC, call_id DESC LIMIT 1", args)
    if rows:
        best = max(best or tuple(rows[0]), tuple(rows[0]))
    return best[2] if best else None


def recent_calls(unwritten: Sequence[dict[str, Any]], read: ReadFile, caller: str,
                 exclude: str, limit: int) -> list[dict[str, Any]]:
    """The caller's last `limit` finished calls that started before `exclude`
    (the call being offered), newest first: call_id, started, started_ms,
    outcome, agent, recording as stored, and `wrapups`: every agent's saved wrap-up of the
    call ({"agent", "values" (JSON text)}, in the order they were asked). A call still in
    progress (another line of the same caller) has no outcome yet to show."""
    found = {row["call_id"]: {k: row[k] for k in RECENT_KEYS} for row in unwritten
             if row["caller"] == caller and row["call_id"] != exclude}
    before = _started_ms(unwritten, read, exclude)
    sql = (f"SELECT {', '.join(RECENT_KEYS)} FROM calls WHERE caller = ? AND call_id <> ? "
           "AND outcome IS NOT NULL")
    args: list[Any] = [caller, exclude]
    if before is not None:
        sql += " AND started_ms <= ?"
        args.append(before)
    rows = read(sql + " ORDER BY started_ms DESC, call_id DESC LIMIT ?", (*args, limit))
    for row in rows:
        found.setdefault(row["call_id"], dict(row))  # memory is the newer account
    done = [r for r in found.values() if r["outcome"] is not None
            and (before is None or (r["started_ms"] or 0) <= before)]
    newest = sorted(done, key=lambda r: (r["started_ms"] or 0, r["call_id"]), reverse=True)
    newest = newest[:limit]
    saved: dict[str, list[dict[str, Any]]] = {}
    if newest:
        ids = [r["call_id"] for r in newest]
        for row in read("SELECT call_id, agent, entered FROM wrapups WHERE call_id IN "
                        f"({', '.join('?' * len(ids))}) AND entered IS NOT NULL "
                        "ORDER BY seq IS NULL, seq", ids):
            saved.setdefault(row["call_id"], []).append({"agent": row["agent"] or None,
                                                         "values": row["entered"]})
    return [{**r, "wrapups": saved.get(r["call_id"], [])} for r in newest]


def _started_ms(unwritten: Sequence[dict[str, Any]], read: ReadFile,
                call_id: str) -> int | None:
    """When the call started (None: not in the store)."""
    for row in unwritten:
        if row["call_id"] == call_id:
            return row["started_ms"]
    rows = read("SELECT started_ms FROM calls WHERE call_id = ?", (call_id,))
    return rows[0][0] if rows else None
