"""A duration times a huge number is a huge duration while a datetime can still hold it,
and past that a flow error the flow's `on error` handles, as overflowing arithmetic is:
never an internal error later, when the call waits or adds it to now()."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from ccf_cli import ccf
from hypothesis import given
from hypothesis import strategies as st

from ccdsl.compiler.pipeline import compile_file
from ccdsl.limits import MAX_WAIT_MS, MAX_WAIT_WORDS
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import MAX_DURATION_MS, arithmetic
from ccdsl.runtime.core.values import Duration

numbers = st.one_of(st.integers(min_value=-2**1023, max_value=2**1023),
                    st.floats(allow_nan=False, allow_infinity=False))
durations = st.builds(Duration, st.integers(min_value=-MAX_DURATION_MS, max_value=MAX_DURATION_MS))
moments = st.datetimes(timezones=st.just(dt.UTC))


def test_the_longest_duration_is_what_a_timedelta_holds():
    assert MAX_DURATION_MS == dt.timedelta.max // dt.timedelta(milliseconds=1)


@given(op=st.sampled_from("*/"), d=durations, n=numbers)
def test_a_duration_times_a_number_is_a_duration_or_a_flow_error(op: str, d: Duration, n):
    for a, b in ((d, n), (n, d)) if op == "*" else ((d, n),):
        try:
            result = arithmetic(op, a, b, None)
        except FlowError as exc:
            assert "too long" in str(exc) or "by zero" in str(exc)
            continue
        assert isinstance(result, Duration) and abs(result.ms) <= MAX_DURATION_MS


@given(op=st.sampled_from("+-"), a=durations, b=durations)
def test_durations_added_stay_in_range_or_are_a_flow_error(op: str, a: Duration, b: Duration):
    try:
        result = arithmetic(op, a, b, None)
    except FlowError as exc:
        assert "too long" in str(exc)
        return
    assert abs(result.ms) <= MAX_DURATION_MS


@given(op=st.sampled_from("+-"), moment=moments, d=durations, as_date=st.booleans())
def test_a_moment_moved_past_the_calendar_is_a_flow_error(op, moment, d, as_date):
    a = moment.date() if as_date else moment
    if as_date:
        d = Duration(d.ms - d.ms % 86_400_000)  # a date moves by whole days
    try:
        result = arithmetic(op, a, d, None)
    except FlowError as exc:
        assert "past the year 9999" in str(exc) or "before the year 1" in str(exc)
        return
    assert isinstance(result, type(a))


def _flow(tmp_path: Path, steps: str) -> Path:
    flow = tmp_path / "long.ccf"
    flow.write_text(f"""flow long:
  languages en-US

queue service skills [general]

on start:
  answer
{steps}
  play tts "after"
  hangup

on error:
  log "caught"
  hangup
""", encoding="utf-8")
    return flow


def _run(tmp_path: Path, steps: str, *options: str) -> list[dict]:
    flow = _flow(tmp_path, steps)
    result = ccf("simulate", str(flow), "-f", "json", *options)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def _caught(events: list[dict]) -> str:
    [error] = [e["data"]["message"] for e in events if e["kind"] == "error"]
    assert "internal error" not in error
    assert [e["data"]["handler"] for e in events if e["kind"] == "handler_entered"] \
        == ["start", "error"]
    assert not [e for e in events if e["kind"] == "prompt_played"]
    return error


@pytest.mark.parametrize(("steps", "message"), [
    ("  d = 1s * 100000000000000000000000000000000\n  wait d", "a duration too long"),
    ("  d = 1s * 1" + "0" * 300 + ".0\n  log \"${d}\"", "a duration too long"),
    ("  d = 1ms / 0.000000000000000000000000000000001\n  wait d", "a duration too long"),
    ("  t = now() + 1s * 1000000000000", "past the year 9999"),
    ("  t = today() - 1s * 86400 * 1000000", "before the year 1"),
    ("  d = 99999999999999h\n  wait d", "longer than a call can wait"),
    ("  d = 1s * 86400 * 365 * 9000\n  wait d", "longer than a call can wait"),
    ("  d = 25d\n  code = collect digits 4 timeout d", "longer than a call can wait"),
    ("  d = 30d\n  queue service max_wait d", "longer than a call can wait"),
])
def test_a_duration_too_long_takes_the_flows_error_path(tmp_path: Path, steps: str,
                                                        message: str):
    assert message in _caught(_run(tmp_path, steps))


def test_a_huge_duration_a_datetime_holds_is_still_a_duration(tmp_path: Path):
    events = _run(tmp_path, "  d = 1s * 1000000000\n  log \"${d.seconds}\"")
    assert not [e for e in events if e["kind"] == "error"]
    assert "1000000000" in [e["data"]["message"] for e in events if e["kind"] == "log"]


@pytest.mark.parametrize("steps", [
    "  wait 99999999999999h",
    "  wait 25d",
    "  code = collect digits 4 timeout 99999999999999h",
    "  code = collect digits 4 inter_digit 30d",
    "  queue service max_wait 9999d",
    "  queue service announce_position every 100d",
])
def test_a_literal_wait_longer_than_a_call_can_wait_is_a_compile_error(tmp_path: Path,
                                                                        steps: str):
    # Asterisk reads its timeouts as a C int of milliseconds: 24 days 20 hours at most
    [problem] = [d for d in compile_file(str(_flow(tmp_path, steps)), lower=False).diagnostics
                 if d.is_error]
    assert problem.code == "E505" and "longer than a call can wait" in problem.message
    assert "24 days" in (problem.help or "")


def test_the_longest_wait_a_call_can_make_compiles(tmp_path: Path):
    flow = _flow(tmp_path, "  code = collect digits 4 timeout 24d\n  wait 2147483647ms")
    assert not [d for d in compile_file(str(flow), lower=False).diagnostics if d.is_error]


def test_a_last_agent_look_back_longer_than_the_calendar_means_ever(tmp_path: Path):
    # `within` looks back over the caller's history: no call waits that long
    flow = tmp_path / "back.ccf"
    flow.write_text("""flow back:
  languages en-US

routing to_them:
  last_agent of caller ring 15s within 99999999999999h
  queue service

queue service skills [general]

on start:
  answer
  route to_them
  hangup
""", encoding="utf-8")
    assert not [d for d in compile_file(str(flow), lower=False).diagnostics if d.is_error]
    result = ccf("simulate", str(flow), "-f", "json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert not [e for e in events if e["kind"] == "error"]


def test_the_longest_wait_in_words_is_the_longest_wait():
    longest = dt.timedelta(milliseconds=MAX_WAIT_MS)
    assert (longest.days, longest.seconds // 3600) == (24, 20)
    assert MAX_WAIT_WORDS == "24 days 20 hours"
