"""The caller's time in queue (issue 13): what plays while a caller waits, the keys that
take them out of the queue, `callback`, on the simulator and through ccf serve's FastAGI
server with the test peer's app_queue; the queues.conf and key contexts `ccf deploy` writes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk import in_queue as ast_in_queue
from ccdsl.runtime.asterisk.dialplan import QueueSettings
from ccdsl.runtime.testing.runner import run_test
from ccdsl.runtime.testing.via_asterisk import run_test_over_agi

FLOW = """\
flow wait:
  languages en-US

prompt still_busy:
  en-US tts "All our agents are still busy."

prompt offer:
  en-US tts "Press 2 to be called back, 1 to leave a message."

prompt booked:
  en-US tts "We will call you back."

queue service:
  skills [general]
  max_wait 10m
  messages [offer, still_busy] every 40s
  press 1 -> goto message
  press 2:
    callback reason "asked in the queue"
    play booked
    hangup

on start:
  answer
  queue service
  log "after the queue"
  hangup

step message:
  voicemail for "service"
  hangup
"""

TESTS = """\
test "a key books a call-back":
  at "2026-11-30 10:00 Asia/Shanghai"
  agent li skills [general] state "busy"
  call from "+8613800000001"
  press "2" after 85s
  expect callback for service

test "a key runs its goto":
  at "2026-11-30 10:00 Asia/Shanghai"
  agent li skills [general] state "busy"
  call from "+8613800000001"
  press "1" after 10s
  speak 5s
  expect voicemail for "service"

test "a key the queue does not declare is ignored":
  at "2026-11-30 10:00 Asia/Shanghai"
  agent li skills [general] state "busy"
  call from "+8613800000001"
  press "5" after 10s
  hangup after 50s
  expect not callback
