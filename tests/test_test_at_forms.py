"""A test block's `at "..."` accepts exactly the moments `--at` reads (one definition of
the forms, ccdsl/moment_forms.py): ISO 8601 as ccf prints it as well as
"2026-11-30 10:00 Asia/Shanghai"; what `--at` refuses, the compiler refuses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from ccf_cli import ccf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_test_blocks import diags

from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.moments import moment_text
from ccdsl.runtime.sim.script import parse_at

ACCEPTED = [
    "2026-11-30T10:00+08:00", "2026-11-30T10:00:00+08:00", "2026-11-30T02:00Z",
    "2026-11-30T02:00:00.000+00:00", "2026-11-30 10:00 +08:00", "2026-11-30T10:00+0800",
    "2026-11-30T10:00 Asia/Shanghai", "2026-11-30 02:00 UTC", "2026-11-30 10:00:30",
    "2026-11-30 3:00+01:00", "2026-11-30 10:00", "2026-11-30 10:00 Asia/Shanghai",
]
REFUSED = [
    "tomorrow", "2026-11-30T10:00+08:00 Asia/Shanghai", "2026-11-30T25:00Z",
    "2026-11-30T10:00+25:00", "2026-11-30 10:61", "2026-02-30 10:00", "2026-11-30 10:00:60",
    "2026-11-30 10:00 Mars/Base", "2026-11-30", "10:00",
]


def _test_block(at: str) -> str:
    return f'test "clock":\n  at "{at}"\n  call from "+8613900000000"\n  expect hangup\n'


@pytest.mark.parametrize("text", ACCEPTED)
def test_what_at_reads_a_test_accepts(tmp_path: Path, text: str) -> None:
    parse_at(text)
    assert diags(tmp_path, _test_block(text)) == []


@pytest.mark.parametrize("text", REFUSED)
def test_what_at_refuses_a_test_refuses(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError):
        parse_at(text)
    found = diags(tmp_path, _test_block(text))
    assert found and found[0].span.line == 2, (text, found)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)),
       st.sampled_from(["UTC", "Asia/Shanghai", "America/St_Johns", "Asia/Kathmandu"]),
       st.booleans())
def test_every_moment_ccf_prints_is_a_tests_at(tmp_path: Path, naive: datetime, zone: str,
                                                iso: bool) -> None:
    moment = naive.replace(tzinfo=ZoneInfo(zone))
    text = moment.isoformat() if iso else moment_text(moment)
    assert diags(tmp_path, _test_block(text)) == [], text


def test_a_test_at_in_iso_8601_runs(tmp_path: Path) -> None:
    """The clock of the call is the instant the test names: a flow open 09:00-18:00 in
    Shanghai is open at 02:00Z (10:00 there) and closed at 12:00Z (20:00 there)."""
    (tmp_path / "open.ccf").write_text(
        'flow open\n\nhours office tz "Asia/Shanghai":\n  mon-fri 09:00-18:00\n\n'
        'prompt welcome:\n  en-US tts "Welcome."\n\nprompt closed:\n  en-US tts "Closed."\n\n'
        'on start:\n  answer\n  if office.open():\n    play welcome\n  else:\n'
        '    play closed\n  hangup\n', encoding="utf-8")
    (tmp_path / "open.test.ccf").write_text(
        'test "open":\n  at "2026-11-30T02:00Z"\n  call from "+8613900000000"\n'
        '  expect played welcome\n\n'
        'test "closed":\n  at "2026-11-30T20:00:00+08:00"\n  call from "+8613900000000"\n'
        '  expect played closed\n', encoding="utf-8")
    result = ccf("test", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2 passed" in result.output, result.output
