"""What a bench reads back of the calls it made: each Asterisk call's stored outcomes.

Reads only (a SQLite file or a PostgreSQL URL, through the store's own connect).
"""

from __future__ import annotations

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store_ids import base_of


def stored(store: str) -> dict[str, list]:
    """Outcomes by Uniqueid: a Uniqueid met again is stored as UNIQUEID~2 (docs/store.md),
    one Asterisk call."""
    db = connect(store)
    try:
        rows = db.execute("SELECT call_id, outcome FROM calls").fetchall()
    finally:
        db.close()
    by_id: dict[str, list] = {}
    for call_id, outcome in rows:
        by_id.setdefault(base_of(call_id), []).append(outcome)
    return by_id


def open_calls(store: str) -> int:
    """The calls still in progress there (outcome NULL)."""
    db = connect(store)
    try:
        return db.execute("SELECT count(*) FROM calls WHERE outcome IS NULL").fetchone()[0]
    finally:
        db.close()
