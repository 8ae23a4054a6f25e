"""The text and date builtins (first_chars, last_chars, format_date,
hours.holiday) and random.choose, at run time: their edge cases as
docs/language.md defines them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from scripted_channel import compile_flow, run_flow

from ccdsl.date_patterns import PatternError, parse
from ccdsl.runtime.core.builtins.text_dates import format_moment, holiday_name
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.services import RuntimeConfig
from ccdsl.runtime.core.values import TimeOfDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEAD = "flow t:\n  languages en-US\n\n"


def logs(tmp_path, body: str, **options) -> list[str]:
    run = run_flow(compile_flow(tmp_path, HEAD + body), **options)
    assert run.result.error is None, run.result.error
    return run.logs()


def test_first_and_last_chars_with_short_texts_numbers_and_null(tmp_path):
    assert logs(tmp_path, """\
on start:
  answer
  log last_chars("6222021234567890", 4)
  log first_chars("6222021234567890", 6)
  log last_chars("12", 4)
  log first_chars("abc", 0) + "|"
  log last_chars(12345678, 3)
  missing = [""][5]
  log last_chars(missing, 2) ?? "null stays null"
  hangup
""") == ["7890", "622202", "12", "|", "678", "null stays null"]


@pytest.mark.parametrize("count", ["-1", "2.5"])
def test_a_negative_or_fractional_count_is_a_flow_error(tmp_path, count):
    run = run_flow(compile_flow(tmp_path, HEAD + f"""\
on start:
  answer
  n = {count}
  log last_chars("1234", n)
  hangup
"""))
    assert run.result.outcome == "error"
    assert "a whole number 0 or more" in run.result.error


def test_format_date_patterns_in_both_languages():
    moment = dt.datetime(2026, 10, 1, 1, 5, 9, tzinfo=dt.UTC)  # 09:05:09 in Shanghai
    assert format_moment(moment, "YYYY-MM-DD HH:mm:ss", "en-US", SHANGHAI) == \
        "2026-10-01 09:05:09"
    assert format_moment(moment, "dddd D MMMM YY, h:mm A", "en-US", SHANGHAI) == \
        "Thursday 1 October 26, 9:05 AM"
    assert format_moment(moment, "ddd MMM DD", "en-US", SHANGHAI) == "Thu Oct 01"
    assert format_moment(moment, "YYYY年M月D日 dddd A h点", "zh-CN", SHANGHAI) == \
        "2026年10月1日 星期四 上午 9点"
    assert format_moment(moment, "MMMM ddd", "zh-CN", SHANGHAI) == "十月 周四"
    assert format_moment(moment, "[at] HH:mm", "en-US", SHANGHAI) == "at 09:05"
    assert format_moment(moment, "long", "en-US", SHANGHAI) == "October 1, 2026, 9:05 AM"
    assert format_moment(moment, "long", "zh-CN", SHANGHAI) == "2026年10月1日上午9点5分"
    assert format_moment(moment, "iso", "en-US", SHANGHAI) == "2026-10-01 09:05"
    assert format_moment(dt.date(2026, 12, 3), "long", "en-US", None) == "December 3, 2026"
    assert format_moment(TimeOfDay(21 * 60 + 30), "hh:mm A", "en-US", None) == "09:30 PM"
    assert format_moment(TimeOfDay(9 * 60), "iso", "en-US", None) == "09:00"


def test_format_date_refuses_what_a_value_does_not_have():
    with pytest.raises(FlowError, match="a time has no `YYYY`"):
        format_moment(TimeOfDay(600), "YYYY HH:mm", "en-US", None)
    with pytest.raises(FlowError, match="takes a date, a time or a datetime"):
        format_moment("2026-10-01", "YYYY", "en-US", None)
    with pytest.raises(FlowError, match="stands for nothing"):
        format_moment(dt.date(2026, 10, 1), "yyyy", "en-US", None)


def test_a_date_pattern_is_parsed_greedily_and_refuses_unknown_letters():
    assert parse("YYYYMMDD") == [("token", "YYYY"), ("token", "MM"), ("token", "DD")]
    assert parse("D日") == [("token", "D"), ("text", "日")]
    for bad in ("yyyy", "Q", "[open"):
        with pytest.raises(PatternError):
            parse(bad)


def test_format_date_reads_a_datetime_in_the_centre_zone(tmp_path):
    # the call starts at 2026-11-30 02:00 UTC: 10:00 in Shanghai
    assert logs(tmp_path, """\
