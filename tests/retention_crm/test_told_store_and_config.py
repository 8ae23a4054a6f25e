"""What remembers and configures the telling: the store's schema 12 (`removed_files.crm_told`,
migrated from 11 on both back ends, the files removed before it told on the next prune), the
SQLite CRM's marks noted as told, voicemail told with its own kind, and the recording_removed
operation's configuration checked at load."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from calls.world import RECORDING, run_test_call
from ccf_cli import ccf
from http_stand_in import serving
from store_faults.rig import on_disk

from ccdsl.cli.exit_codes import USAGE
from ccdsl.runtime.core.crm.config import CrmConfigError, load_config
from ccdsl.runtime.operations.database import connect, is_postgres
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION
from retention_crm.crm_rig import (
    TOKEN,
    config,
    crm_handler,
    prune,
    told,
    untold,
    write_calls,
)

ANSWERED = "a recorded call is answered by an agent"
HTTP = {"adapter": "http", "base_url": "http://127.0.0.1:1",
        "operations": {"log_call": {"method": "POST", "url": "/calls"}}}


def version(target: str) -> int:
    [(value,)] = on_disk(target, "SELECT value FROM meta WHERE key = 'schema_version'")
    return int(value)


def columns(target: str, table: str) -> set[str]:
    if is_postgres(target):
        return {r[0] for r in on_disk(target, "SELECT column_name FROM information_schema."
                                              "columns WHERE table_schema = current_schema() "
                                              "AND table_name = ?", (table,))}
    return {r[1] for r in on_disk(target, f"PRAGMA table_info({table})")}


def _as_schema_11(target: str) -> None:
    """The store as ccdsl at schema 11 left it: no crm_told."""
    db = connect(target)
    try:
        db.execute("ALTER TABLE removed_files DROP COLUMN crm_told")
        db.execute("UPDATE meta SET value = '11' WHERE key = 'schema_version'")
    finally:
        db.close()


def test_11_to_12_by_the_command_and_the_earlier_files_told_next(store_target,
                                                                  tmp_path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    calls = write_calls(store_target, folder)
    # removed at schema 11, with no CRM to tell
    first = ccf("store", "prune", "--recordings-before", "2026-11-29", "--store", store_target,
                "--recordings", str(folder))
    assert first.exit_code == 0 and "removed 3" in first.output
    _as_schema_11(store_target)
    stale = ccf("store", "prune", "--recordings-before", "2026-11-29", "--store", store_target,
                "--recordings", str(folder))
    assert stale.exit_code == USAGE and "ccf store migrate" in stale.output
    result = ccf("store", "migrate", "--store", store_target)
    assert result.exit_code == 0, result.output
    # to this version: 12 (crm_told) and what came after it
    assert f"migrated schema version 11 -> {SCHEMA_VERSION}" in result.output
    assert version(store_target) == SCHEMA_VERSION
    assert "crm_told" in columns(store_target, "removed_files")
    assert untold(store_target) == 3  # nobody told an HTTP CRM of them at schema 11
    handler = crm_handler()
    with serving(handler) as port:
        later = prune(store_target, config(tmp_path, port))
    assert later.exit_code == 0, later.output
    assert "removed 0" in later.output and "CRM told of removed files: 3" in later.output
    assert told(handler) == sorted(calls) and untold(store_target) == 0


def test_a_sqlite_file_of_schema_11_is_brought_to_12_when_opened(tmp_path) -> None:
    from ccdsl.runtime.operations.store import CallStore

    path = str(tmp_path / "calls.db")
    CallStore(path).close()
    _as_schema_11(path)
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert "crm_told" in columns(path, "removed_files")


def test_voicemail_is_told_with_its_kind_by_its_own_operation(store_target, tmp_path) -> None:
    folder = tmp_path / "recordings"
    (folder / "voicemail").mkdir(parents=True)
    write_calls(store_target, folder)
    message = folder / "voicemail" / "m1.wav"
    message.write_bytes(b"RIFF")
    db = connect(store_target)
    try:
        db.execute("UPDATE calls SET voicemail_mailbox = 'li', voicemail_file = ? "
                   "WHERE call_id = 'c1'", (str(message.with_suffix("")),))
    finally:
        db.close()
    handler = crm_handler()
    extra = ('[crm.operations."recording_removed.voicemail"]\nmethod = "POST"\n'
             'url = "/calls/{call_id}/removed/{file}"\n')
    with serving(handler) as port:
        result = ccf("store", "prune", "--voicemail-before", "2026-11-29", "--store",
                     store_target, "--config", config(tmp_path, port, operation=False,
                                                      extra=extra),
                     env={"CCF_TEST_CRM_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert "voicemail files before" in result.output and "removed 1" in result.output
    assert "CRM told of removed files: 1" in result.output
    [(status, path, body, _)] = handler.seen
    assert (status, path) == (204, "/calls/c1/removed/m1")
    [(removed,)] = on_disk(store_target, "SELECT removed FROM removed_files")
    assert body == {"call_id": "c1", "file": "m1", "kind": "voicemail", "removed": removed[:10]}


def test_the_sqlite_crm_marks_are_noted_and_a_missing_crm_is_marked_later(tmp_path) -> None:
    work, store = tmp_path / "w", str(tmp_path / "calls.db")
    run = run_test_call(RECORDING, ANSWERED, work, store)
    file = [e for e in run.events if e.kind == "recording_started"][0].data["file"]
    Path(file).parent.mkdir(parents=True, exist_ok=True)
    Path(file).write_bytes(b"RIFF")
    toml = tmp_path / "ccf.toml"
    toml.write_text('[paths]\nrecordings = "w/recordings"\n[crm]\nadapter = "sqlite"\n'
                    'path = "w/crm.db"\n', encoding="utf-8")
    shutil.move(work / "crm.db", tmp_path / "away.db")  # the CRM's file not there tonight
    missing = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store,
                  "--config", str(toml))
    assert missing.exit_code == 0 and "no CRM database at" in missing.output
    assert untold(store) == 1
    shutil.move(tmp_path / "away.db", work / "crm.db")
    later = ccf("store", "prune", "--recordings-before", "2026-12-01", "--store", store,
                "--config", str(toml))
    assert later.exit_code == 0, later.output
    assert "CRM entries of removed files updated: 1 (1 file(s))" in later.output
    assert untold(store) == 0
    crm = sqlite3.connect(work / "crm.db")
    try:
        [(link, note)] = crm.execute("SELECT recording, recording_removed FROM call_log")
    finally:
        crm.close()
    assert link is None and note.endswith(f": {Path(file).name}")


@pytest.mark.parametrize(("operation", "message"), [
    ({"url": "/calls/{call_id}/files/{path}"},
     "crm.operations.recording_removed.url: {path} is not a placeholder of recording_removed; "
     "expected {call_id}, {file}, {kind}, {removed}, {removed_at}"),
    ({"url": "/removed", "method": "POST", "body": {"who": ["{caller}"]}},
     "crm.operations.recording_removed.body: {caller} is not a placeholder"),
    ({"url": "removed"}, "crm.operations.recording_removed.url: 'removed' must start with /"),
    ({"url": "/removed", "method": "SEND"}, "crm.operations.recording_removed.method:"),
])
def test_a_bad_recording_removed_operation_is_refused_at_load(operation, message) -> None:
    section = {**HTTP, "operations": {**HTTP["operations"], "recording_removed": operation}}
    with pytest.raises(CrmConfigError) as error:
        load_config(section)
    assert message in str(error.value)


@pytest.mark.parametrize("name", ["recording_removed.recordings", "recording_removed.call",
                                  "recording_removed.Voicemail"])
def test_recording_removed_takes_only_the_kinds_of_file(name) -> None:
    """A typo in the kind would otherwise load, and that kind's files never be told."""
    section = {**HTTP, "operations": {name: {"method": "POST", "url": "/removed"}}}
    with pytest.raises(CrmConfigError) as error:
        load_config(section)
    assert f"crm.operations: {name!r}: recording_removed takes .recording or .voicemail " \
           "(the kind of file), or neither" in str(error.value)
    for kind in ("recording", "voicemail"):
        fine = {**HTTP, "operations": {f"recording_removed.{kind}": {"url": "/removed"}}}
        assert f"recording_removed.{kind}" in load_config(fine).operations


