"""Text normalised for text-to-speech per language (runtime/core/speech.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccdsl.runtime.core.speech import (
    EN_US,
    LANGUAGES,
    PLAIN,
    ZH_CN,
    en_integer,
    normaliser_for,
    spoken,
    spoken_value,
)
from ccdsl.runtime.core.values import TimeOfDay

EN = [
    ("date", "2026-12-03", "December 3, 2026"),
    ("date", "2026-01-31", "January 31, 2026"),
    ("time", "09:00", "9 AM"),
    ("time", "09:30", "9:30 AM"),
    ("time", "09:05", "9:05 AM"),
    ("time", "00:00", "12 AM"),
    ("time", "12:00", "12 PM"),
    ("time", "23:45", "11:45 PM"),
    ("time", "24:00", "12 AM"),
    ("number", "0", "zero"),
    ("number", "42", "forty-two"),
    ("number", "-3.5", "minus three point five"),
    ("number", "1005", "one thousand five"),
    ("number", "2000000", "two million"),
    ("money", "99.50", "ninety-nine dollars and fifty cents"),
    ("money", "1.00", "one dollar"),
    ("money", "0.01", "one cent"),
    ("money", "0.00", "zero dollars"),
    ("digits", "20261128", "2 0 2 6 1 1 2 8"),
    ("digits", "+86*#", "plus 8 6 star pound"),
    ("alpha", "IWS", "I W S"),
]

ZH = [
    ("date", "2026-12-03", "2026年12月3日"),
    ("date", "2026-01-31", "2026年1月31日"),
    ("time", "09:00", "上午9点"),
    ("time", "09:30", "上午9点30分"),
    ("time", "03:05", "凌晨3点5分"),
    ("time", "00:00", "凌晨12点"),
    ("time", "12:00", "中午12点"),
    ("time", "15:00", "下午3点"),
    ("time", "20:15", "晚上8点15分"),
    ("number", "0", "0"),
    ("number", "42", "42"),
    ("number", "-3.5", "负3点5"),
    ("number", "1005.250", "1005点25"),
    ("money", "99.50", "99元5角"),
    ("money", "99.05", "99元零5分"),
    ("money", "99.55", "99元5角5分"),
    ("money", "0.50", "5角"),
    ("money", "1.00", "1元"),
    ("money", "-2.00", "负2元"),
    ("digits", "2026", "2 0 2 6"),
    ("digits", "+86#", "加 8 6 井号"),
    ("alpha", "IWS", "I W S"),
]


@pytest.mark.parametrize(("kind", "text", "words"), EN)
def test_en_us(kind, text, words):
    assert spoken(kind, text, "en-US") == words


@pytest.mark.parametrize(("kind", "text", "words"), ZH)
def test_zh_cn(kind, text, words):
    assert spoken(kind, text, "zh-CN") == words


def test_money_in_another_currency():
    assert spoken("money", "12.30", "en-US", "EUR") == "twelve euros and thirty cents"
    assert spoken("money", "12.30", "en-US", "cny") == "twelve yuan and thirty fen"
    assert spoken("money", "12.30", "en-US", "XYZ") == "twelve point three XYZ"
    assert spoken("money", "12.5", "zh-CN", "USD") == "12点5美元"
    assert spoken("money", "12.5", "zh-CN", "RMB") == "12元5角"


def test_the_registry_falls_back_by_language_then_to_plain():
    assert set(LANGUAGES) >= {"en-US", "zh-CN"}
    assert normaliser_for("en-us") is EN_US
    assert normaliser_for("en-GB") is EN_US
    assert normaliser_for("zh-TW") is ZH_CN
    assert normaliser_for("zh") is ZH_CN
    assert normaliser_for("de-DE") is PLAIN
    assert normaliser_for("") is PLAIN
    assert normaliser_for(None) is PLAIN
    # a language without rules is spoken as before
    assert spoken("date", "2026-12-03", "de-DE") == "2026-12-03"


def test_text_that_is_not_its_kind_is_left_alone():
    assert spoken("date", "next week", "zh-CN") == "next week"
    assert spoken("time", "25:00", "en-US") == "25:00"
    assert spoken("number", "many", "en-US") == "many"
    assert spoken("shout", "hi", "en-US") == "hi"


def test_typed_values_only():
    assert spoken_value(dt.date(2026, 12, 3), "zh-CN") == "2026年12月3日"
    assert spoken_value(TimeOfDay(9 * 60), "zh-CN") == "上午9点"
    assert spoken_value(dt.datetime(2026, 12, 3, 9, 0), "zh-CN") == "2026年12月3日上午9点"
    assert spoken_value(dt.datetime(2026, 12, 3, 21, 30), "en-US") == "December 3, 2026, 9:30 PM"
    assert spoken_value("2026-12-03", "zh-CN") is None  # free text stays as written
    assert spoken_value(42, "zh-CN") is None


_RAW = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}:\d{2}")
_dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
_times = st.integers(0, 1439).map(TimeOfDay)
_languages = st.sampled_from(["zh-CN", "zh", "zh-TW", "en-US", "en-GB"])


@given(_dates, _languages)
def test_every_date_is_words(day, language):
    words = spoken("date", day.isoformat(), language)
    assert words.strip() and not _RAW.search(words)
    if language.startswith("zh"):
        assert words == f"{day.year}年{day.month}月{day.day}日"


@given(_times, _languages)
def test_every_time_is_words(time, language):
    words = spoken("time", str(time), language)
    assert words.strip()
    if language.startswith("zh"):
        assert not _RAW.search(words) and "点" in words


@given(st.datetimes(min_value=dt.datetime(1, 1, 1)), _languages)
def test_every_moment_is_words(moment, language):
    words = spoken_value(moment, language)
    assert words and words.strip()
    if language.startswith("zh"):
        assert not _RAW.search(words)


@given(st.integers(-(10 ** 18), 10 ** 18))
def test_every_integer_is_words(n):
    zh, en = spoken("number", str(n), "zh-CN"), spoken("number", str(n), "en-US")
    assert zh == ("负" if n < 0 else "") + str(abs(n))
    assert en and not re.search(r"\d", en)


@given(st.decimals(min_value=-(10 ** 9), max_value=10 ** 9, places=2, allow_nan=False))
def test_every_amount_is_words(amount):
    en = spoken("money", f"{amount:.2f}", "en-US")
    assert en.strip() and not re.search(r"\d", en)
    zh = spoken("money", f"{amount:.2f}", "zh-CN")
    assert zh.strip() and not re.search(r"[-.]", zh) and zh[-1] in "元角分"


def test_integers_read_back():
    assert en_integer(1_000_001) == "one million one"
    assert en_integer(10 ** 15) == "one " + " ".join(["zero"] * 15)  # beyond: digit by digit
