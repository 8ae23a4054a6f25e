"""Recording and voicemail retention: `ccf store prune --recordings-before/--voicemail-before`
deletes the old files inside the recordings folder only, notes when in the store (`ccf calls
show` says "removed on DATE") and turns the CRM's call_log link into a removal note."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from calls.world import RECORDING, run_test_call
from ccf_cli import ccf

from ccdsl.cli.exit_codes import USAGE
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.retention import remove_files
from ccdsl.runtime.operations.retention_crm import tell_sqlite

ANSWERED = "a recorded call is answered by an agent"
TODAY = datetime.now(UTC).date().isoformat()


def _recorded(tmp_path: Path) -> tuple[str, str, str, Path]:
    """A recorded, answered call logged to the SQLite CRM, its file on disk."""
    work, store = tmp_path / "w", str(tmp_path / "calls.db")
    run = run_test_call(RECORDING, ANSWERED, work, store)
    file = [e for e in run.events if e.kind == "recording_started"][0].data["file"]
    Path(file).parent.mkdir(parents=True, exist_ok=True)
    Path(file).write_bytes(b"RIFF")
    return store, run.result.call_id, file, work


def test_recordings_before_a_date_are_removed_noted_and_unlinked_in_the_crm(tmp_path) -> None:
    store, call_id, file, work = _recorded(tmp_path)
    kept = ccf("store", "prune", "--recordings-before", "2026-11-30", "--store", store,
               "--recordings", str(work / "recordings"))
    assert kept.exit_code == 0 and "removed 0" in kept.output and Path(file).exists()
    dry = ccf("store", "prune", "--recordings-before", "2026-12-01", "--dry-run", "--store",
              store, "--recordings", str(work / "recordings"))
    assert "would remove 1" in dry.output and Path(file).exists()
    result = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store,
                 "--recordings", str(work / "recordings"))
    assert result.exit_code == 0, result.output
    assert "removed 1 (0 already gone from disk)" in result.output
    assert not Path(file).exists()
    shown = ccf("calls", "show", call_id, "--store", store)
    assert f"({f'removed on {TODAY}'})" in shown.output
    # a second sweep finds nothing left to remove
    again = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store,
                "--recordings", str(work / "recordings"))
    assert "removed 0" in again.output


def test_the_crm_link_becomes_a_removal_note(tmp_path) -> None:
    store, _, file, work = _recorded(tmp_path)
    db = connect(store)
    try:
        done = remove_files(db, "recording", 2**62, folder=str(work / "recordings"))
        # removing touches no CRM: its entry is marked when the untold rows are told
        assert db.execute("SELECT count(*) FROM removed_files WHERE crm_told IS NULL"
                          ).fetchone()[0] == 1
        told = tell_sqlite(db, str(work / "crm.db"))
    finally:
        db.close()
    assert (done.files, told.told, told.marked) == (1, 1, 1)
    crm = sqlite3.connect(work / "crm.db")
    try:
        row = crm.execute("SELECT recording, recording_removed FROM call_log").fetchone()
    finally:
        crm.close()
    assert row == (None, f"removed on {TODAY}: {Path(file).name}")


def test_never_a_file_outside_the_recordings_folder(tmp_path) -> None:
    store, _, file, work = _recorded(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    result = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store,
                 "--recordings", str(other))
    assert "removed 0 (1 already gone from disk)" in result.output
    assert Path(file).exists()


def test_voicemail_files_and_a_missing_folder(tmp_path) -> None:
    store, call_id, file, work = _recorded(tmp_path)
    message = work / "recordings" / "voicemail" / "li" / "m1.wav"
    message.parent.mkdir(parents=True)
    message.write_bytes(b"RIFF")
    db = sqlite3.connect(store)
    with db:
        db.execute("UPDATE calls SET voicemail_mailbox = 'li', voicemail_file = ? "
                   "WHERE call_id = ?", (str(message.with_suffix("")), call_id))
    db.close()
    result = ccf("store", "prune", "--voicemail-before", "2026-12-01", "--store", store,
                 "--recordings", str(work / "recordings"))
    assert "voicemail files before" in result.output and "removed 1" in result.output
    assert not message.exists() and Path(file).exists()  # the recording is not voicemail
    shown = ccf("calls", "show", call_id, "--store", store)
    assert f"(removed on {TODAY})" in shown.output
    missing = ccf("store", "prune", "--voicemail-before", "2026-12-01", "--store", store,
                  "--recordings", str(tmp_path / "nowhere"))
    assert missing.exit_code == USAGE
    assert "recordings folder" in missing.output and "does not exist" in missing.output


def test_the_store_folder_and_crm_come_from_ccf_toml(tmp_path) -> None:
    """Without --store and --recordings, ccf.toml names all three (read once for them)."""
    store, _, file, work = _recorded(tmp_path)
    config = tmp_path / "ccf.toml"
    config.write_text(f'[paths]\nstore = "{Path(store).name}"\nrecordings = "w/recordings"\n'
                      '[crm]\nadapter = "sqlite"\npath = "w/crm.db"\n', encoding="utf-8")
    result = ccf("store", "prune", "--recordings-before", "2026-12-01", "--config", str(config),
                 env={"CCF_STORE": ""})
    assert result.exit_code == 0, result.output
    assert "removed 1 (0 already gone from disk)\nCRM entries of removed files updated: 1 " \
           "(1 file(s))" in result.output
    assert not Path(file).exists()
    broken = tmp_path / "broken.toml"
    broken.write_text("[paths]\nstore = 7\n", encoding="utf-8")
    result = ccf("store", "prune", "--recordings-before", "2026-12-01", "--config", str(broken),
                 env={"CCF_STORE": ""})
    assert result.exit_code == USAGE
    assert f"error: {broken}: paths.store: 7 is not valid" in result.output


def test_no_recordings_folder_named_says_where_to_name_one(tmp_path, monkeypatch) -> None:
    store, _, _, _ = _recorded(tmp_path)
    monkeypatch.chdir(tmp_path)  # no ccf.toml here, and no --recordings
    result = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store)
    assert result.exit_code == USAGE
    assert "None" not in result.output
    assert "no recordings folder is named: name it in ccf.toml ([paths] recordings) or with " \
           "--recordings DIR" in result.output
    gone = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store,
               "--recordings", str(tmp_path / "nowhere"))
    assert gone.exit_code == USAGE
    assert f"the recordings folder {tmp_path / 'nowhere'} does not exist" in gone.output


def test_the_files_a_prune_leaves_are_counted_as_the_store_names_them(tmp_path) -> None:
    store, _, file, _ = _recorded(tmp_path)
    result = ccf("store", "prune", "--before", "2026-12-31", "--dry-run", "--store", store)
    assert "the store names 1 recording or voicemail file(s) of these calls that retention " \
           "has not removed" in result.output
    assert "stay on disk" not in result.output  # it does not look at the disk


def test_a_file_that_cannot_be_removed_is_named_and_tried_again(tmp_path, monkeypatch) -> None:
    """A recording the disk refuses to delete (permissions, a read-only mount): the run says
    which and why, exits 1, and leaves it noted as on disk, so the next run tries again."""
    import os

    from ccdsl.cli.exit_codes import PROBLEMS
    from ccdsl.runtime.operations import retention

    store, call_id, file, work = _recorded(tmp_path)
    real_remove = os.remove

    def refuse(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(retention.os, "remove", refuse)
    refused = ccf("store", "prune", "--recordings-before", "2026-12-31", "--store", store,
                  "--recordings", str(work / "recordings"))
    assert refused.exit_code == PROBLEMS
    assert "Traceback" not in refused.output
    assert "could not remove" in refused.output and "Permission denied" in refused.output
    assert Path(file).exists()
    db = connect(store)
    assert db.execute("SELECT count(*) FROM removed_files").fetchone()[0] == 0
    db.close()
    monkeypatch.setattr(retention.os, "remove", real_remove)
    again = ccf("store", "prune", "--recordings-before", "2026-12-31", "--store", store,
                "--recordings", str(work / "recordings"))
    assert again.exit_code == 0, again.output
    assert not Path(file).exists()