"""


def _compiled(folder: Path, flow: str, tests: str) -> dict:
    """The IR of `flow` with its test file `tests` (indented text is dedented)."""
    (folder / "wait.ccf").write_text(flow, encoding="utf-8")
    (folder / "wait.test.ccf").write_text(textwrap.dedent(tests), encoding="utf-8")
    result = compile_file(str(folder / "wait.ccf"))
    assert result.ir is not None, result.diagnostics
    return result.ir


@pytest.fixture(scope="module")
def ir(tmp_path_factory) -> dict:
    return _compiled(tmp_path_factory.mktemp("wait"), FLOW, TESTS)


def _test(ir: dict, name: str) -> dict:
    return next(t for t in ir["tests"] if t["name"] == name)


def _kinds(events, kind: str) -> list[dict]:
    return [e.data for e in events if e.kind == kind]


RUNNERS = {"sim": lambda ir, test: run_test(ir, test),
           "asterisk": lambda ir, test: run_test_over_agi(ir, test)}


def test_the_queue_lowers_its_messages_and_keys(ir) -> None:
    queue = ir["queues"]["service"]
    assert [p["ref"] for p in queue["options"]["messages"]["prompts"]] == ["offer", "still_busy"]
    assert queue["options"]["messages"]["every"]["lit"] == 40_000
    assert sorted(queue["keys"]) == ["1", "2"]
    assert queue["keys"]["2"]["body"][0]["op"] == "callback"


@pytest.mark.parametrize("via", sorted(RUNNERS))
def test_messages_play_in_turn_and_a_key_books_a_callback(ir, via) -> None:
    result = RUNNERS[via](ir, _test(ir, "a key books a call-back"))
    assert result.passed, result.outcomes
    played = [e for e in result.events if e.kind == "prompt_played" and e.data.get("queue")]
    # one every 40 s from the join, in turn, until the key at 85 s
    assert [e.data["prompt"] for e in played] == ["offer", "still_busy"]
    start = result.events[0].at
    assert [round((e.at - start).total_seconds()) for e in played] == [40, 80]
    (key,) = _kinds(result.events, "queue_key")
    assert key == {"queue": "service", "key": "2", "waited_ms": 85_000, "position": 1}
    (booked,) = _kinds(result.events, "callback_requested")
    assert booked["queue"] == "service"
    assert booked["number"] == "+8613800000001"
    assert booked["priority"] == 0
    assert booked["joined_at"] == "2026-11-30T10:00:00+08:00"
    assert booked["waited_ms"] == 85_000
    assert booked["customer"] is None
    assert booked["reason"] == "asked in the queue"
    left = _kinds(result.events, "queue_left")
    assert [x["outcome"] for x in left] == ["key"]
    # the key's block ended the path: nothing after the queue statement ran
    assert not [e for e in result.events if e.kind == "log"]


@pytest.mark.parametrize("via", sorted(RUNNERS))
def test_a_key_block_that_jumps_leaves_the_queue_for_the_step(ir, via) -> None:
    result = RUNNERS[via](ir, _test(ir, "a key runs its goto"))
    assert result.passed, result.outcomes
    assert _kinds(result.events, "queue_key")[0]["key"] == "1"
    assert "message" in [x["step"] for x in _kinds(result.events, "step_entered")]


@pytest.mark.parametrize("via", sorted(RUNNERS))
def test_an_undeclared_key_is_lost_and_the_caller_stays(ir, via) -> None:
    result = RUNNERS[via](ir, _test(ir, "a key the queue does not declare is ignored"))
    assert result.passed, result.outcomes
    assert not _kinds(result.events, "queue_key")
    assert [x["outcome"] for x in _kinds(result.events, "queue_left")] == ["hangup"]


def test_a_key_block_that_does_not_end_the_path_goes_on_after_the_queue(tmp_path) -> None:
    flow = FLOW.replace("  press 1 -> goto message\n", "  press 1 -> log \"pressed 1\"\n")
    ir = _compiled(tmp_path, flow, """\
        test "on after the queue":
          agent li skills [general] state "busy"
          call from "+8613800000001"
          press "1" after 5s
          expect hangup
        """)
    result = run_test(ir, ir["tests"][0])
    assert result.passed, result.outcomes
    logs = [e.data["message"] for e in result.events if e.kind == "log"]
    assert logs == ["pressed 1", "after the queue"]


def test_the_position_is_announced_as_prompt_played(tmp_path) -> None:
    flow = FLOW.replace("  max_wait 10m\n",
                        "  max_wait 10m\n  announce_position every 30s\n  announce_wait true\n")
    ir = _compiled(tmp_path, flow, """\
        test "second in line":
          agent li skills [general] state "busy"
          call from "+8613800000001"
          hangup after 35s
          expect played "queue-youarenext"
        """)
    result = run_test(ir, ir["tests"][0])
    position = [e.data for e in result.events
                if e.kind == "prompt_played" and e.data.get("position")]
    # alone in the queue: "you are next", and app_queue says no wait to the next caller
    assert [(p["position"], p["expected_wait_minutes"]) for p in position] == [(1, None)]
    assert [s["text"] for s in position[0]["sounds"]] == ["queue-youarenext"]


def test_queues_conf_holds_the_wait_and_the_key_context() -> None:
    decl = {"options": {"messages": {"prompts": [{"ref": "offer", "kind": "prompt"},
                                                 {"ref": "orders.still_busy", "kind": "prompt"}],
                                     "every": {"lit": 45_500}},
                        "announce_wait": {"lit": True},
                        "announce_position": {"every": {"lit": 30_000}}},
            "keys": {"2": {}, "1": {}}}
    lines = {line.key: line.value for line in QueueSettings.from_ir("service", decl).lines()}
    assert lines["periodic-announce"] == "ccf-queue/offer,ccf-queue/orders_still_busy"
    assert lines["periodic-announce-frequency"] == "46"
    assert lines["announce-holdtime"] == "yes"
    assert lines["announce-to-first-user"] == "yes"
    assert lines["context"] == "ccf-service-keys"
    plain = {line.key: line.value for line in QueueSettings.from_ir("service", {}).lines()}
    assert plain["announce-holdtime"] == "no"
    assert not {"periodic-announce", "context", "announce-to-first-user"} & set(plain)


def test_the_iws_key_context_goes_where_a_handed_back_call_goes() -> None:
    assert ast_in_queue.key_extensions("12", "Goto(ccf-transfer,0,1)") == [
        "1,1,Goto(ccf-transfer,0,1)", "2,1,Goto(ccf-transfer,0,1)"]


def test_the_iws_example_tests_pass_on_both_runtimes() -> None:
    root = Path(__file__).resolve().parents[2] / "examples" / "iws"
    ir = compile_file(str(root / "hotline.ccf")).ir
    names = [t["name"] for t in ir["tests"] if t["name"].startswith("in the queue")]
    assert len(names) == 2
    for name in names:
        for via in sorted(RUNNERS):
            result = RUNNERS[via](ir, _test(ir, name))
            assert result.passed, (via, name, result.outcomes, result.error)


def test_a_key_after_an_earlier_queue_timeout_is_still_a_key(tmp_path) -> None:
    """app_queue sets no QUEUESTATUS on a key exit, so an earlier Queue()'s
    TIMEOUT stays on the channel: ccf serve clears it before Queue()."""
    flow = FLOW.replace("  queue service\n  log",
                        "  queue service max_wait 5s\n  queue service\n  log")
    ir = _compiled(tmp_path, flow, """\
        test "timeout, then a key":
          agent li skills [general] state "busy"
          call from "+8613800000001"
          press "2" after 20s
          expect callback for service
        """)
    result = run_test_over_agi(ir, ir["tests"][0])
    assert result.passed, (result.outcomes, result.error)
    assert [x["outcome"] for x in _kinds(result.events, "queue_left")] == ["timeout", "key"]


def test_stdlib_callback_takes_the_queue_team(tmp_path) -> None:
    """stdlib.callback hard-coded the service team for a caller without an
    owner; offer_for/book_for take the queue, offer/book still mean service."""
    (tmp_path / "line.ccf").write_text(textwrap.dedent("""\
        flow line:
          languages zh-CN, en-US

        use stdlib.callback

        const number = "+8613800000009"

        on start:
          answer
          stdlib.callback.book_for(queue: "support", customer: null, number: number, reason: "-")
          stdlib.callback.book(customer: null, number: number, reason: "-")
          hangup
        """), encoding="utf-8")
    (tmp_path / "line.test.ccf").write_text(textwrap.dedent("""\
        test "two tasks":
          call from "+8613800000009"
          expect crm callback_task
        """), encoding="utf-8")
    ir = compile_file(str(tmp_path / "line.ccf")).ir
    result = run_test(ir, ir["tests"][0])
    assert result.passed, result.outcomes
    creates = [e.data["args"] for e in result.events
               if e.kind == "crm_query" and e.data.get("operation") == "create"]
    assert [a.get("assignee") for a in creates] == ["support", "service"]
