"""Values judged from the text: E500 ranges, E501 times and dates, E502
overlapping hours, E503 zones, E504 days, E505 limits, E506 patterns."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file

CODES = {"E500", "E501", "E502", "E503", "E504", "E505", "E506"}


def diags(tmp_path: Path, text: str) -> list:
    path = tmp_path / "flow.ccf"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return [d for d in compile_file(str(path), lower=False).diagnostics if d.code in CODES]


def hours(tmp_path: Path, *lines: str, tz: str = "Asia/Shanghai") -> list:
    body = "\n".join("  " + line for line in lines)
    return diags(tmp_path, f'flow demo\n\nhours office tz "{tz}":\n{body}\n\n'
                           "on start:\n  hangup\n")


def codes_at(result) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result]


def test_good_hours_are_quiet(tmp_path: Path) -> None:
    assert hours(tmp_path, "mon-fri 09:00-12:00, 12:00-18:00", "fri 18:00-20:00",
                 "sat 10:00-16:00", "sun 00:00-24:00",
                 'closed 2026-10-01..2026-10-07 "National Day"', "closed 2026-10-08",
                 "open 2026-10-03 10:00-12:00") == []


def test_touching_ranges_on_separate_lines_do_not_overlap(tmp_path: Path) -> None:
    assert hours(tmp_path, "mon-fri 09:00-18:00", "mon-fri 18:00-20:00") == []


def test_overlapping_weekly_lines(tmp_path: Path) -> None:
    result = hours(tmp_path, "mon-fri 09:00-18:00", "fri-sat 17:00-20:00")
    assert codes_at(result) == [("E502", 5, 11)]
    assert result[0].message == "the hours 17:00-20:00 overlap 09:00-18:00 (line 4) on fri"


def test_overlap_within_one_line_and_wrapping_day_range(tmp_path: Path) -> None:
    result = hours(tmp_path, "sat-mon 09:00-12:00, 11:00-13:00")
    assert [d.code for d in result] == ["E502"]
    assert result[0].message.endswith("(earlier on this line) on mon, sat, sun")


def test_overlapping_closed_dates(tmp_path: Path) -> None:
    result = hours(tmp_path, "closed 2026-10-01..2026-10-07", "closed 2026-10-07")
    assert codes_at(result) == [("E502", 5, 10)]
    assert result[0].notes == ("line 4: closed 2026-10-01..2026-10-07",)


def test_empty_hours_and_date_ranges_are_impossible_ranges(tmp_path: Path) -> None:
    result = hours(tmp_path, "mon 18:00-09:00", "tue 09:00-09:00", "closed 2026-10-07..2026-10-01")
    assert codes_at(result) == [("E500", 4, 7), ("E500", 5, 7), ("E500", 6, 10)]
    assert "18:00-24:00" in result[0].help


def test_bad_times_and_dates(tmp_path: Path) -> None:
    result = hours(tmp_path, "mon 09:00-25:00", "tue 12:60-13:00", "wed 24:00-24:00",
                   "closed 2026-02-30", "closed 2026-13-01")
    assert [(d.code, d.span.line) for d in result] == [
        ("E501", 4), ("E501", 5), ("E501", 6), ("E501", 7), ("E501", 8)]
    assert "no hour 25" in result[0].message
    assert "no minute 60" in result[1].message
    assert "has no day 30" in result[3].message
    assert "no month 13" in result[4].message


def test_leap_day_is_a_date(tmp_path: Path) -> None:
    assert hours(tmp_path, "closed 2028-02-29") == []


def test_times_in_expressions(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          if now() > 23:59 or now() < 24:00:
            hangup
          hangup
    """)
    assert codes_at(result) == [("E501", 4, 31)]


def test_unknown_time_zone_with_suggestion(tmp_path: Path) -> None:
    result = hours(tmp_path, "mon 09:00-18:00", tz="Asia/Shangai")
    assert codes_at(result) == [("E503", 3, 17)]
    assert result[0].help.startswith("did you mean `Asia/Shanghai`?")


def test_zone_abbreviation_is_not_a_zone(tmp_path: Path) -> None:
    result = hours(tmp_path, "mon 09:00-18:00", tz="CST")
    assert [d.code for d in result] == ["E503"]
    assert "abbreviations" in result[0].help


def test_known_zones(tmp_path: Path) -> None:
    for zone in ("UTC", "Europe/Berlin", "America/New_York"):
        assert hours(tmp_path, "mon 09:00-18:00", tz=zone) == []


def test_unknown_days(tmp_path: Path) -> None:
    result = hours(tmp_path, "Monday-fri 09:00-18:00", "daily 08:00-09:00", "sat, sn 10:00-11:00")
    assert codes_at(result) == [("E504", 4, 3), ("E504", 5, 3), ("E504", 6, 8)]
    assert result[0].help.startswith("did you mean `mon`?")
    assert result[1].help.startswith("write `mon-sun`")
    assert result[2].help.startswith("did you mean `sun`?")


def test_collect_digit_ranges(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          a = collect digits 8..6 timeout 5s
          b = collect digits 0 timeout 5s
          c = collect digits 6..8 timeout 5s
          d = collect digits 1..1 timeout 5s
          hangup
    """)
    assert codes_at(result) == [("E500", 4, 22), ("E500", 5, 22)]
    assert result[0].help == "write the smaller value first: `digits 6..8`"


def test_option_limits(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        queue service skills [general] max_wait 60s priority 101

        on start:
          a = collect digits 4 timeout 0s retries 11
          menu retries -1 timeout -5s:
            timeout, invalid -> hangup
            exhausted -> hangup
          queue service priority 2.5 max_wait 0s
          wait 0s
          hangup
    """)
    assert [(d.code, d.span.line, d.message.split(":")[0]) for d in result] == [
        ("E505", 3, "`priority 101` is out of range"),
        ("E505", 6, "`timeout 0s`"),
        ("E505", 6, "`retries 11` is out of range"),
        ("E505", 7, "`retries -1` is out of range"),
        ("E505", 7, "`timeout -5s`"),
        ("E505", 10, "`priority 2.5` is out of range"),
        ("E505", 11, "`wait 0s` does not wait"),
    ]


def test_limits_at_their_edges_are_fine(tmp_path: Path) -> None:
    assert diags(tmp_path, """
        flow demo

        queue service skills [general] max_wait 0s priority 100 announce_position every 30s

        on start:
          a = collect digits 4 timeout 1s retries 0
          b = collect digits 4 timeout 1s retries 10
          queue service priority 0
          hangup
    """) == []


def test_invalid_regex(tmp_path: Path) -> None:
    result = diags(tmp_path, """
        flow demo

        on start:
          a = collect digits 6 pattern "[0-9" timeout 5s
          b = collect digits 6 pattern "^[0-9]{6}$" timeout 5s
          hangup
    """)
    assert codes_at(result) == [("E506", 4, 32)]
    assert "unterminated character set" in result[0].message
