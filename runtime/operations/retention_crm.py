"""Telling the CRM of the files retention removed (removed_files.crm_told, schema 12): each prune
tells it of every file not told yet, oldest first: an HTTP CRM by its recording_removed
operation, the SQLite CRM by marking its call_log. Must not delete files (retention.py).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from ccdsl.runtime.core.crm.http import CrmAnswered, HttpCRM
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.operations.database import transaction
from ccdsl.runtime.operations.removed_files import TOLD_SQL, UNTOLD_SQL

CRM_COLUMN = "recording_removed"  # call_log's note of a removed file: "removed on DATE: name"
NOT_TOLD = "the CRM is not the SQLite CRM: its call log still names the removed files"


@dataclass(frozen=True)
class Told:
    told: int  # files the CRM was told of by this run
    untold: int  # files still to tell: after a failure, or all of them in a dry run
    skipped: int = 0  # files of a kind the HTTP CRM has no recording_removed operation for
    error: str | None = None  # why telling stopped: the CRM is down, slow, refused one, or
    # (the SQLite CRM) its file is not there
    marked: int = 0  # the SQLite CRM's call_log entries changed
    # the CRM answered the failure (refused, or an answer that cannot be read); False: it did
    # not answer (a timeout, a failed connection)
    answered: bool = False


def untold(db) -> list[tuple[str, str, str, str]]:
    """(call id, file, kind, removed (ISO)) of each removed file the CRM was not told of."""
    return [tuple(row) for row in db.execute(UNTOLD_SQL).fetchall()]


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _note_told(db, pairs: list[tuple[str, str]], stamp: str) -> None:
    # a transaction a file: a file told is never told again, even if the run dies next
    with transaction(db):
        for call_id, file in pairs:
            db.execute(TOLD_SQL, (stamp, call_id, file))


async def tell_http(db, crm: HttpCRM, *, dry_run: bool = False) -> Told:
    """Tell the HTTP CRM (its recording_removed operation) of every file not told yet, one
    request at a time with its timeout and retries. The first failure stops the run: the CRM
    is down or refusing, and the rest would only wait for it too. Closes the CRM's client."""
    rows = untold(db)
    known = [row for row in rows if crm.tells_removed(row[2])]
    skipped = len(rows) - len(known)
    if dry_run:
        return Told(0, len(known), skipped)
    told = 0
    try:
        for call_id, file, kind, removed in known:
            try:
                await crm.recording_removed(call_id, file, kind, removed)
            except ExternalError as exc:
                return Told(told, len(known) - told, skipped, str(exc),
                            answered=isinstance(exc, CrmAnswered))
            _note_told(db, [(call_id, file)], _stamp())
            told += 1
    finally:
        await crm.close()
    return Told(told, 0, skipped)


def tell_sqlite(db, crm: str) -> Told:
    """Mark the SQLite CRM's call_log entries of the files not told yet (this run's, and those
    removed by earlier runs while the CRM's file was missing, or before schema 12), each with
    its removal day."""
    rows = untold(db)
    if not rows:
        return Told(0, 0, marked=0)
    marked, error = mark_crm(crm, [(file, removed[:10]) for _, file, _, removed in rows])
    if error is not None:
        return Told(0, len(rows), error=error, marked=0)
    _note_told(db, [(call_id, file) for call_id, file, _, _ in rows], _stamp())
    return Told(len(rows), 0, marked=marked)


def mark_crm(crm: str, removed: list[tuple[str, str]]) -> tuple[int, str | None]:
    """Replace the file in the SQLite CRM's call_log entries of these (file, removal day) pairs
    by a `recording_removed` note, so the customer's history says it was removed rather than
    name a file that is gone. One opening of the CRM for them all. (entries marked, why none
    could be: its file is not there)."""
    if not os.path.isfile(crm):
        return 0, f"no CRM database at {crm}: nothing to mark"
    db = sqlite3.connect(crm, timeout=5)
    try:
        columns = {r[1] for r in db.execute("PRAGMA table_info(call_log)")}
        if "recording" not in columns:
            return 0, None
        with db:
            if CRM_COLUMN not in columns:
                db.execute(f"ALTER TABLE call_log ADD COLUMN {CRM_COLUMN} TEXT")
            marked = 0
            for name, day in removed:
                note = f"removed on {day}: {os.path.basename(name)}"
                marked += db.execute(
                    f"UPDATE call_log SET recording = NULL, {CRM_COLUMN} = ? WHERE recording = ?",
                    (note, name)).rowcount
    finally:
        db.close()
    return marked, None
