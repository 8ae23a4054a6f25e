"""`ccf test` with the warning options validate and compile take: a CI that fails on
warnings (--warnings-as-errors, narrowed by --select/--ignore) fails in `ccf test` too,
and a warning that is ignored changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ccf_cli import WELCOME_FLOW, ccf

# W602 in the flow itself: `unused` is never read
FLOW = """flow desk:
  languages en-US

const unused = 3

prompt welcome:
  en-US tts "Welcome."

on start:
  answer
  play welcome
  hangup

test "welcome is played":
  call from "+8613900000000"
  expect played welcome
"""

# W603 (a suppression that silences nothing) inside one test block only, written
# beside WELCOME_FLOW: that test fails, the other runs
TESTS = """test "welcome is played":
  call from "+8613900000000"
  expect played welcome

test "also played":
  call from "+8613900000000"  # ccf: ignore[W206]
  expect played welcome
"""


@pytest.fixture
def desk(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_warnings_do_not_fail_a_test_run_by_default(desk: Path) -> None:
    result = ccf("test", "desk.ccf")
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout


def test_warnings_as_errors_fails_the_flow_as_validate_does(desk: Path) -> None:
    assert ccf("validate", "desk.ccf", "--warnings-as-errors").exit_code == 1
    result = ccf("test", "desk.ccf", "--warnings-as-errors")
    assert result.exit_code == 1, result.output
    assert "FAIL  desk.ccf: the flow does not compile" in result.stdout
    assert "error[W602]" in result.stdout
    assert "--warnings-as-errors" in result.stdout  # the note says why a warning failed
    assert "0 passed, 1 failed" in result.stdout


@pytest.mark.parametrize("options", [("--ignore", "W602"), ("--ignore", "W6"),
                                     ("--select", "W601"), ("--select", "W200,W601")])
def test_a_warning_not_selected_does_not_fail_the_run(desk: Path, options) -> None:
    result = ccf("test", "desk.ccf", "--warnings-as-errors", *options)
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.stdout


def test_the_warning_options_reach_the_json_report(desk: Path) -> None:
    result = ccf("test", "desk.ccf", "--warnings-as-errors", "--format", "json")
    document = json.loads(result.stdout)
    assert result.exit_code == document["exit_status"] == 1
    [case] = document["tests"]
    assert case["outcome"] == "error"
    assert "W602" in json.dumps(case)


def test_a_warning_inside_one_test_block_fails_only_that_test(tmp_path: Path,
                                                              monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(TESTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert ccf("test", ".").exit_code == 0
    result = ccf("test", ".", "--warnings-as-errors")
    assert result.exit_code == 1, result.output
    assert "ok    desk.test.ccf:1  welcome is played" in result.stdout
    assert "FAIL  desk.test.ccf:5  also played" in result.stdout
    assert "error[W603]" in result.stdout
    assert "1 passed, 1 failed" in result.stdout


@pytest.mark.parametrize(("options", "message"), [
    (("--select", "E300"), "--select `E300`: only warnings (W...) can be selected"),
    (("--ignore", "W999"), "--ignore `W999`: no diagnostic code is or starts with it"),
])
def test_a_wrong_code_is_a_usage_error(desk: Path, options, message: str) -> None:
    result = ccf("test", "desk.ccf", *options)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {message}")


def test_an_error_on_a_tests_first_line_fails_that_test_not_the_one_before(
        tmp_path: Path, monkeypatch) -> None:
    # the error is at column 1 of the second block's first line: that block's, not the first's
    (tmp_path / "desk.ccf").write_text(WELCOME_FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(
        'test "a known caller":\n  call from "+8613900000000"\n  expect played welcome\n\n'
        'test "no call":\n  expect played welcome\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".")
    assert result.exit_code == 1
    assert "ok    desk.test.ccf:1  a known caller" in result.stdout
    assert "FAIL  desk.test.ccf:5  no call" in result.stdout
    assert 'error[E303]: test "no call" never makes a call' in result.stdout
