"""A call store file made to look as an older ccdsl wrote it, for the migration tests: what
that version did not have taken out, and its schema version set back."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def set_back(path: str | Path, version: int, *statements: str) -> None:
    """Run `statements` on the file (dropping or adding what `version` had), then set its
    schema version to `version`, all in one transaction."""
    db = sqlite3.connect(path)
    try:
        with db:
            for statement in statements:
                db.execute(statement)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    finally:
        db.close()
