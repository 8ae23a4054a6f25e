"""`--at` (and `--since`, `report --now`) read every way ccf itself writes a
moment: ISO 8601 with `T`, an offset or `Z`, seconds and fractions, as well
as "2026-11-30 10:00 Asia/Shanghai"; whatever ccf prints parses back to the
same instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from ccf_cli import ccf
from hypothesis import assume, given
from hypothesis import strategies as st

from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.moments import moment_text
from ccdsl.runtime.operations.log_records import iso_time
from ccdsl.runtime.operations.since import parse_since
from ccdsl.runtime.operations.status_doc import iso
from ccdsl.runtime.sim.script import parse_at

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEN = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize("text", [
    "2026-11-30T10:00+08:00", "2026-11-30T10:00:00+08:00", "2026-11-30T02:00Z",
    "2026-11-30T02:00:00Z", "2026-11-30T02:00:00.000+00:00", "2026-11-30 10:00+08:00",
    "2026-11-30 10:00 +08:00", "2026-11-30T10:00+0800", "2026-11-30 10:00 Asia/Shanghai",
    "2026-11-30T10:00 Asia/Shanghai", "2026-11-30 02:00 UTC", "2026-11-30 02:00 Z",
    "2026-11-30 10:00:00 Asia/Shanghai", "2026-11-30 3:00+01:00",
])
def test_every_form_is_the_same_instant(text: str) -> None:
    assert parse_at(text).timestamp() == TEN.timestamp(), text


def test_without_a_zone_the_default_zone_reads_it() -> None:
    assert parse_at("2026-11-30T10:00", SHANGHAI) == TEN
    assert parse_at("2026-11-30 10:00", None).tzinfo is None


@pytest.mark.parametrize("text, message", [
    ("tomorrow", '"tomorrow" is not a date and time'),
    ("2026-11-30T10:00+08:00 Asia/Shanghai", "both an offset and a time zone"),
    ("2026-11-30 10:00 Mars/Base", '"Mars/Base" is not a time zone'),
    ("2026-11-30T25:00Z", "is not a date and time"),
    ("2026-11-30T10:00+25:00", "is not a date and time"),
])
def test_what_is_no_moment_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_at(text)


ZONES = st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Europe/London",
                         "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns"])
MOMENTS = st.builds(lambda naive, zone: naive.replace(tzinfo=ZoneInfo(zone)),
                    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(8999, 1, 1)),
                    ZONES)
OFFSETS = st.builds(lambda naive, minutes: naive.replace(
    tzinfo=timezone(timedelta(minutes=minutes))),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(8999, 1, 1)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59))


def real(moment: datetime) -> bool:
    """A local time that exists and is not in a fold (a zone's name alone
    cannot say which of two it is)."""
    there = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return there.replace(tzinfo=None) == moment.replace(tzinfo=None) and not moment.fold \
        and there.utcoffset() == moment.replace(fold=1).utcoffset()


@given(st.one_of(MOMENTS, OFFSETS))
def test_what_ccf_prints_parses_back_to_the_same_instant(moment: datetime) -> None:
    # the status document, the trace's JSON, the log's stamp, the simulate note
    assert parse_at(iso(moment)).timestamp() == moment.replace(microsecond=0).timestamp()
    assert parse_at(moment.isoformat()).timestamp() == moment.timestamp()
    stamp = iso_time(moment.timestamp())
    assert parse_at(stamp).timestamp() == \
        datetime.fromisoformat(stamp).timestamp()
    assume(real(moment))
    assert parse_at(moment_text(moment)).timestamp() == moment.timestamp()


def test_simulate_takes_iso_8601_and_prints_a_moment_it_takes() -> None:
    result = ccf("simulate", "examples/iws/hotline.ccf", "--at", "2026-11-30T10:00+08:00",
                 "--press", "hangup")
    assert result.exit_code == 0, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("call at ")
    printed = first[len("call at "):].rsplit(" (", 1)[0]
    assert parse_at(printed).timestamp() == TEN.timestamp(), first


def test_since_takes_the_zone_form_too() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_since("2026-11-30 10:00 Asia/Shanghai", now) == TEN
    assert parse_since("2026-11-30T10:00+08:00", now).timestamp() == TEN.timestamp()
    assert parse_since("2026-11-30", now) == datetime(2026, 11, 30, tzinfo=UTC)
