"""An HTTP CRM is told when retention removes a call's recording or voicemail: `ccf store prune
--recordings-before/--voicemail-before` against a real HTTP server on 127.0.0.1, on both store
back ends. Each removed file is told once; a CRM that fails or is down is told on a later run,
nothing lost; a dry run tells nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from http_stand_in import serving
from ports import free_port
from store_faults.rig import on_disk

from ccdsl.cli.exit_codes import PROBLEMS, UNREACHABLE
from retention_crm.crm_rig import (
    ODD_FILE,
    TODAY,
    TOKEN,
    config,
    crm_handler,
    prune,
    told,
    untold,
    write_calls,
)


def _setup(store_target: str, tmp_path: Path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    return write_calls(store_target, folder), folder


def test_each_removed_file_is_told_once_encoded_with_the_token(store_target, tmp_path) -> None:
    calls, folder = _setup(store_target, tmp_path)
    handler = crm_handler()
    with serving(handler) as port:
        toml = config(tmp_path, port)
        result = prune(store_target, toml)
        assert result.exit_code == 0, result.output
        assert "removed 3 (0 already gone from disk)\n" in result.output
        assert "CRM told of removed files: 3" in result.output
        assert not any(folder.iterdir())
        again = prune(store_target, toml)
    assert again.exit_code == 0 and "CRM told of removed files: 0" in again.output
    # once each, in the order they were removed (one run's: by call id)
    assert told(handler) == sorted(calls)
    status, path, body, auth = handler.seen[0]
    assert path == "/calls/c%2F2%3Fx%3D1%23y/removed/rec%202%20%23%C3%A9.wav"
    assert body == {"kind": "recording", "on": TODAY, "note": f"removed: {ODD_FILE}"}
    assert auth == f"Bearer {TOKEN}" and TOKEN not in result.output
    assert str(folder) not in json.dumps([s[2] for s in handler.seen])  # base names only
    assert untold(store_target) == 0


def test_a_crm_answering_500_is_told_the_rest_on_the_next_run(store_target, tmp_path) -> None:
    calls, _ = _setup(store_target, tmp_path)
    handler = crm_handler()
    handler.faults[:] = [204, 500]  # the first told, the second refused
    with serving(handler) as port:
        toml = config(tmp_path, port)
        failed = prune(store_target, toml)
        # the CRM answered, with an error: not 4, which says it did not answer
        assert failed.exit_code == PROBLEMS, failed.output
        assert "CRM told of removed files: 1" in failed.output
        assert "error: CRM recording_removed (recording): the CRM answered 500" in failed.output
        assert "2 removed file(s) not told to the CRM yet" in failed.output
        assert len(handler.seen) == 2  # stopped at the failure: the third never sent
        assert untold(store_target) == 2
        result = prune(store_target, toml)
    assert result.exit_code == 0, result.output
    assert "CRM told of removed files: 2" in result.output
    assert told(handler) == sorted(calls) and untold(store_target) == 0


def test_a_crm_that_is_down_is_told_on_the_next_run(store_target, tmp_path) -> None:
    calls, _ = _setup(store_target, tmp_path)
    down = prune(store_target, config(tmp_path, free_port()))
    assert down.exit_code == UNREACHABLE, down.output
    assert "removed 3" in down.output and "Traceback" not in down.output
    assert "cannot connect to the CRM after 2 attempts" in down.output
    assert "3 removed file(s) not told to the CRM yet: the next `ccf store prune`" \
        in down.output
    handler = crm_handler()
    with serving(handler) as port:
        toml = config(tmp_path, port)
        dry = prune(store_target, toml, "--dry-run")
        assert dry.exit_code == 0 and handler.seen == []  # a dry run tells nothing
        assert "would tell it of 3 file(s) removed earlier" in dry.output
        result = prune(store_target, toml)
    assert result.exit_code == 0 and "CRM told of removed files: 3" in result.output
    assert told(handler) == sorted(calls) and untold(store_target) == 0


def test_a_crm_too_slow_to_answer_is_told_on_the_next_run(store_target, tmp_path) -> None:
    calls, _ = _setup(store_target, tmp_path)
    handler = crm_handler()
    handler.faults[:] = ["slow"]
    with serving(handler) as port:
        try:
            slow = prune(store_target, config(tmp_path, port, timeout_ms=300))
        finally:
            handler.release.set()
        assert slow.exit_code == UNREACHABLE, slow.output
        assert "the CRM did not answer within 300 ms" in slow.output
        assert "3 removed file(s) not told to the CRM yet" in slow.output
        assert len(handler.seen) == 1  # a timed-out request is not repeated, nor the rest sent
        result = prune(store_target, config(tmp_path, port))  # patient again
    assert result.exit_code == 0 and "CRM told of removed files: 3" in result.output
    assert told(handler) == sorted(calls) and untold(store_target) == 0


def test_a_dry_run_removes_and_tells_nothing(store_target, tmp_path) -> None:
    _, folder = _setup(store_target, tmp_path)
    handler = crm_handler()
    with serving(handler) as port:
        dry = prune(store_target, config(tmp_path, port), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would remove 3" in dry.output and len(list(folder.iterdir())) == 3
    assert handler.seen == []
    assert on_disk(store_target, "SELECT count(*) FROM removed_files") == [(0,)]


def test_without_the_operation_the_crm_is_told_once_it_is_configured(store_target,
                                                                     tmp_path) -> None:
    calls, _ = _setup(store_target, tmp_path)
    handler = crm_handler()
    with serving(handler) as port:
        plain = prune(store_target, config(tmp_path, port, operation=False))
        assert plain.exit_code == 0, plain.output
        assert "the CRM is not the SQLite CRM: its call log still names the removed files" \
            in plain.output
        assert "configure [crm.operations.recording_removed]" in plain.output
        assert handler.seen == [] and untold(store_target) == 3
        later = prune(store_target, config(tmp_path, port))
    assert later.exit_code == 0 and "CRM told of removed files: 3" in later.output
    assert told(handler) == sorted(calls)


def test_what_the_crm_answers_is_shown_escaped(store_target, tmp_path) -> None:
    """The CRM's own words reach the terminal (an excerpt of its answer): its control
    characters as visible escapes, never acted on (clearing the screen, retitling the window)."""
    _setup(store_target, tmp_path)
    handler = crm_handler()
    handler.faults[:] = [(400, "\x1b[2J\x1b]0;owned\x07 over\rtyped \x9b31m \u202ecba".encode())]
    with serving(handler) as port:
        result = prune(store_target, config(tmp_path, port))
    assert result.exit_code == PROBLEMS
    assert "the CRM answered 400 Bad Request: \\x1b[2J\\x1b]0;owned\\x07 over\\rtyped " \
           "\\x9b31m \\u202ecba; 3 removed file(s) not told" in result.output
    assert not any(c in result.output for c in "\x1b\x07\r\x9b\u202e")
    assert untold(store_target) == 3


@pytest.mark.parametrize("status", [401, 403])
def test_a_crm_refusing_the_token_is_a_problem_not_unreachable(store_target, tmp_path,
                                                               status) -> None:
    _setup(store_target, tmp_path)
    handler = crm_handler()
    handler.faults[:] = [status]
    with serving(handler) as port:
        toml = config(tmp_path, port)
        refused = prune(store_target, toml)
        assert refused.exit_code == PROBLEMS, refused.output
        assert f"the CRM answered {status}" in refused.output
        assert "3 removed file(s) not told to the CRM yet: the next `ccf store prune`" \
            in refused.output
        assert len(handler.seen) == 1  # a refusal is not repeated, nor the rest sent
        later = prune(store_target, toml)
    assert later.exit_code == 0 and "CRM told of removed files: 3" in later.output
