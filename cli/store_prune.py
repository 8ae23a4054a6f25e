"""`ccf store prune`: delete old calls (keeping the report rollups) and old recording and
voicemail files. Reads options and prints; runtime.operations.store_prune and retention work."""

from __future__ import annotations

import typer

from ccdsl.cli.common import ConfigOption, StoreOption, connect_store, fail, store_target, write
from ccdsl.cli.exit_codes import PROBLEMS, UNREACHABLE, USAGE


def prune(
    before: str = typer.Option(None, "--before", metavar="DATE", show_default=False,
                               help="Delete the calls that ended before DATE (2026-01-01: "
                                    "midnight in the centre's zone; or a date and time) with "
                                    "their events and rows; the report rollups stay."),
    recordings_before: str = typer.Option(
        None, "--recordings-before", metavar="DATE", show_default=False,
        help="Delete the recording files of calls recorded before DATE; the store and the CRM "
             "then say when each was removed."),
    voicemail_before: str = typer.Option(
        None, "--voicemail-before", metavar="DATE", show_default=False,
        help="Delete the voicemail files of messages left before DATE, likewise."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Count what would be removed; delete nothing."),
    recordings: str = typer.Option(None, "--recordings", metavar="DIR", show_default=False,
                                   help="The recordings folder (voicemail under its voicemail/). "
                                        "Default: ccf.toml's \\[paths] recordings."),
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Prune the call store: old calls, and old recording and voicemail files.

    `--before` deletes the calls that ended before the date (never one in
    progress, nor one with a call-back still to dial) with their events,
    visits, legs, recordings rows and finished call-backs, the older centre
    events (but agent states) and ended runs, a few hundred calls per
    transaction so a serving centre waits only briefly. The rollups stay:
    `ccf report` over the pruned days gives the same figures. Prints the
    rows removed per table. `--recordings-before`/`--voicemail-before`
    delete the files, note each in the store and tell the CRM (an HTTP
    CRM: its recording_removed operation, docs/crm.md). Exit status: 0;
    2 for a bad date, a call store that is missing or cannot be read, or
    the CRM's token not in the environment; 4 when the store's PostgreSQL
    server does not answer; when an HTTP CRM could not be told (the next
    run tells it): 4 if it did not answer (a timeout, a failed
    connection), 1 if it answered with an error.
    """
    from ccdsl.runtime.operations.centre_time import report_zone
    from ccdsl.runtime.operations.store_prune import PruneError, cutoff, schema_version
    from ccdsl.runtime.operations.store_prune import prune as run_prune

    if before is None and recordings_before is None and voicemail_before is None:
        raise fail("nothing to prune: give --before DATE, --recordings-before DATE or "
                   "--voicemail-before DATE", USAGE)
    retention = recordings_before is not None or voicemail_before is not None
    # retention needs ccf.toml's folders and CRM: read once, and the store named from it
    loaded = _centre(config) if retention else None
    text = store_target(store or (loaded.store_path if loaded is not None else None), config)
    db = connect_store(text)
    try:
        try:
            version = schema_version(db)
        except PruneError as exc:
            raise fail(f"{_shown(text)}: {exc}", USAGE) from None
        zone = report_zone(db, None)
        moments = {}
        for flag, value in (("--before", before), ("--recordings-before", recordings_before),
                            ("--voicemail-before", voicemail_before)):
            if value is not None:
                try:
                    moments[flag] = cutoff(value, zone)
                except PruneError as exc:
                    raise fail(f"{flag}: {exc}", USAGE) from None
        if retention:
            _retention(db, version, loaded, recordings, moments, dry_run)
        if before is not None:
            moment = moments["--before"]
            done = run_prune(db, int(moment.timestamp() * 1000), dry_run=dry_run)
            verb = "would delete" if dry_run else "deleted"
            write(f"calls ended before {moment.isoformat()}: {verb}\n")
            for table, count in done.counts:
                write(f"  {table:16} {count:>9}\n")
            if done.files_left:
                # counted from the store's rows: the disk is not looked at
                write(f"  the store names {done.files_left} recording or voicemail file(s) of "
                      "these calls that retention has not removed; any still on disk would be "
                      "named by nothing after this: remove them first with "
                      "--recordings-before/--voicemail-before\n")
    finally:
        db.close()


def _retention(db, version: int, loaded, recordings: str | None, moments: dict,
               dry_run: bool) -> None:
    """`version`: the store's schema version; `loaded`: the centre's config (its recordings
    folder and CRM), None: none. The files are removed first, then the CRM is told of every
    removed file not told yet (this run's, and earlier runs' it missed): the store's untold
    rows are the record between the two."""
    from ccdsl.runtime.core.crm.config import REMOVED_KINDS, HttpConfig, SqliteConfig
    from ccdsl.runtime.core.crm.http import HttpCRM
    from ccdsl.runtime.operations.retention import (
        RetentionError,
        check_version,
        remove_files,
    )
    from ccdsl.runtime.operations.retention_crm import NOT_TOLD
    from ccdsl.terminal_text import visible

    try:
        check_version(version)
    except RetentionError as exc:
        raise fail(str(exc), USAGE) from None
    folder = recordings or (loaded.recordings_dir if loaded is not None else None)
    chosen = loaded.crm if loaded is not None else None
    crm = chosen.path if isinstance(chosen, SqliteConfig) else None
    http = HttpCRM(chosen) if isinstance(chosen, HttpConfig) else None
    tells_http = http is not None and any(http.tells_removed(k) for k in REMOVED_KINDS)
    missing = http.token_missing() if tells_http and not dry_run else None
    if missing is not None:
        # before any file is deleted: a usage error must leave everything as it was
        raise fail(f"{missing}: nothing was removed; set it to remove the files and tell the "
                   "CRM of them", USAGE)
    removed = refused = 0
    for kind, flag in (("recording", "--recordings-before"), ("voicemail", "--voicemail-before")):
        if flag not in moments:
            continue
        moment = moments[flag]
        try:
            done = remove_files(db, kind, int(moment.timestamp() * 1000), folder=folder,
                                dry_run=dry_run)
        except RetentionError as exc:
            raise fail(str(exc), USAGE) from None
        verb = "would remove" if dry_run else "removed"
        write(f"{kind} files before {moment.isoformat()}: {verb} {done.files} "
              f"({done.missing} already gone from disk)\n")
        for path, why in done.refused:
            write(f"  could not remove {visible(path)}: {why}; it is tried again next run\n")
        refused += len(done.refused)
        removed += done.files + done.missing
    if tells_http:
        _tell_http(db, http, dry_run)
    elif crm is not None:
        if not dry_run:
            _tell_sqlite(db, crm)
    elif removed and not dry_run:
        write(f"  {NOT_TOLD}\n")
        if http is not None:
            write("  configure [crm.operations.recording_removed] to tell the HTTP CRM "
                  "(docs/crm.md)\n")
    if refused:
        raise fail(f"{refused} file(s) could not be removed (above): the next run tries them "
                   "again", PROBLEMS)


def _tell_http(db, http, dry_run: bool) -> None:
    """The HTTP CRM told; when it could not be (the next run tells it), exit UNREACHABLE if it
    did not answer, PROBLEMS if it answered with an error (a 401 is not a CRM that is down)."""
    import asyncio

    from ccdsl.runtime.core.crm.config import REMOVED_KINDS
    from ccdsl.runtime.operations.retention_crm import tell_http
    from ccdsl.terminal_text import visible

    told = asyncio.run(tell_http(db, http, dry_run=dry_run))
    if dry_run:
        write(f"CRM: would tell it of {told.untold} file(s) removed earlier and not told yet "
              "(and of those this run would remove)\n")
    else:
        write(f"CRM told of removed files: {told.told}\n")
    if told.skipped:
        kinds = " or ".join(k for k in REMOVED_KINDS if not http.tells_removed(k))
        write(f"  {told.skipped} removed {kinds} file(s) not told: configure "
              "[crm.operations.recording_removed] for them (docs/crm.md)\n")
    if told.error is not None:
        # the error quotes the CRM's own answer: its control characters shown, not acted on
        raise fail(f"{visible(told.error)}; {told.untold} removed file(s) not told to the CRM "
                   "yet: the next `ccf store prune` with --recordings-before or "
                   "--voicemail-before tells it", PROBLEMS if told.answered else UNREACHABLE)


def _tell_sqlite(db, crm: str) -> None:
    """The SQLite CRM's call_log entries of every removed file not marked yet."""
    from ccdsl.runtime.operations.retention_crm import tell_sqlite

    told = tell_sqlite(db, crm)
    if told.told:
        write(f"CRM entries of removed files updated: {told.marked} ({told.told} file(s))\n")
    if told.error is not None:
        # as before schema 12: a CRM file not there tonight is marked by a later run
        write(f"  {told.error}; {told.untold} removed file(s) to mark in the CRM by the next "
              "run\n")


def _centre(config: str | None):
    """The centre's config: --config, else ./ccf.toml when there is one (None: neither)."""
    import os

    from ccdsl.cli.common import DEFAULT_CONFIG, load_centre

    if config is None and not os.path.isfile(DEFAULT_CONFIG):
        return None
    return load_centre(config)


def _shown(text: str) -> str:
    from ccdsl.runtime.operations.database import shown

    return shown(text)
