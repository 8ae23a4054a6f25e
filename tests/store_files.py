"""A call store file made to look as an older ccdsl wrote it, for the migration tests: what
that version did not have taken out, and its schema version set back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# before schema 10: one `events` row per event, the menu choices found through a
# partial index on it
UNBATCHED = (
    "CREATE TABLE events_9 (call_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, "
    "at_ms INTEGER NOT NULL, kind TEXT NOT NULL, step TEXT, file TEXT, line INTEGER, "
    "col INTEGER, data TEXT NOT NULL, PRIMARY KEY (call_id, seq))",
    "INSERT INTO events_9 SELECT * FROM events",
    "DROP VIEW events",
    "DROP TABLE event_batches",
    "DROP TABLE menu_choices",
    "ALTER TABLE events_9 RENAME TO events",
    "CREATE INDEX events_menu_choice ON events (at_ms) WHERE kind = 'menu_choice'",
)


def set_back(path: str | Path, version: int, *statements: str) -> None:
    """Run `statements` on the file (dropping or adding what `version` had), then set its
    schema version to `version`, all in one transaction. Before version 10 the
    events are one row each first."""
    db = sqlite3.connect(path)
    try:
        with db:
            for statement in (*(UNBATCHED if version < 10 else ()), *statements):
                db.execute(statement)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    finally:
        db.close()