def test_every_placeholder_of_recording_removed_is_sent() -> None:
    """The placeholders the load accepts are the arguments a request fills them from."""
    from ccdsl.runtime.core.crm.config import REMOVED_PLACEHOLDERS, removed_args

    args = removed_args("c1", "/var/rec/c1.wav", "recording", "2026-12-07T03:04:05+00:00")
    assert tuple(args) == REMOVED_PLACEHOLDERS
    assert args == {"call_id": "c1", "file": "c1.wav", "kind": "recording",
                    "removed": "2026-12-07", "removed_at": "2026-12-07T03:04:05+00:00"}


def test_the_known_operations_include_recording_removed() -> None:
    section = {**HTTP, "operations": {"recording_deleted": {"url": "/x"}}}
    with pytest.raises(CrmConfigError) as error:
        load_config(section)
    assert "'recording_deleted' is not an operation; expected one of find_customer, find, " \
           "owner, create, update, log_call, recording_removed" in str(error.value)
    fine = load_config({**HTTP, "operations": {
        "recording_removed": {"method": "DELETE", "url": "/calls/{call_id}/files/{file}"}}})
    assert fine.operations["recording_removed"].retry_safe


def test_prune_with_a_bad_operation_says_so_and_exits_2(tmp_path) -> None:
    toml = tmp_path / "ccf.toml"
    toml.write_text('[crm]\nadapter = "http"\nbase_url = "http://127.0.0.1:1"\n'
                    '[crm.operations.recording_removed]\nurl = "/c/{call}"\n', encoding="utf-8")
    result = ccf("store", "prune", "--recordings-before", "2026-11-29", "--store",
                 str(tmp_path / "calls.db"), "--config", str(toml))
    assert result.exit_code == USAGE
    assert "crm.operations.recording_removed.url: {call} is not a placeholder" in result.output


def test_the_crm_token_not_in_the_environment_is_a_usage_error(store_target, tmp_path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    write_calls(store_target, folder)
    handler = crm_handler()
    with serving(handler) as port:
        result = ccf("store", "prune", "--recordings-before", "2026-11-29", "--store",
                     store_target, "--config", config(tmp_path, port),
                     env={"CCF_TEST_CRM_TOKEN": ""})
        assert result.exit_code == USAGE
        assert "the environment variable CCF_TEST_CRM_TOKEN (crm.token_env) is not set" \
            in result.output
        assert "nothing was removed" in result.output
        # checked before anything is deleted: a usage error leaves every file where it was
        assert handler.seen == [] and len(list(folder.iterdir())) == 3
        assert on_disk(store_target, "SELECT count(*) FROM removed_files") == [(0,)]
        later = prune(store_target, config(tmp_path, port))
    assert later.exit_code == 0 and "removed 3" in later.output
    assert "CRM told of removed files: 3" in later.output and not any(folder.iterdir())
