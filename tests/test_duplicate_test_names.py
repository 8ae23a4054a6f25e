"""Two tests of one flow with the same name (W605): CI reports key a test by its name,
so GitLab shows only the first of two alike and `-k` cannot tell them apart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from ccf_cli import WELCOME_FLOW, ccf

FLOW = WELCOME_FLOW + """
test "welcome is played":
  call from "+8613900000000"
  expect played welcome
"""

TESTS = """test "a known caller":
  call from "+8613900000000"
  expect played welcome

test "welcome is played":
  call from "+8613911111111"
  expect played welcome

test "Welcome is played":
  call from "+8613922222222"
  expect played welcome
"""


def test_a_name_repeated_in_the_test_file_is_w605_pointing_at_the_first(
        tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(TESTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", "desk.ccf", "--format", "json")
    assert result.exit_code == 0  # a warning: the tests still run
    [diag] = json.loads(result.stdout)
    assert (diag["code"], diag["file"], diag["line"], diag["column"]) == \
        ("W605", "desk.test.ccf", 5, 6)
    assert diag["message"] == 'the test "welcome is played" is declared twice'
    assert diag["notes"] == ['the first "welcome is played" is the test at desk.ccf:12']


def test_w605_as_an_error_fails_the_second_test_only(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(TESTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("test", ".", "--warnings-as-errors", "--junit", "report.xml")
    assert result.exit_code == 1
    assert "3 passed, 1 failed" in result.stdout
    assert "FAIL  desk.test.ccf:5  welcome is played" in result.stdout
    cases = ET.parse(tmp_path / "report.xml").getroot().iter("testcase")
    failed = [(c.get("file"), c.get("line")) for c in cases
              if c.find("failure") is not None or c.find("error") is not None]
    assert failed == [("desk.test.ccf", "5")]


def test_names_differing_in_case_are_different_tests(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(TESTS.replace(
        'test "welcome is played":\n  call from "+8613911111111"',
        'test "a caller from Shanghai":\n  call from "+8613911111111"'), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = ccf("validate", ".")
    assert result.exit_code == 0
    assert "W605" not in result.stdout
