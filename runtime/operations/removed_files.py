"""Schema 11: the recording and voicemail files retention removed from disk, and when; schema 12:
when the CRM was told of each.

Only the table's SQL text and its reads: must not delete files or touch the CRM (retention.py).
"""

from __future__ import annotations

from typing import Any

# one row per file `ccf store prune --recordings-before/--voicemail-before` deleted; a table of
# its own (not a column on recordings and calls) so that creating it is the same statement for a
# new store and for a migration, on SQLite and PostgreSQL alike
REMOVED_FILES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS removed_files ("
    " call_id TEXT NOT NULL, file TEXT NOT NULL,"
    " kind TEXT NOT NULL,"  # recording|voicemail
    " removed TEXT NOT NULL,"  # ISO 8601 in UTC: when the file was deleted
    " removed_ms INTEGER NOT NULL,"
    # ISO 8601 in UTC: when the CRM was told (schema 12); NULL: not yet, the next prune tells it
    " crm_told TEXT,"
    " PRIMARY KEY (call_id, file))",
)
# schema 12; a store of 10 gets the column with the table above, so this adds nothing there
CRM_TOLD_SCHEMA = ("ALTER TABLE removed_files ADD COLUMN crm_told TEXT",)

MARK_SQL = ("INSERT INTO removed_files (call_id, file, kind, removed, removed_ms) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (call_id, file) DO NOTHING")


# the files the CRM has not been told of yet, oldest removal first: the order they were removed
UNTOLD_SQL = ("SELECT call_id, file, kind, removed FROM removed_files WHERE crm_told IS NULL "
              "ORDER BY removed_ms, call_id, file")
TOLD_SQL = "UPDATE removed_files SET crm_told = ? WHERE call_id = ? AND file = ?"


def removals(query: Any, call_id: str) -> dict[str, tuple[str, str]]:
    """The call's removed files: {file: (kind, when removed (ISO))}; {} for a store older than
    the table. `query` is CallStore.query (or any (sql, args) -> rows of dicts)."""
    try:
        rows = query("SELECT file, kind, removed FROM removed_files WHERE call_id = ?",
                     (call_id,))
    except Exception:  # noqa: BLE001 - a store of schema 10 or older: nothing removed yet
        return {}
    return {row["file"]: (row["kind"], row["removed"]) for row in rows}


def removal_of(query: Any, call_id: str, names: Any) -> tuple[str, str] | None:
    """(kind, when removed) of the first of the call's file `names` that retention removed;
    None when none was (the file is simply missing)."""
    removed = removals(query, call_id)
    return next((removed[name] for name in names if name in removed), None)


def removed_on(query: Any, call_id: str) -> dict[str, str]:
    """The call's removed files: {file: when removed (ISO)}."""
    return {file: when for file, (_, when) in removals(query, call_id).items()}
