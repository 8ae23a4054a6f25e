"""Text normalised for text-to-speech, per language: dates, times, numbers,
money, digits and letters as the words a speech engine reads correctly.

Pure: no I/O, no clock. The registry (LANGUAGES) is data keyed by BCP 47
tag; `normaliser_for` falls back from the exact tag to another region of
the same language, then to PLAIN, which leaves the text as it is (a
language the registry does not know is spoken as before).

The conventions (docs/language.md "say"):

| kind   | en-US                              | zh-CN               |
|--------|------------------------------------|---------------------|
| date   | December 3, 2026                   | 2026年12月3日        |
| time   | 9 AM, 9:30 PM, 12 PM (noon)        | 上午9点, 下午3点30分 |
| number | forty-two, three point five        | 42, 3点5, 负7        |
| money  | ninety-nine dollars and fifty cents | 99元5角, 99元零5分   |
| digits | 2 0 2 6 (each digit, spaced)       | 2 0 2 6              |
| alpha  | I W S                              | I W S               |

zh-CN times name the part of the day: 凌晨 (0-5 h), 上午 (6-11 h), 中午
(12 h), 下午 (13-17 h), 晚上 (18-23 h), on a 12-hour clock. zh-CN keeps
Arabic digits and adds the Chinese units and signs (年月日, 点分, 元角分, 负):
Mandarin voices, espeak-ng's `cmn` among them, read Arabic numbers as
Mandarin numbers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ccdsl.runtime.core.values import TimeOfDay

# the primary language subtags Asterisk has SAY sounds for out of the box
SAY_LANGUAGES = ("en",)
_SAY_DIGITS = re.compile(r"\+?[0-9][0-9*#]*")  # res_agi wants a number first (sscanf %d)
_INT32 = re.compile(r"-?\d{1,9}")


def switch_says(kind: str, value: str, language: str,
                say_languages: tuple[str, ...] = SAY_LANGUAGES) -> bool:
    """Whether Asterisk's own SAY speaks this value in this language (else
    its words go to text-to-speech): the one rule for the Asterisk channel
    and for the simulator, which must take as long as the switch does."""
    if language.split("-", 1)[0].lower() not in say_languages:
        return False
    if kind == "digits":
        return bool(_SAY_DIGITS.fullmatch(value))
    if kind == "number":
        return bool(_INT32.fullmatch(value))
    if kind == "alpha":
        return bool(value) and value.isprintable()
    try:
        if kind == "date":
            dt.datetime.fromisoformat(value)
            return True
        if kind == "time":
            hour, minute = (int(p) for p in value.split(":")[:2])
            return 0 <= hour < 24 and 0 <= minute < 60
    except ValueError:
        return False
    return False


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HH_MM = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2})?")
_MAX_WORDS = 10 ** 15  # beyond this, a number is read digit by digit


def _date_of(text: str) -> dt.date | None:
    match = _ISO_DATE.fullmatch(text.strip())
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _time_of(text: str) -> tuple[int, int] | None:
    match = _HH_MM.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return hour, minute


def _of_date(speak: Callable[[dt.date], str]) -> Callable[[str], str]:
    """`speak` of the ISO date a text holds; the text itself when it holds none."""
    def normalise(text: str) -> str:
        day = _date_of(text)
        return text if day is None else speak(day)
    return normalise


def _of_time(speak: Callable[[int, int], str]) -> Callable[[str], str]:
    """`speak` of the HH:MM a text holds (hour, minute); the text itself when it holds none."""
    def normalise(text: str) -> str:
        time = _time_of(text)
        return text if time is None else speak(*time)
    return normalise


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# -- en-US ---------------------------------------------------------------------------------

_EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_EN_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"),
              (1000, "thousand"))
_EN_MONTHS = ("January February March April May June July August September October "
              "November December").split()
_EN_SYMBOLS = {"+": "plus", "*": "star", "#": "pound"}


def _en_below_1000(n: int) -> str:
    words = []
    if n >= 100:
        words.append(f"{_EN_ONES[n // 100]} hundred")
        n %= 100
    if n >= 20:
        words.append(_EN_TENS[n // 10] + (f"-{_EN_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_EN_ONES[n])
    return " ".join(words)


def en_integer(n: int) -> str:
    if n < 0:
        return "minus " + en_integer(-n)
    if n >= _MAX_WORDS:
        return " ".join(_EN_ONES[int(d)] for d in str(n))
    words = []
    for scale, name in _EN_SCALES:
        if n >= scale:
            words.append(f"{_en_below_1000(n // scale)} {name}")
            n %= scale
    if n or not words:
        words.append(_en_below_1000(n))
    return " ".join(words)


def _split(number: Decimal) -> tuple[str, int, str]:
    """Sign, whole part and the fraction's digits (no trailing zeros)."""
    sign = "-" if number < 0 else ""
    text = f"{abs(number):f}"
    whole, _, fraction = text.partition(".")
    return sign, int(whole), fraction.rstrip("0")


def en_number(text: str) -> str:
    number = _decimal(text)
    if number is None:
        return text
    sign, whole, fraction = _split(number)
    words = en_integer(whole)
    if fraction:
        words += " point " + " ".join(_EN_ONES[int(d)] for d in fraction)
    return ("minus " if sign and (whole or fraction) else "") + words


@_of_date
def en_date(day: dt.date) -> str:
    return f"{_EN_MONTHS[day.month - 1]} {day.day}, {day.year}"


@_of_time
def en_time(hour: int, minute: int) -> str:
    half = "AM" if hour < 12 else "PM"
    clock = hour % 12 or 12
    return f"{clock} {half}" if minute == 0 else f"{clock}:{minute:02d} {half}"