on start:
  answer
  log format_date(now(), "YYYY-MM-DD HH:mm")
  hangup
""", config=RuntimeConfig(timezone="Asia/Shanghai")) == ["2026-11-30 10:00"]


HOURS = {"tz": "Asia/Shanghai", "weekly": {}, "closed": [
    {"from": "2026-10-01", "to": "2026-10-07", "label": "National Day"},
    {"from": "2026-12-25", "to": "2026-12-25", "label": None}],
    "open": [{"from": "2026-12-24", "to": "2026-12-24", "label": "Christmas Eve",
              "times": [[540, 720]]}]}


def test_holiday_name_in_the_hours_zone():
    at = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)  # 2026-10-01 01:00 in Shanghai
    assert holiday_name(HOURS, at) == "National Day"
    assert holiday_name(HOURS, dt.datetime(2026, 9, 30, 15, 0, tzinfo=dt.UTC)) is None
    assert holiday_name(HOURS, dt.datetime(2026, 12, 25, 3, 0, tzinfo=dt.UTC)) == ""
    assert holiday_name(HOURS, dt.datetime(2026, 12, 24, 3, 0, tzinfo=dt.UTC)) == \
        "Christmas Eve"


def test_holiday_method_in_a_flow(tmp_path):
    body = """\
hours office tz "Asia/Shanghai":
  mon-fri 09:00-18:00
  closed 2026-11-30 "Staff training"

on start:
  answer
  log office.holiday() ?? "none"
  log office.holiday(at: office.next_open() ?? now()) ?? "none"
  hangup
"""
    assert logs(tmp_path, body) == ["Staff training", "none"]


CHOOSE = HEAD + """\
on start:
  answer
  log random.choose(["a", "b", "c"])
  log random.choose(["x", "y"], weights: [0, 1])
  hangup
"""


def test_random_choose_is_the_same_for_a_seed_and_recorded(tmp_path):
    program = compile_flow(tmp_path, CHOOSE)
    first = run_flow(program, config=RuntimeConfig(random_seed=42))
    again = run_flow(program, config=RuntimeConfig(random_seed=42))
    assert first.logs() == again.logs()
    assert first.logs()[1] == "y"  # a weight of 0 is never chosen
    choices = first.of("random_choice")
    assert [(c.data["seed"], c.data["draw"]) for c in choices] == [(42, 1), (42, 2)]
    assert choices[0].data["chosen"] == first.logs()[0]
    assert choices[0].data["items"] == ["a", "b", "c"]


def test_random_choose_without_a_seed_draws_one_and_shows_it(tmp_path):
    run = run_flow(compile_flow(tmp_path, CHOOSE))
    seeds = {c.data["seed"] for c in run.of("random_choice")}
    assert len(seeds) == 1 and isinstance(seeds.pop(), int)


@pytest.mark.parametrize(("call", "message"), [
    ("random.choose([])", "at least one item"),
    ("random.choose([1, 2], weights: [1])", "a list of 2 numbers"),
    ("random.choose([1, 2], weights: [0, 0])", "not all 0"),
])
def test_random_choose_refuses_bad_lists(tmp_path, call, message):
    run = run_flow(compile_flow(tmp_path, HEAD + f"on start:\n  answer\n  log {call}\n  hangup\n"))
    assert run.result.outcome == "error" and message in run.result.error
