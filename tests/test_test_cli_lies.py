"""`ccf test` and `ccf validate` on tests that could lie (issue 13): a broken test
block fails alone, an orphaned NAME.test.ccf is an error, a call that ended in an
error fails its test with the failing source line, and "no tests" names the flows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ccf_cli import ccf

FLOW = """flow demo:
  languages en-US

record card:
  number: text
  balance: number

prompt welcome:
  en-US tts "Welcome."

on start:
  answer
  play welcome
  card = crm.find("card", number: caller.number) on error -> hangup
  if card != null and card.balance > 0:
    play welcome
  hangup
"""

GOOD = """test "a caller with a balance":
  crm card {number: "+8613900000001", balance: 5}
  call from "+8613900000001"
  expect played welcome
"""


def summary(output: str) -> str:
    [line] = [line for line in output.splitlines()
              if re.fullmatch(r"\d+ passed, \d+ failed", line)]
    return line


def write(folder: Path, tests: str, name: str = "demo") -> Path:
    (folder / f"{name}.ccf").write_text(FLOW, encoding="utf-8")
    (folder / f"{name}.test.ccf").write_text(tests, encoding="utf-8")
    return folder


def test_a_call_that_ended_in_an_error_fails_and_shows_the_failing_line(tmp_path: Path) -> None:
    write(tmp_path, GOOD + '\ntest "no balance":\n  crm card {number: "+8613900000001"}\n'
                           '  call from "+8613900000001"\n  expect hangup\n')
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 1
    assert summary(result.stdout) == "1 passed, 1 failed"
    assert "failed: no run-time error (a test fails on one unless it says `expect error`)" \
        in result.stdout
    assert "15 |   if card != null and card.balance > 0:" in result.stdout
    assert "happened: the call ended in an error: cannot compare null" in result.stdout


def test_a_wrong_expectation_fails_only_its_own_test(tmp_path: Path) -> None:
    write(tmp_path, GOOD + '\ntest "a typo":\n  call from "+8613900000001"\n'
                           '  expect crm cart\n\n' + GOOD.replace("a caller", "another caller"))
    report = tmp_path / "junit.xml"
    result = ccf("test", str(tmp_path), "--junit", str(report))
    assert result.exit_code == 1
    assert summary(result.stdout) == "2 passed, 1 failed"
    assert "FAIL" in result.stdout and "a typo" in result.stdout
    assert "error[E109]: `expect crm`: unknown record type `cart`" in result.stdout
    assert "help: did you mean `card`?" in result.stdout
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "0", "1")
    [case] = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert case.get("name") == "a typo"
    assert case.find("error").get("type") == "compile"
    assert "E109" in case.find("error").text
    # validate still reports it, and fails
    checked = ccf("validate", str(tmp_path))
    assert checked.exit_code == 1
    assert "unknown record type `cart`" in checked.stdout


def test_an_error_in_the_flow_itself_still_fails_the_whole_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    (tmp_path / "demo.ccf").write_text(FLOW.replace("hangup\n", "goto nowhere\n", 1),
                                       encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 1
    assert "the flow does not compile" in result.stdout
    assert summary(result.stdout) == "0 passed, 1 failed"


def test_an_orphaned_test_file_is_an_error_for_test_and_validate(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="cards")
    (tmp_path / "card.test.ccf").write_text(GOOD, encoding="utf-8")  # its flow was renamed
    for args in (("test", str(tmp_path)), ("test", str(tmp_path / "card.test.ccf"))):
        result = ccf(*args)
        assert result.exit_code == 1, args
        assert "FAIL  " in result.stdout
        assert "no flow beside this test file to run its tests against" in result.stdout
        assert ("error[E306]: `card.test.ccf` has no flow beside it: its tests are for "
                "`card.ccf`, which does not exist") in result.stdout
        assert "did you mean `cards.ccf`?" in result.stdout
    assert summary(ccf("test", str(tmp_path / "card.test.ccf")).stdout) == "0 passed, 1 failed"
    assert summary(ccf("test", str(tmp_path)).stdout) == "1 passed, 1 failed"
    checked = ccf("validate", str(tmp_path))
    assert checked.exit_code == 1
    assert "error[E306]" in checked.stdout


def test_no_tests_names_the_flows_it_looked_in(tmp_path: Path) -> None:
    (tmp_path / "demo.ccf").write_text(FLOW, encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 5  # exit_codes.NO_TESTS: a renamed flow's tests are not "ok"
    assert summary(result.stdout) == "0 passed, 0 failed"
    assert f"no tests found in 1 flow ({tmp_path / 'demo.ccf'})" in result.stderr
