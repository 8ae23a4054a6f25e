"""`ccf test` in CI, called in-process: -k selection, --fail-fast, --format json
(checked against its JSON Schema), --durations, and the JUnit XML that Jenkins,
GitLab and GitHub's reporters read, run through the simulator and --via asterisk."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from ccf_cli import ccf, queue_flow

import ccdsl.cli.test as test_cli
from ccdsl.runtime.testing.json_report import schema

FLOW = queue_flow("desk")

# five tests: the second and the fourth fail
TESTS = """test "Li answers":
  agent li skills [general]
  call from "+8613900000000"
  expect answered by li

test "nobody answers":
  call from "+8613900000000"
  expect not played welcome

test "welcome is played":
  call from "+8613900000000"
  expect played welcome

test "queued for service":
  call from "+8613900000000"
  expect not queue service

test "not found: the caller queues":
  call from "+8613900000000"
  expect queue service
"""
NAMES = ["Li answers", "nobody answers", "welcome is played", "queued for service",
         "not found: the caller queues"]
FAILING = {"nobody answers", "queued for service"}

# a module: a flow file without tests, which is no suite of the JUnit report
MODULE = """flow helpers:
  languages en-US

prompt bye:
  en-US tts "Bye."

on start:
  play bye
  hangup
"""

TIME = re.compile(r"\d+\.\d{4}")


@pytest.fixture
def desk(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (tmp_path / "desk.test.ccf").write_text(TESTS, encoding="utf-8")
    (tmp_path / "helpers.ccf").write_text(MODULE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the reports' paths are relative to the working directory
    return tmp_path


def summary(output: str) -> str:
    [line] = [line for line in output.splitlines() if re.match(r"\d+ passed, \d+ failed", line)]
    return line


def ran(output: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"^(ok  |FAIL)  \S+  (.*?)(  \(\d+\.\d\ds\))?$",
                                            output, re.M)]


def json_run(*args: str) -> tuple[int, dict]:
    result = ccf("test", *args, "--format", "json")
    document = json.loads(result.stdout)  # the whole of stdout is the one document
    jsonschema.validate(document, schema())
    assert document["exit_status"] == result.exit_code
    return result.exit_code, document


# ---- -k ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "selected"), [
    ("li", ["Li answers"]),  # any case
    ("LI ANSWERS", ["Li answers"]),
    ("desk.test.ccf::nobody", ["nobody answers"]),  # the file is part of the id
    ("welcome is", ["welcome is played"]),  # words side by side are one phrase
    ("answers and not li", ["nobody answers"]),
    ("li or played", ["Li answers", "welcome is played"]),
    ("not answers and not (played or queue)", []),
    ("'not found'", ["not found: the caller queues"]),  # quotes make `not` a word
    ("queue and not 'not found'", ["queued for service"]),
    ("", NAMES),  # an empty -k is no filter (a CI variable left empty)
])
def test_k_selects_by_file_and_name(desk: Path, expression: str, selected: list[str]) -> None:
    result = ccf("test", ".", "-k", expression)
    if not selected:
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith(f"error: -k {expression!r} selects none of the 5 tests")
        return
    assert ran(result.stdout) == selected
    assert result.exit_code == (1 if FAILING & set(selected) else 0)
    failed = len(FAILING & set(selected))
    deselected = 5 - len(selected)
    assert summary(result.stdout) == (f"{len(selected) - failed} passed, {failed} failed"
                                      + (f", {deselected} deselected" if deselected else ""))


@pytest.mark.parametrize(("expression", "message"), [
    ("li and", "a name is missing after `and` at column 4"),
    ("(li or played", "the bracket at column 1 is never closed"),
    ("li)", "unexpected `)` at column 3"),
    ("'li", "the quote at column 1 is never closed"),
    ("or li", "expected a name at column 1, found `or`"),
    ("li and ''", "an empty phrase '' at column 8"),
])
def test_a_k_that_does_not_parse_is_a_usage_error(desk: Path, expression: str,
                                                  message: str) -> None:
    result = ccf("test", ".", "-k", expression)
    assert result.exit_code == 2
    assert result.stderr == f"error: -k {expression!r}: {message}\n"
    assert result.stdout == ""


def test_k_is_no_python(desk: Path) -> None:
    # parsed, never evaluated: a call is no expression of ours
    result = ccf("test", ".", "-k", "__import__('os').system('false')")
    assert result.exit_code == 2
    assert result.stderr.endswith(": unexpected `(` at column 11\n")


# ---- --fail-fast -------------------------------------------------------------------------


def test_fail_fast_stops_at_the_first_failure(desk: Path) -> None:
    result = ccf("test", ".", "--fail-fast", "--junit", "junit.xml")
    assert result.exit_code == 1
    assert ran(result.stdout) == ["Li answers", "nobody answers"]
    assert summary(result.stdout) == "1 passed, 1 failed, 3 not run"
    cases = ET.parse(desk / "junit.xml").getroot().findall("testsuite/testcase")
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert skipped == ["welcome is played", "queued for service",
                       "not found: the caller queues"]
    assert "--fail-fast" in cases[2].find("skipped").get("message")
    status, document = json_run(".", "-x")
    assert status == 1
    assert [t["outcome"] for t in document["tests"]] == ["passed", "failed", "not-run",
                                                        "not-run", "not-run"]


def test_fail_fast_with_k_counts_from_the_selected_tests(desk: Path) -> None:
    result = ccf("test", ".", "-x", "-k", "not li")
    assert ran(result.stdout) == ["nobody answers"]
    assert summary(result.stdout) == "0 passed, 1 failed, 3 not run, 1 deselected"


def test_fail_fast_without_a_failure_runs_everything(desk: Path) -> None:
    result = ccf("test", ".", "-x", "-k", "li or played or 'not found'")
    assert result.exit_code == 0
    assert summary(result.stdout) == "3 passed, 0 failed, 2 deselected"


def test_fail_fast_stops_at_a_flow_that_does_not_compile(desk: Path) -> None:
    (desk / "a_broken.ccf").write_text("flow broken\non start:\n  goto nowhere\n",
                                       encoding="utf-8")
    result = ccf("test", ".", "-x")
    assert result.exit_code == 1
    assert ran(result.stdout) == []
    assert summary(result.stdout) == "0 passed, 1 failed, 5 not run"


# ---- --format json -----------------------------------------------------------------------


def test_json_lists_every_test_with_its_outcome_and_failures(desk: Path) -> None:
    status, document = json_run(".", "-k", "not played")
    assert status == 1
    assert document["selection"] == "not played"
    assert document["via"] == "sim"
    assert document["totals"] == {**document["totals"], "tests": 4, "passed": 2, "failed": 2,
                                  "errors": 0, "not_run": 0, "deselected": 1}
    tests = document["tests"]
    assert [t["name"] for t in tests] == NAMES
    assert [t["outcome"] for t in tests] == ["passed", "failed", "deselected", "failed",
                                             "passed"]
    first = tests[0]
    assert (first["id"], first["file"], first["flow"], first["line"]) == (
        "desk.test.ccf::Li answers", "desk.test.ccf", "desk.ccf", 1)
    assert first["trace"] is None and first["failures"] == []
    assert tests[2]["seconds"] == 0
    nobody = tests[1]
    assert nobody["failures"] == [{"message": "expect not played welcome",
                                   "file": "desk.test.ccf", "line": 8, "column": 3,
                                   "happened": "played: welcome"}]
    assert "plays welcome" in nobody["trace"]
    assert all(t["seconds"] > 0 for t in tests if t["outcome"] != "deselected")
    assert document["totals"]["seconds"] >= sum(t["seconds"] for t in tests)


def test_json_verbose_keeps_every_trace(desk: Path) -> None:
    _, document = json_run(".", "-v")
    assert all(t["trace"] for t in document["tests"])


def test_json_reports_a_flow_that_does_not_compile_as_an_error(desk: Path) -> None:
    (desk / "broken.ccf").write_text("flow broken\non start:\n  goto nowhere\n",
                                     encoding="utf-8")
    status, document = json_run(".")
    assert status == 1
    [error] = [t for t in document["tests"] if t["outcome"] == "error"]
    assert (error["name"], error["flow"], error["file"], error["line"]) == (
        "compile", "broken.ccf", "broken.ccf", 3)
    assert error["failures"][0]["message"] == "the flow does not compile"
    assert "broken.ccf:3:8: E100" in error["details"]
    assert document["totals"]["errors"] == 1


def test_json_stdout_is_only_json_even_where_a_bar_would_show(desk: Path,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(test_cli, "_progress_wanted", lambda total: True)
    result = ccf("test", ".", "-f", "json", "--durations", "3")
    assert json.loads(result.stdout)["totals"]["tests"] == 5
    assert "slowest" not in result.stdout


def test_json_with_no_tests_says_so_on_stderr_only(tmp_path: Path) -> None:
    (tmp_path / "helpers.ccf").write_text(MODULE, encoding="utf-8")
    result = ccf("test", str(tmp_path), "-f", "json")
    assert result.exit_code == 5  # exit_codes.NO_TESTS
    assert json.loads(result.stdout)["tests"] == []
    assert "no tests found" in result.stderr


# ---- durations ---------------------------------------------------------------------------


def test_durations_lists_the_slowest_tests(desk: Path) -> None:
    result = ccf("test", ".", "--durations", "2")
    block = result.stdout.split("slowest 2 tests:\n")[1].splitlines()[:2]
    times = [float(re.match(r"\s+(\d+\.\d{4})s  desk\.test\.ccf:\d+  ", line).group(1))
             for line in block]
    assert times == sorted(times, reverse=True)
    assert len(ccf("test", ".", "--durations", "0").stdout.split("slowest 5 tests:")) == 2


def test_a_slow_test_shows_its_time_on_its_line(desk: Path, monkeypatch) -> None:
    monkeypatch.setattr(test_cli, "SLOW_TEST_SECONDS", 0.0)
    lines = [line for line in ccf("test", ".").stdout.splitlines()
             if line.startswith(("ok  ", "FAIL"))]
    assert len(lines) == 5
    assert all(re.search(r"  \(\d+\.\d\ds\)$", line) for line in lines)


# ---- JUnit -------------------------------------------------------------------------------

# The elements and attributes of Jenkins' junit-10.xsd (xunit-plugin), which GitLab's
# and GitHub's reporters read too, plus `file` and `line` on a testcase: GitLab shows
# `file`, and GitHub's annotating actions place an annotation by both.
JUNIT_ATTRIBUTES = {
    "testsuites": ({"name", "time", "tests", "failures", "errors"}, set()),
    "testsuite": ({"name", "tests", "failures", "errors", "group", "time", "skipped",
                   "timestamp", "hostname", "id", "package", "file", "log", "url"},
                  {"name", "tests", "failures", "errors"}),
    "testcase": ({"name", "time", "classname", "group", "file", "line"}, {"name"}),
    "failure": ({"type", "message"}, set()),
    "error": ({"type", "message"}, set()),
    "skipped": ({"type", "message"}, set()),
    "system-out": (set(), set()),
}
JUNIT_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
}


def check_junit_structure(element: ET.Element) -> None:
    allowed, required = JUNIT_ATTRIBUTES[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, set(element.attrib) - allowed)
    assert required <= set(element.attrib), (element.tag, required - set(element.attrib))
    for child in element:
        assert child.tag in JUNIT_CHILDREN.get(element.tag, set()), (element.tag, child.tag)
        check_junit_structure(child)
    if element.tag in ("testsuites", "testsuite"):
        # SUREFIRE_TIME, as the schema restricts these two
        assert re.fullmatch(r"[0-9]*(\.[0-9]*)?", element.get("time", "0"))


def test_junit_has_times_counts_and_no_empty_suites(desk: Path) -> None:
    (desk / "broken.ccf").write_text("flow broken\non start:\n  goto nowhere\n",
                                     encoding="utf-8")
    result = ccf("test", ".", "--junit", "junit.xml", "-k", "not played")
    assert result.exit_code == 1
    root = ET.parse(desk / "junit.xml").getroot()
    check_junit_structure(root)
    suites = root.findall("testsuite")
    # helpers.ccf has no tests: no suite for it
    assert [s.get("name") for s in suites] == ["broken.ccf", "desk.ccf"]
    broken, tested = suites
    assert {k: broken.get(k) for k in ("tests", "failures", "errors", "skipped")} == \
        {"tests": "1", "failures": "0", "errors": "1", "skipped": "0"}
    [compile_case] = broken.findall("testcase")
    assert compile_case.get("name") == "compile"
    error = compile_case.find("error")
    assert (error.get("type"), error.get("message")) == ("compile", "the flow does not compile")
    assert "broken.ccf:3:8: E100" in error.text
    # the deselected test is not part of the report
    assert {k: tested.get(k) for k in ("tests", "failures", "errors", "skipped")} == \
        {"tests": "4", "failures": "2", "errors": "0", "skipped": "0"}
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    for suite in suites:
        assert TIME.fullmatch(suite.get("time"))
        stamp = datetime.fromisoformat(suite.get("timestamp"))
        assert stamp.tzinfo is not None
        assert suite.get("hostname")
    assert TIME.fullmatch(root.get("time"))
    cases = tested.findall("testcase")
    assert [c.get("name") for c in cases] == [n for n in NAMES if n != "welcome is played"]
    for case in cases:
        assert case.get("classname") == "desk"
        assert case.get("file") == "desk.test.ccf"
        assert TIME.fullmatch(case.get("time")) and float(case.get("time")) > 0
    assert float(tested.get("time")) >= sum(float(c.get("time")) for c in cases)
    failure = cases[1].find("failure")
    assert failure.get("type") == "expectation"
    assert failure.text.startswith("desk.test.ccf:8: expect not played welcome: "
                                   "played: welcome")
    assert "plays welcome" in cases[1].find("system-out").text


def test_junit_and_json_agree_on_the_same_run(desk: Path) -> None:
    result = ccf("test", ".", "-k", "answers or queue", "-x", "-f", "json",
                 "--junit", "junit.xml")
    document = json.loads(result.stdout)
    root = ET.parse(desk / "junit.xml").getroot()
    cases = list(root.iter("testcase"))
    assert document["totals"]["tests"] == len(cases) == int(root.get("tests"))
    assert [c.get("name") for c in cases] == [t["name"] for t in document["tests"]
                                              if t["outcome"] != "deselected"]


def test_junit_escapes_what_xml_cannot_hold(desk: Path) -> None:
    (desk / "desk.test.ccf").write_text(
        TESTS.replace('"Li answers"', '"Li <answers> & \\"more\\""'), encoding="utf-8")
    assert ccf("test", ".", "--junit", "junit.xml").exit_code == 1
    names = [c.get("name") for c in ET.parse(desk / "junit.xml").getroot().iter("testcase")]
    assert names[0] == 'Li <answers> & "more"'


# ---- --via asterisk ----------------------------------------------------------------------


def test_the_ci_options_work_through_the_fastagi_server(desk: Path) -> None:
    result = ccf("test", ".", "--via", "asterisk", "-k", "nobody or li", "-x",
                 "--junit", "junit.xml", "-f", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema())
    assert document["via"] == "asterisk"
    assert [t["outcome"] for t in document["tests"]] == ["passed", "failed", "deselected",
                                                        "deselected", "deselected"]
    assert document["tests"][1]["failures"][0]["happened"] == "played: welcome"
    assert len(list(ET.parse(desk / "junit.xml").getroot().iter("testcase"))) == 2


def test_junit_parses_whatever_a_failure_quotes() -> None:
    # a run-time error's message can quote a CRM value with control characters
    from ccdsl.runtime.testing.case_report import FAILED, CaseReport, Failure
    from ccdsl.runtime.testing.junit import junit_xml

    case = CaseReport("a.ccf", "a.test.ccf", "bell\x07", 1, FAILED, 0.5,
                      (Failure("cannot compare \x1b[31m\x00", "a.ccf", 4),))
    xml = junit_xml([case], suite_seconds={"a.ccf": 0.5}, seconds=0.5,
                    timestamp="2026-11-30T10:00:00+08:00", hostname="ci")
    element = ET.fromstring(xml).find("testsuite/testcase")
    assert element.get("name") == "bell\\x07"
    assert element.find("failure").get("message") == "cannot compare \\x1b[31m\\x00"
