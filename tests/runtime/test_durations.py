"""The one duration parser (runtime/core/durations.py) against the three
readers it replaced: every text each accepted, it accepts with the same
value, and every text each refused, it refuses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccdsl.runtime.core.durations import clock_text, offset_text, parse_duration_ms, seconds_text
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.operations.reports.options import OptionError, duration_ms
from ccdsl.runtime.operations.since import QueryError, parse_since

# the readers as they were, kept as oracles
_FLOW = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_FLOW_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_WITHIN = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$")
_WITHIN_MS = {"ms": 1, "s": 1000, None: 1000, "m": 60_000, "min": 60_000}
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_SINCE_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000}


def old_flow(text: str) -> int | None:
    match = _FLOW.match(text.strip())
    return None if match is None else int(float(match[1]) * _FLOW_MS[match[2]])


def old_within(text: str) -> int | None:
    match = _WITHIN.match(text.strip())
    return None if match is None else int(float(match[1]) * _WITHIN_MS[match[2]])


def old_since(text: str) -> int | None:
    match = _SINCE.match(text)
    return None if match is None else int(match[1]) * _SINCE_MS[match[2]]


def new_flow(text: str) -> int | None:
    try:
        return parse_duration_ms(text)
    except InputError:
        return None


def new_within(text: str) -> int | None:
    try:
        return duration_ms(text, "--within")
    except OptionError:
        return None


def old_within_capped(text: str) -> int | None:
    """What --within took before, less a threshold over a day, now refused
    (beyond a day it also overflowed SQLite's integers)."""
    old = old_within(text)
    return None if old is None or old > 86_400_000 else old


NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def new_since(text: str) -> int | None:
    try:
        moment = parse_since(text, NOW)
    except QueryError:
        return None
    return int((NOW - moment) / timedelta(milliseconds=1))


TABLE = ["2s", "500ms", "1.5m", "1h", "20", "20 s", " 20s ", "2 h", "1.5h", "3d", "1w",
         "30m", "2min", "2 min", "20S", "2.s", ".5s", "", " ", "s", "2ss", "2\ns", "2\n",
         "\t2h\n", "0s", "00010ms", "1e3ms", "-1s", "+1s", "2 0h", "١٢s", "2hours"]
# how far back from NOW a datetime can reach (to the year 1)
REACH_MS = int((NOW - datetime.min.replace(tzinfo=NOW.tzinfo)) / timedelta(milliseconds=1))
DAY_MS = 86_400_000
WORDS = st.text(alphabet="0123456789. \t\nsmhdwinSM", max_size=8)


@pytest.mark.parametrize("text", TABLE)
def test_each_reader_keeps_what_it_took(text: str) -> None:
    assert new_flow(text) == old_flow(text)
    assert new_within(text) == old_within_capped(text)
    if old_since(text) is not None:  # a refused span is read as a date after that
        assert new_since(text) == old_since(text)


@given(WORDS)
def test_each_reader_keeps_what_it_took_for_any_text(text: str) -> None:
    assert new_flow(text) == old_flow(text)
    assert new_within(text) == old_within_capped(text)
    span = old_since(text)
    if span is not None:
        if span <= REACH_MS - DAY_MS:
            assert new_since(text) == span
        elif span > REACH_MS:  # further back than dates go: refused with a message
            assert new_since(text) is None
    else:
        try:
            datetime.fromisoformat(text.strip())
        except ValueError:
            assert new_since(text) is None


def test_numbers_are_milliseconds_and_bools_are_refused() -> None:
    assert parse_duration_ms(2000) == 2000
    assert parse_duration_ms(1.5) == 1
    with pytest.raises(InputError):
        parse_duration_ms(True)


def test_the_formatters() -> None:
    assert seconds_text(1500) == "1.5s"
    assert seconds_text(None) == "" and seconds_text("x", "0s") == "0s"
    assert clock_text(42) == "0:42" and clock_text(3725) == "1:02:05"
    assert offset_text(-5) == "+00:00.000"
    assert offset_text(61_001) == "+01:01.001"
    assert offset_text(3_725_004) == "+1:02:05.004"
