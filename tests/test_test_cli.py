"""`ccf test`, called in-process: the summary CI greps, exit codes, the
failing expectation quoted from its source with the call's trace, JUnit
XML, and plain output off a terminal."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ccf_cli import ccf, queue_flow

import ccdsl.cli.test as test_cli

ROOT = Path(__file__).resolve().parent.parent
IWS = ROOT / "examples" / "iws"


FLOW = queue_flow("demo")

TESTS = """test "li answers":
  agent li skills [general]
  call from "+8613900000000"
  expect played welcome
  expect answered by li

test "nobody answers":
  call from "+8613900000000"
  expect not played welcome
  expect queue service
"""




@pytest.fixture
def demo(tmp_path: Path) -> Path:
    flow = tmp_path / "demo.ccf"
    flow.write_text(FLOW, encoding="utf-8")
    (tmp_path / "demo.test.ccf").write_text(TESTS, encoding="utf-8")
    return flow


def summary(output: str) -> str:
    [line] = [line for line in output.splitlines() if re.fullmatch(r"\d+ passed, \d+ failed",
                                                                   line)]
    return line


def test_help() -> None:
    result = ccf("test", "--help")
    assert result.exit_code == 0
    assert "Run every test block" in result.output
    assert "--junit" in result.output
    assert "N passed, N failed" in result.output


def test_the_example_centre_passes() -> None:
    result = ccf("test", str(IWS))
    assert result.exit_code == 0, result.output
    assert summary(result.stdout) == "18 passed, 0 failed"
    assert result.stdout.count("\nok    ") + result.stdout.startswith("ok    ") == 18
    assert "trace:" not in result.stdout


def test_a_failing_test_shows_its_source_line_and_the_trace(demo: Path) -> None:
    result = ccf("test", str(demo))
    assert result.exit_code == 1
    out = result.stdout
    assert summary(out) == "1 passed, 1 failed"
    assert re.search(r"^ok    .*demo\.test\.ccf:1  li answers$", out, re.M)
    assert re.search(r"^FAIL  .*demo\.test\.ccf:7  nobody answers$", out, re.M)
    # the expectation quoted like a compiler diagnostic: where, the line, a caret
    assert "failed: expect not played welcome" in out
    assert re.search(r"--> .*demo\.test\.ccf:9:3", out)
    assert "9 |   expect not played welcome" in out
    assert "  |   ^^^^^^^^^^^^^^^^^^^^^^^^^" in out
    assert "= happened: played: welcome" in out
    # the expectation that held is not reported
    assert "failed: expect queue service" not in out
    # and the call's trace
    assert "trace:" in out
    assert re.search(r"\+00:00\.\d{3}  .*demo\.ccf:11 +plays welcome", out)


def test_a_test_file_path_runs_its_flow(demo: Path) -> None:
    result = ccf("test", str(demo.parent / "demo.test.ccf"))
    assert summary(result.stdout) == "1 passed, 1 failed"


def test_verbose_prints_every_trace() -> None:
    result = ccf("test", "-v", str(IWS))
    assert result.exit_code == 0
    assert result.stdout.count("trace:") == 18


def test_junit_xml_is_well_formed(demo: Path, tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    result = ccf("test", str(demo), "--junit", str(report))
    assert result.exit_code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    [suite] = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["li answers", "nobody answers"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "expect not played welcome"
    assert "demo.test.ccf:9" in failure.text
    assert "plays welcome" in cases[1].find("system-out").text


def test_junit_for_a_passing_run(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    assert ccf("test", str(IWS), "--junit", str(report)).exit_code == 0
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures")) == ("18", "0")


def test_a_flow_that_does_not_compile_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "broken.ccf"
    path.write_text("flow broken\non start:\n  goto nowhere\n", encoding="utf-8")
    report = tmp_path / "junit.xml"
    result = ccf("test", str(path), "--junit", str(report))
    assert result.exit_code == 1
    assert "the flow does not compile" in result.stdout
    assert "error[E100]" in result.stdout
    assert summary(result.stdout) == "0 passed, 1 failed"
    # in JUnit an error, not a failure: the flow's tests could not run at all
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    [case] = root.iter("testcase")
    assert case.get("name") == "compile"
    assert case.find("error").get("type") == "compile"
    assert "E100" in case.find("error").text


def test_a_test_that_cannot_be_set_up_fails_with_its_line(tmp_path: Path) -> None:
    # a literal state no agent has is E303 (ccf validate finds it); through a constant
    # only the run sees it
    (tmp_path / "demo.ccf").write_text(FLOW + 'const sleepy = "asleep"\n', encoding="utf-8")
    (tmp_path / "demo.test.ccf").write_text(
        'test "sleepy":\n  agent li skills [general] state sleepy\n'
        '  call from "+8613900000000"\n  expect played welcome\n', encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 1
    assert 'error: agent state "asleep" is not one of' in result.stdout
    assert '2 |   agent li skills [general] state sleepy' in result.stdout


def test_no_tests_is_its_own_status(tmp_path: Path) -> None:
    (tmp_path / "demo.ccf").write_text(FLOW, encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 5  # exit_codes.NO_TESTS, as pytest's "no tests collected"
    assert summary(result.stdout) == "0 passed, 0 failed"
    assert "no tests found" in result.stderr


def test_a_missing_path_is_exit_2(tmp_path: Path) -> None:
    result = ccf("test", str(tmp_path / "nothing.ccf"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_progress_bar_only_on_a_terminal_outside_ci(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(test_cli, "is_terminal", lambda stream: True)
    assert test_cli._progress_wanted(test_cli.PROGRESS_MIN_TESTS)
    assert not test_cli._progress_wanted(3)  # too few to wait for
    monkeypatch.setenv("CI", "true")
    assert not test_cli._progress_wanted(100)
    monkeypatch.delenv("CI")
    monkeypatch.setattr(test_cli, "is_terminal", lambda stream: False)
    assert not test_cli._progress_wanted(100)  # a pipe or a file


def test_the_progress_run_prints_the_same_results(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(test_cli, "_progress_wanted", lambda total: True)
    result = ccf("test", str(IWS))
    assert result.exit_code == 0
    assert summary(result.stdout) == "18 passed, 0 failed"
    assert "business hours: a known caller hears the welcome" in result.stdout
