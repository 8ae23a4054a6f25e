"""Paths through a flow: W200 unreachable steps, E201 paths without an
ending, E202-E204 menus, E205 busy loops, W206 dead statements, E207
routing rules; and the flows that must stay quiet."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file

CODES = {"W200", "E201", "E202", "E203", "E204", "E205", "W206", "E207"}


def diags(tmp_path: Path, text: str) -> list:
    path = tmp_path / "flow.ccf"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return [d for d in compile_file(str(path), lower=False).diagnostics if d.code in CODES]


def found(tmp_path: Path, text: str) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in diags(tmp_path, text)]


GOOD_MENU = """
    flow demo

    queue support skills [tech] max_wait 180s

    routing to_service:
      queue support
      otherwise -> goto closed

    on start:
      answer
      goto main_menu

    step main_menu:
      menu retries 3 timeout 5s:
        prompt tts "For sales press 1, support 2, an agent 0."
        1 -> goto sales
        2:
          queue support
          goto closed
        0 -> route to_service
        "#" -> goto main_menu
        timeout, invalid -> play tts "Sorry?"
        exhausted -> goto closed

    step sales:
      x = collect digits 4 timeout 5s
      if x == "1234":
        goto main_menu
      elif x == "0000":
        hangup
      else:
        goto sales

    step closed:
      play tts "Goodbye."
      hangup
"""


def test_a_correct_menu_flow_is_quiet(tmp_path: Path) -> None:
    assert found(tmp_path, GOOD_MENU) == []


def test_unreachable_step_points_at_its_name(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          goto a

        step a:
          hangup

        step orphan:
          hangup
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [("W200", 9, 6)]
    assert "`orphan`" in result[0].message


def test_steps_reached_through_error_paths_and_routing_otherwise(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        routing r:
          agent "li" ring 10s
          otherwise -> goto via_otherwise

        on start:
          x = crm.customer(phone: caller.number) on error -> goto via_error
          route r

        on error:
          goto from_handler

        step via_error:
          hangup

        step via_otherwise:
          hangup

        step from_handler:
          hangup
    """) == []


def test_library_modules_without_start_are_not_checked_for_reachability(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow lib

        step only_entered_from_elsewhere:
          hangup
    """) == []


def test_path_ending_in_queue_is_an_error_at_the_queue(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        queue service skills [general] max_wait 60s

        on start:
          answer
          queue service
    """)
    assert [(d.code, d.span.line) for d in result] == [("E201", 7)]
    assert result[0].message == "`on start` can end without hangup, goto or transfer"
    assert "hangup" in result[0].help and "route R" in result[0].help


def test_if_without_else_does_not_end_the_path(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          if caller.number == "1":
            hangup
    """)
    assert [(d.code, d.span.line, d.span.end_column) for d in result] == [("E201", 4, 27)]
    assert "no condition" in result[0].notes[0]


def test_if_with_open_branch_points_into_the_branch(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        on start:
          if caller.number == "1":
            hangup
          else:
            play tts "bye"
    """) == [("E201", 7)]


