"""Recording and voicemail retention by age: deletes the files and notes each in removed_files.
Deletes only inside the recordings folder; must not touch the CRM (retention_crm.py tells it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ccdsl.runtime.operations.database import transaction
from ccdsl.runtime.operations.removed_files import MARK_SQL
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

# the files of each kind retention may delete, and when each was made
_SQL = {
    "recording": ("SELECT r.call_id, r.file FROM recordings r WHERE r.started_ms < ? AND NOT "
                  "EXISTS (SELECT 1 FROM removed_files f WHERE f.call_id = r.call_id AND "
                  "f.file = r.file) ORDER BY r.started_ms"),
    # a message of a call still in progress may still be being written
    "voicemail": ("SELECT c.call_id, c.voicemail_file AS file FROM calls c WHERE "
                  "c.voicemail_file IS NOT NULL AND c.outcome IS NOT NULL AND c.started_ms < ? "
                  "AND NOT EXISTS (SELECT 1 FROM removed_files f WHERE f.call_id = c.call_id "
                  "AND f.file = c.voicemail_file) ORDER BY c.started_ms"),
}


class RetentionError(ValueError):
    """No recordings folder to delete in, or a store too old to note removals in."""


@dataclass(frozen=True)
class Removed:
    files: int  # files deleted (or that a dry run would delete)
    missing: int  # rows whose file was already gone: marked removed all the same
    refused: tuple[tuple[str, str], ...] = ()  # (path, why) the disk would not delete


def files_of(name: str, folder: str) -> Iterator[str]:
    """The paths a stored name may be on disk (as it was written, under the folder, with or
    without `.wav`), each only if it lies inside `folder`: no name from the store reaches
    another file."""
    tried = [name] if os.path.isabs(name) else [os.path.abspath(name), os.path.join(folder, name)]
    tried.append(os.path.join(folder, os.path.basename(name)))
    base = os.path.realpath(folder)
    seen = set()
    for path in tried:
        for candidate in (path, path + ".wav") if not path.endswith(".wav") else (path,):
            real = os.path.realpath(candidate)
            if real in seen or not os.path.isfile(real):
                continue
            if os.path.commonpath([real, base]) == base and real != base:
                seen.add(real)
                yield real


def check_version(version: int) -> None:
    """RetentionError for a store older than this ccf's (removed_files.crm_told is schema 12):
    asked once by the caller, which has read the version, before any file is removed."""
    if version < SCHEMA_VERSION:
        raise RetentionError("the call store's schema is older than this ccf's: bring it up "
                             "to date with `ccf store migrate` (a SQLite file: or open it "
                             "once, `ccf calls list`)")


def remove_files(db, kind: str, before_ms: int, *, folder: str | None,
                 dry_run: bool = False, now: datetime | None = None) -> Removed:
    """Delete the `kind` (recording|voicemail) files made before `before_ms` under `folder`
    and note each in removed_files (file already gone: noted too), its crm_told left NULL:
    those rows are what retention_crm tells the CRM of afterwards, so a file noted here and
    not told (this run failed later, or the CRM is away) is told by the next run. The store
    must be of this ccf's schema (check_version)."""
    if not folder:
        raise RetentionError("no recordings folder is named: name it in ccf.toml ([paths] "
                             "recordings) or with --recordings DIR")
    if not os.path.isdir(folder):
        raise RetentionError(f"the recordings folder {folder} does not exist: name the folder "
                             "the recordings are in, in ccf.toml ([paths] recordings) or with "
                             "--recordings DIR")
    rows = db.execute(_SQL[kind], (before_ms,)).fetchall()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp, ms = moment.isoformat(timespec="seconds"), int(moment.timestamp() * 1000)
    deleted = missing = 0
    refused: list[tuple[str, str]] = []
    for call_id, name in rows:
        paths = list(files_of(name, folder))
        missing += not paths
        if dry_run:
            deleted += len(paths)
            continue
        kept = 0
        for path in paths:
            try:
                os.remove(path)
                deleted += 1
            except FileNotFoundError:
                pass  # removed meanwhile: gone, as wanted
            except OSError as exc:  # permissions, a read-only mount: said, tried next run
                refused.append((path, exc.strerror or str(exc)))
                kept += 1
        if kept:
            continue  # not noted: a file of it is still on disk
        # one short transaction a file: a serving writer never waits on a whole sweep
        with transaction(db):
            db.execute(MARK_SQL, (call_id, name, kind, stamp, ms))
    return Removed(deleted, missing, tuple(refused))
