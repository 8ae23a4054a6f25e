"""Tests that cannot lie (issue 13), in the simulator and through ccf serve's FastAGI
server alike: a call that ended in a run-time error fails a test that does not expect
it, an HTTP request the test gives no answer for fails it, the faults a test sets reach
the flow, and each new expectation fails, saying what happened, when it is wrong.
(tests/scenarios/fault_line.ccf holds the passing side of each.)"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.testing.runner import run_test
from ccdsl.runtime.testing.via_asterisk import run_test_over_agi

ROOT = Path(__file__).resolve().parent.parent
FLOW = (ROOT / "tests" / "scenarios" / "fault_line.ccf").read_text(encoding="utf-8")
BODY = FLOW[: FLOW.index('\ntest "')]  # the flow without its own tests
RUNNERS = {"sim": run_test, "asterisk": run_test_over_agi}
OPEN = 'http get "https://status.example.com/open" body "We are open."'
OWNER = 'crm customer {phone: "+8613900000001", owner: "zhang"}'


@cache
def _compiled(tests: str, folder: str) -> dict:
    path = Path(folder) / "fault_line.ccf"
    path.write_text(BODY + "\n" + tests, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ir is not None, [d.message for d in result.diagnostics]
    return result.ir


def run(tmp_path: Path, via: str, *lines: str):
    tests = 'test "t":\n' + "".join(f"  {line}\n" for line in lines)
    ir = _compiled(tests, str(tmp_path))
    (test,) = ir["tests"]
    return RUNNERS[via](ir, test)


def failed(result) -> list[tuple[str, str]]:
    return [(o.expectation.describe(), o.happened) for o in result.outcomes if not o.passed]


@pytest.fixture(params=sorted(RUNNERS))
def via(request) -> str:
    return request.param


NULL_BALANCE = ('crm card {number: "+8613900000001"}', OPEN, 'call from "+8613900000001"')


def test_a_call_that_ended_in_an_error_fails_a_test_that_only_expects_a_hangup(
        tmp_path: Path, via: str) -> None:
    result = run(tmp_path, via, *NULL_BALANCE, "expect hangup")
    assert not result.passed
    [outcome] = [o for o in result.outcomes if not o.passed]
    assert outcome.expectation.implicit
    assert "`expect error`" in outcome.expectation.describe()
    assert outcome.happened.startswith("the call ended in an error: cannot compare null")
    assert outcome.where["line"] == BODY.splitlines().index(
        "  if card != null and card.balance > 0:") + 1


def test_expect_error_and_its_text(tmp_path: Path, via: str) -> None:
    assert run(tmp_path, via, *NULL_BALANCE, "expect error").passed
    assert run(tmp_path, via, *NULL_BALANCE, 'expect error "cannot compare"').passed
    wrong = run(tmp_path, via, *NULL_BALANCE, 'expect error "division"')
    assert [d for d, _ in failed(wrong)] == ['expect error "division"']
    said_none = run(tmp_path, via, *NULL_BALANCE, "expect not error")
    assert [d for d, _ in failed(said_none)] == ["expect not error"]
    # ruling out one error does not allow every other
    narrow = run(tmp_path, via, *NULL_BALANCE, 'expect not error "division"')
    assert [o.expectation.implicit for o in narrow.outcomes if not o.passed] == [True]
    clean = run(tmp_path, via, OPEN, 'call from "+8613900000001"', "expect error")
    assert failed(clean) == [("expect error", "the call ended with no run-time error")]


def test_an_http_request_with_no_answer_fails_the_test_though_the_flow_took_it(
        tmp_path: Path, via: str) -> None:
    result = run(tmp_path, via, 'call from "+8613900000001"', "expect step trouble")
    assert failed(result) == [
        ("an answer for every HTTP request (a test makes no real request)",
         "no `http` line of the test answers: GET https://status.example.com/open")]
    [request] = [e for e in result.events if e.kind == "http_request"]
    assert "the test declares no answer for this request" in request.data["error"]


def lookups(result) -> list[dict]:
    return [e.data for e in result.events
            if e.kind == "crm_query" and e.data["operation"] == "customer"]


def test_the_crm_faults_reach_the_flow(tmp_path: Path, via: str) -> None:
    down = run(tmp_path, via, "crm fails", 'call from "+8613900000001"', "expect step trouble")
    [query] = lookups(down)
    assert "the CRM is down" in query["error"]
    late = run(tmp_path, via, "crm times out for customer", 'call from "+8613900000001"',
               "expect step trouble")
    [query] = lookups(late)
    assert query["error"] == "the CRM did not answer customer within 3000 ms"
    # the wait is on the call's clock: the caller waited the CRM's timeout
    started = next(e.at for e in late.events if e.kind == "call_started")
    sorry = next(e.at for e in late.events if e.kind == "step_entered")
    assert (sorry - started).total_seconds() >= 3.0
    slow = run(tmp_path, via, "crm slow 2s", OPEN, 'call from "+8613900000001"',
               "expect not step trouble")
    assert slow.passed, failed(slow)
    other = run(tmp_path, via, "crm fails for card", OPEN, 'call from "+8613900000001"',
                "expect step trouble", "expect recording")
    assert other.passed, failed(other)  # the customer look-up still answered


def test_the_http_answer_is_the_one_declared(tmp_path: Path, via: str) -> None:
    result = run(tmp_path, via, 'http get "https://status.example.com/open" status 503',
                 'call from "+8613900000001"', "expect not step trouble")
    [request] = [e.data for e in result.events if e.kind == "http_request"]
    assert (request["status"], request["error"]) == (503, None)
    assert [d for d, _ in failed(result)] == ["expect not step trouble"]


def test_wrong_new_expectations_fail_saying_what_happened(tmp_path: Path, via: str) -> None:
    result = run(tmp_path, via, OWNER, "agent zhang skills [general]",
                 "agent li skills [general]", OPEN, 'call from "+8613900000001"',
                 "expect routed via queue to zhang", "expect not recording",
                 'expect crm_log "self-service"', "expect screen_pop for li",
                 "expect not wrapup", "expect priority 10", 'expect outcome "abandoned"',
                 "expect queue service priority 10")
    assert failed(result) == [
        ("expect routed via queue to zhang", "routed: zhang via owner"),
        ("expect not recording", f"recordings: {_recording(result)}"),
        ('expect crm_log "self-service"', "CRM call log entries, by outcome: agent"),
        ("expect screen_pop for li", "screen pops for: zhang"),
        ("expect not wrapup", "wrap-up forms for: zhang"),
        ("expect priority 10", "the call joined no queue"),
        ('expect outcome "abandoned"', "outcome: answered, hangup"),
        ("expect queue service priority 10", "the call joined no queue"),
    ]


def test_a_queue_joined_at_another_priority_fails_saying_which(tmp_path: Path,
                                                               via: str) -> None:
    away = ('crm customer {phone: "+8613900000001", owner: "zhang"}',
            'agent zhang skills [general] state "offline"', "agent li skills [general]", OPEN,
            'call from "+8613900000001"')
    assert run(tmp_path, via, *away, "expect queue service priority 10").passed
    result = run(tmp_path, via, *away, "expect queue service priority 5",
                 "expect not queue service priority 10")
    assert failed(result) == [
        ("expect queue service priority 5", "queues joined: service priority 10"),
        ("expect not queue service priority 10", "queues joined: service priority 10"),
    ]


def _recording(result) -> str:
    return next(e.data["file"] for e in result.events if e.kind == "recording_started")