def test_menu_key_arm_that_continues_is_reported(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        queue support skills [tech] max_wait 60s

        on start:
          menu retries 2 timeout 5s:
            1 -> hangup
            2 -> queue support
            timeout, invalid -> play tts "Sorry?"
            exhausted -> hangup
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [("E201", 8, 10)]
    assert "menu key 2" in result[0].notes[0]


def test_menu_without_exhausted_arm_continues(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          menu retries 2 timeout 5s:
            1 -> hangup
            timeout, invalid -> play tts "Sorry?"
    """)
    assert [(d.code, d.span.line) for d in result] == [("E201", 4)]
    assert "exhausted" in result[0].notes[0]


def test_route_needs_an_otherwise_to_end_the_path(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        routing r:
          agent "li" ring 10s

        on start:
          route r
    """)
    assert [(d.code, d.span.line) for d in result] == [("E201", 7)]
    assert "no `otherwise` line" in result[0].notes[0]


def test_transfer_with_non_ending_error_action_continues(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        on start:
          transfer number "+8613800000000" on error -> play tts "Sorry."
    """) == [("E201", 4)]


def test_subs_and_hangup_handlers_may_fall_off_the_end(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        sub greet():
          play tts "Hello."

        on start:
          greet()
          hangup

        on hangup:
          log "bye"

        on answered by agent:
          screen_pop call
    """) == []


def test_menu_without_timeout_or_invalid(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          menu retries 2 timeout 5s:
            1 -> hangup
            exhausted -> hangup
    """)
    assert [(d.code, d.span.line, d.span.column, d.span.end_column) for d in result] == [
        ("E202", 4, 3, 7)]
    assert result[0].message == "this menu has no `timeout` and `invalid` paths"


def test_menu_with_only_invalid_names_the_missing_timeout(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          menu retries 2 timeout 5s:
            1 -> hangup
            invalid -> play tts "Sorry?"
            exhausted -> hangup
    """)
    assert [d.message for d in result] == ["this menu has no `timeout` path"]


def test_duplicate_menu_keys_and_paths(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          menu retries 2 timeout 5s:
            1 -> hangup
            2, 1 -> hangup
            timeout, invalid -> play tts "Sorry?"
            timeout -> play tts "Hello?"
            exhausted -> hangup
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("E203", 6, 8), ("E203", 8, 5)]
    assert result[0].notes == ("first used on line 5",)


def test_duplicate_match_patterns(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          match caller.number:
            "1" -> hangup
            1 -> hangup
            "1" -> hangup
            else -> hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("E203", 7)]
    assert "match pattern" in result[0].message


def test_invalid_menu_keys(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          menu retries 2 timeout 5s:
            10 -> hangup
            "**" -> hangup
            "*" -> hangup
            invalidd -> hangup
            timeout, invalid -> play tts "Sorry?"
            exhausted -> hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("E204", 5), ("E204", 6), ("E204", 8)]
    assert result[2].help.startswith("did you mean `invalid`?")


def test_loop_without_waiting_is_reported_once_at_the_closing_goto(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          goto a

        step a:
          play tts "a"
          goto b

        step b:
          play tts "b"
          goto a
    """)
    assert [(d.code, d.span.line) for d in result] == [("E205", 12)]
    assert result[0].message == ("the steps `a` -> `b` -> `a` can loop forever without "
                                 "waiting for the caller")


def test_self_loop_through_an_error_path(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          goto lookup

        step lookup:
          c = crm.customer(phone: caller.number) on error -> goto lookup
          hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("E205", 7)]
    assert "`lookup`" in result[0].message


def test_loop_through_routing_otherwise(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        routing r:
          agent "li" ring 10s
          otherwise -> goto again

        on start:
          goto again

        step again:
          route r
    """) == [("E205", 11)]


def test_loops_that_wait_for_the_caller_are_fine(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        on start:
          goto ask

        step ask:
          menu retries 2 timeout 5s:
            1 -> goto ask
            timeout, invalid -> play tts "Sorry?"
            exhausted -> goto again

        step again:
          code = collect digits 4 timeout 5s on error -> goto ask
          if code == "1234":
            hangup
          goto ask
    """) == []


def test_loop_through_a_sub_that_waits_is_fine(tmp_path: Path) -> None:
    assert found(tmp_path, """
        flow demo

        sub ask():
          return collect_pin()

        sub collect_pin():
          pin = collect digits 4 timeout 5s
          return pin

        on start:
          goto a

        step a:
          x = ask()
          goto a
    """) == []


def test_statement_after_terminal_statement(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          goto a
          play tts "never"
          hangup

        step a:
          if caller.number == "1":
            hangup
            log "never"
          hangup
    """)
    assert [(d.code, d.span.line) for d in result] == [("W206", 5), ("W206", 11)]
    assert result[0].notes == ("line 4 ends the path (`goto a`)",)


def test_routing_rule_kinds_and_otherwise_position(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        routing r:
          owner of customer ring 20s
          skils [tech]
          otherwise -> hangup
          agent "li"

        on start:
          customer = null
          route r
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result] == [
        ("E207", 5, 3), ("E207", 7, 3)]
    assert "unknown kind of routing line `skils`" in result[0].message
    assert result[0].help.startswith("did you mean `skills`?")
    assert "after `otherwise`" in result[1].message