# major unit (one, many), minor unit (one, many)
_EN_CURRENCIES = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "CNY": ("yuan", "yuan", "fen", "fen"),
    "RMB": ("yuan", "yuan", "fen", "fen"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "HKD": ("Hong Kong dollar", "Hong Kong dollars", "cent", "cents"),
}


def en_money(text: str, currency: str | None) -> str:
    number = _decimal(text)
    if number is None:
        return text
    code = (currency or "USD").upper()
    units = _EN_CURRENCIES.get(code)
    if units is None:
        return f"{en_number(text)} {code}"
    cents = int((abs(number) * 100).to_integral_value())
    whole, minor = divmod(cents, 100)
    parts = []
    if whole or not minor:
        parts.append(f"{en_integer(whole)} {units[0] if whole == 1 else units[1]}")
    if minor:
        parts.append(f"{en_integer(minor)} {units[2] if minor == 1 else units[3]}")
    words = " and ".join(parts)
    return ("minus " if number < 0 and cents else "") + words


# -- zh-CN ---------------------------------------------------------------------------------

_ZH_SYMBOLS = {"+": "加", "*": "星号", "#": "井号"}


def zh_number(text: str) -> str:
    """Arabic digits with Chinese signs: 42, 3点5, 负7 (Mandarin voices
    read Arabic numbers as numbers)."""
    number = _decimal(text)
    if number is None:
        return text
    sign, whole, fraction = _split(number)
    words = str(whole) + (f"点{fraction}" if fraction else "")
    return ("负" if sign and (whole or fraction) else "") + words


@_of_date
def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@_of_time
def zh_time(hour: int, minute: int) -> str:
    if hour < 6:
        part = "凌晨"
    elif hour < 12:
        part = "上午"
    elif hour == 12:
        part = "中午"
    elif hour < 18:
        part = "下午"
    else:
        part = "晚上"
    clock = hour % 12 or 12
    return f"{part}{clock}点" + (f"{minute}分" if minute else "")


_ZH_CURRENCIES = {"USD": "美元", "EUR": "欧元", "GBP": "英镑", "JPY": "日元", "HKD": "港元"}


def zh_money(text: str, currency: str | None) -> str:
    number = _decimal(text)
    if number is None:
        return text
    code = (currency or "CNY").upper()
    if code not in ("CNY", "RMB"):
        return zh_number(text) + _ZH_CURRENCIES.get(code, code)
    fen = int((abs(number) * 100).to_integral_value())
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    words = f"{yuan}元" if yuan or not (jiao or cents) else ""
    if jiao:
        words += f"{jiao}角"
    elif cents and yuan:
        words += "零"
    if cents:
        words += f"{cents}分"
    return ("负" if number < 0 and fen else "") + words


# -- the registry --------------------------------------------------------------------------


def _spaced(symbols: dict[str, str]) -> Callable[[str], str]:
    """One symbol at a time (digits, letters), + * # by name."""
    def speak(text: str) -> str:
        return " ".join(symbols.get(ch, ch) for ch in text if not ch.isspace())
    return speak


def _same(text: str, *_: Any) -> str:
    return text


@dataclass(frozen=True)
class Normaliser:
    """How one language speaks each `say` kind; each takes the value as
    `say` formats it (an ISO date, HH:MM, a number's text)."""

    date: Callable[[str], str] = _same
    time: Callable[[str], str] = _same
    number: Callable[[str], str] = _same
    money: Callable[[str, str | None], str] = _same
    digits: Callable[[str], str] = _same
    alpha: Callable[[str], str] = _same
    joiner: str = " "  # between a date and a time of one moment


PLAIN = Normaliser()
EN_US = Normaliser(date=en_date, time=en_time, number=en_number, money=en_money,
                   digits=_spaced(_EN_SYMBOLS), alpha=_spaced({}), joiner=", ")
ZH_CN = Normaliser(date=zh_date, time=zh_time, number=zh_number, money=zh_money,
                   digits=_spaced(_ZH_SYMBOLS), alpha=_spaced({}), joiner="")

LANGUAGES: dict[str, Normaliser] = {
    "en-US": EN_US,
    "zh-CN": ZH_CN,
}
"""The languages text is normalised for, by BCP 47 tag. A tag not here
uses another region of its language (en-GB -> en-US, zh-TW -> zh-CN),
else PLAIN."""


def normaliser_for(language: str | None) -> Normaliser:
    tag = (language or "").strip().lower()
    for known, normaliser in LANGUAGES.items():
        if known.lower() == tag:
            return normaliser
    primary = tag.split("-", 1)[0]
    for known, normaliser in LANGUAGES.items():
        if known.split("-", 1)[0].lower() == primary:
            return normaliser
    return PLAIN


def spoken(kind: str, text: str, language: str | None, currency: str | None = None) -> str:
    """The words text-to-speech says for `say KIND` of `text` (as `say`
    formats it); the text itself for a kind or language it does not know."""
    normaliser = normaliser_for(language)
    if kind == "money":
        return normaliser.money(text, currency) or text
    speak = getattr(normaliser, kind, None) if kind in ("date", "time", "number", "digits",
                                                       "alpha") else None
    return (speak(text) or text) if speak is not None else text


def spoken_value(value: Any, language: str | None) -> str | None:
    """A typed date, time or moment as words in `language`; None for any
    other value (free text is never rewritten)."""
    normaliser = normaliser_for(language)
    if isinstance(value, dt.datetime):
        day = normaliser.date(value.date().isoformat())
        time = normaliser.time(f"{value.hour:02d}:{value.minute:02d}")
        return f"{day}{normaliser.joiner}{time}"
    if isinstance(value, dt.date):
        return normaliser.date(value.isoformat())
    if isinstance(value, TimeOfDay):
        return normaliser.time(str(value))
    return None
