"""Call ids unique in a call store: `sim-N` reserved in the file, a repeated Uniqueid `U~2`.

SQL on a connection it is given, inside the caller's transaction (must not open or commit
one), and the ids a store has given in memory.
"""

from __future__ import annotations

import re
import sqlite3
from collections import OrderedDict
from datetime import datetime

from ccdsl import json_text
from ccdsl.runtime.operations.centre_time import utc_text

# Asterisk's Uniqueids (`1795663790.9`, `sysname-1795663790.9`) never hold a `~`
REPEAT = "~"
_REPEATED = re.compile(r"(.+)~([0-9]+)")


def base_of(call_id: str) -> str:
    """The Asterisk Uniqueid of a call id: `U~2` and `U` are both `U`."""
    found = _REPEATED.fullmatch(call_id)
    return found.group(1) if found else call_id


def nth(base: str, n: int) -> str:
    """The id of the n-th call of one Uniqueid: the first is the Uniqueid itself."""
    return base if n <= 1 else f"{base}{REPEAT}{n}"


def calls_of(db: sqlite3.Connection, base: str) -> int:
    """How many calls of this Uniqueid the file has (the highest n taken),
    read through the primary key: the ids between `U~` and `U\\x7f`."""
    highest = 0
    for (call_id,) in db.execute(
            "SELECT call_id FROM calls WHERE call_id = ? OR (call_id > ? AND call_id < ?)",
            (base, base + REPEAT, base + "\x7f")):
        found = _REPEATED.fullmatch(call_id)
        if call_id == base:
            highest = max(highest, 1)
        elif found and found.group(1) == base:
            highest = max(highest, int(found.group(2)))
    return highest


def taken(db: sqlite3.Connection, call_id: str) -> bool:
    """Whether any row of call data has this id (a call, or events left
    without their call by a store that did not write both)."""
    return db.execute("SELECT 1 FROM calls WHERE call_id = ? UNION ALL "
                      "SELECT 1 FROM event_batches WHERE call_id = ? LIMIT 1",
                      (call_id, call_id)).fetchone() is not None


def taken_of(db: sqlite3.Connection, call_ids: list[str]) -> set[str]:
    """Which of these ids any row of call data has (`taken` of each, asked
    in one statement per 500 ids instead of one per id)."""
    if len(call_ids) == 1:  # a live store's batch: one new call, one plain look-up
        return {call_ids[0]} if taken(db, call_ids[0]) else set()
    found: set[str] = set()
    for start in range(0, len(call_ids), 500):
        ids = json_text.dumps(call_ids[start:start + 500])
        found.update(row[0] for row in db.execute(
            "SELECT call_id FROM calls WHERE call_id IN (SELECT value FROM json_each(?1)) "
            "UNION SELECT call_id FROM event_batches "
            "WHERE call_id IN (SELECT value FROM json_each(?1))", (ids,)))
    return found


def free_repeat(db: sqlite3.Connection, call_id: str) -> tuple[str, str]:
    """For a call whose id the file already has: the next free id of its
    Uniqueid, and the call it follows (the latest one before it)."""
    base = base_of(call_id)
    n = max(calls_of(db, base), 1)
    while taken(db, nth(base, n + 1)):
        n += 1
    return nth(base, n + 1), nth(base, n)


def reserve_numbered(db: sqlite3.Connection, prefix: str) -> str:
    """The next `PREFIX N` no call of the file has. Inside a BEGIN IMMEDIATE
    transaction that also inserts its row, two processes cannot get the
    same: the second waits for the first's commit. The last number given is
    kept in meta, so a reservation reads one row, not every id."""
    key = f"last_id:{prefix}"
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is not None and str(row[0]).isdigit():
        n = int(row[0])
    else:  # the first reservation in this file: the ids of older versions count
        n = 0
        for (call_id,) in db.execute("SELECT call_id FROM calls WHERE call_id >= ? "
                                     "AND call_id < ?", (prefix, _after(prefix))):
            tail = call_id[len(prefix):]
            if tail.isdigit():
                n = max(n, int(tail))
    n += 1
    while taken(db, f"{prefix}{n}"):
        n += 1
    db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(n)))
    return f"{prefix}{n}"


def _after(prefix: str) -> str:
    """The least text greater than every text starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class Claims:
    """The calls of each Uniqueid a store has started (the most recent
    `kept` Uniqueids), and for each repeat the call it follows. Memory only:
    what it has forgotten, the file still has."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._count: OrderedDict[str, int] = OrderedDict()  # Uniqueid -> its calls so far
        self._previous: dict[str, str] = {}  # a repeat's id -> the call before it

    def known(self, base: str) -> int | None:
        return self._count.get(base)

    def claim(self, base: str, on_disk: int) -> str:
        """The id of the next call of `base`, the file having `on_disk` of them."""
        n = max(on_disk, self._count.get(base, 0))
        call_id = nth(base, n + 1)
        if n:
            self._previous[call_id] = nth(base, n)
        self._count[base] = n + 1
        self._count.move_to_end(base)
        if len(self._count) > self.kept:
            self._count.popitem(last=False)
        return call_id

    def latest(self, base: str) -> str:
        """The id of the latest call of `base` claimed here (`base` when none)."""
        return nth(base, self._count.get(base, 1))

    def previous(self, call_id: str) -> str | None:
        """The call a claimed repeat follows, once (for its first row)."""
        return self._previous.pop(call_id, None)


def reserve_row(db: sqlite3.Connection, prefix: str, at: datetime, run_id: int) -> str:
    """reserve_numbered's id, its row inserted in progress and stamped `at`."""
    call_id = reserve_numbered(db, prefix)
    db.execute("INSERT INTO calls (call_id, started, started_ms, talked_to_agent, run_id) "
               "VALUES (?, ?, ?, 0, ?)",
               (call_id, utc_text(at), int(at.timestamp() * 1000), run_id))
    return call_id


def forget_reservations(db: sqlite3.Connection, call_ids: list[str]) -> None:
    """Delete the rows of reserved ids whose call never started (no flow)."""
    db.executemany("DELETE FROM calls WHERE call_id = ? AND flow IS NULL AND outcome IS NULL",
                   [(call_id,) for call_id in call_ids])
