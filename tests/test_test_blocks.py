"""Test blocks (E303): the clock, the call, key presses and expectations,
in the flow file and in NAME.test.ccf beside it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file

FLOW = """
flow demo

prompt welcome:
  en-US tts "Welcome."

queue service skills [general] max_wait 60s

on start:
  answer
  play welcome
  goto main_menu

step main_menu:
  queue service
  hangup
"""

CODES = {"E303", "E501", "E503"}


def diags(tmp_path: Path, tests: str) -> list:
    flow = tmp_path / "demo.ccf"
    flow.write_text(FLOW.lstrip(), encoding="utf-8")
    (tmp_path / "demo.test.ccf").write_text(textwrap.dedent(tests).lstrip(), encoding="utf-8")
    return [d for d in compile_file(str(flow), lower=False).diagnostics if d.code in CODES]


def test_a_good_test_is_quiet(tmp_path: Path) -> None:
    assert diags(tmp_path, """
        test "unknown caller waits for service":
          at "2026-11-30 10:00 Asia/Shanghai"
          crm customer {phone: "+8613800000001", owner: "zhang"}
          agent li skills [general] state "available"
          call from "+8613900000000"
          press "1#" after 2s
          silence 5s
          expect played welcome
          expect not played "invalid-option"
          expect step main_menu
          expect queue service
          expect answered by li
          expect routed to li
          expect voicemail for "zhang"
          expect answered
          expect hangup
    """) == []


def test_at_strings(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "clock":
          at "2026-11-30 25:00"
          at "2026-02-30 10:00 Asia/Shangai"
          at "tomorrow at ten"
          at "2026-11-30 10:00"
          call from "+1"
    """)
    # each string is judged; past the first, each line is also a second `at` (E303)
    again = [d for d in result if "second `at` line" in d.message]
    assert [d.span.line for d in again] == [3, 4, 5]
    result = [d for d in result if d not in again]
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("E501", 2, 6), ("E501", 3, 6), ("E503", 3, 6), ("E303", 4, 6)]
    assert result[-1].message == '`at "tomorrow at ten"` is not a date and time'


def test_a_test_needs_exactly_one_call(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "no call":
          expect hangup

        test "two calls":
          call from "+1"
          call from "+2"
    """)
    assert [(d.code, d.span.line) for d in result] == [("E303", 1), ("E303", 6)]
    assert result[0].message == 'test "no call" never makes a call'
    assert result[1].notes == ("the first call is on line 5",)


def test_setup_after_the_call(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "late clock":
          call from "+1"
          at "2026-11-30 10:00"
    """)
    assert [(d.code, d.span.line) for d in result] == [("E303", 3)]
    assert "before the `call` line" in result[0].message


def test_press_keys(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "keys":
          call from "+1"
          press "12*#"
          press "1a"
          press 5
          press ""
    """)
    assert [(d.code, d.span.line) for d in result] == [("E303", 4), ("E303", 5), ("E303", 6)]
    assert "0-9, * and #" in result[0].message
    assert "written as a string" in result[1].message


def test_unknown_expectation_kind_with_suggestion(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "kinds":
          call from "+1"
          expect plaid welcome
          expect not qeueu service
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("E303", 3, 10), ("E303", 4, 14)]
    assert result[0].help.startswith("did you mean `played`?")
    assert result[1].help.startswith("did you mean `queue`?")


def test_missing_values_and_wrong_connectors(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "values":
          call from "+1"
          expect played
          expect step
          expect answered by
          expect queue for service
    """)
    assert [(d.code, d.span.line) for d in result] == [("E303", n) for n in (3, 4, 5, 6)]
    assert result[0].message == "`expect played` needs to say what is expected"
    assert result[2].message == "`expect answered by` needs to say what is expected"
    assert result[3].message == "`expect queue for` does not read right"


def test_names_in_expectations(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "names":
          agent li skills [general]
          call from "+1"
          expect played welcom
          expect queue main_menu
          expect step nowhere
          expect answered by wang
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("E303", 4, 17), ("E303", 5, 16), ("E303", 6, 15), ("E303", 7, 22)]
    assert result[0].help == "did you mean `welcome`?"
    assert result[1].message == "`expect queue`: `main_menu` is a step, not a queue"
    assert "declared by an `agent` line" in result[3].message


def test_agents_are_names_of_their_own_test_only(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        test "first":
          agent li skills [general]
          call from "+1"
          expect answered by li

        test "second":
          call from "+1"
          expect answered by li
    """)
    assert [(d.code, d.span.line) for d in result] == [("E303", 8)]


def test_an_agent_named_like_a_step_hides_neither(tmp_path: Path) -> None:
    # the agents file's id `service` and the flow's queue `service` are both in reach
    result = diags(tmp_path, """
        test "service answers":
          agent service skills [general]
          call from "+1"
          expect queue service
          expect answered by service
          expect step main_menu
    """)
    assert result == []


def test_tests_in_the_flow_file_are_checked_too(tmp_path: Path) -> None:
    flow = tmp_path / "inline.ccf"
    flow.write_text(FLOW.lstrip() + '\ntest "inline":\n  expect hangup\n', encoding="utf-8")
    result = compile_file(str(flow), lower=False).diagnostics
    assert [(d.code, d.span.line) for d in result] == [("E303", 17)]
