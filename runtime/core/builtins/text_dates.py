"""Builtins on text and time: `first_chars`, `last_chars`, `format_date` and `hours.holiday`.

Pure functions of their arguments and the call's language and zone; never leave
the switch. Registered in implementations.FUNCTIONS.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ccdsl.date_patterns import DATE_TOKENS, NAMED, PatternError, parse
from ccdsl.runtime.core import hours as business_hours
from ccdsl.runtime.core.builtins.context import BuiltinContext
from ccdsl.runtime.core.builtins.external import text_arg
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import described, is_number, kind_of
from ccdsl.runtime.core.speech import spoken_value
from ccdsl.runtime.core.values import Ref, TimeOfDay, to_text

# -- first_chars / last_chars -----------------------------------------------------------


def _count(value: Any, loc: dict | None) -> int:
    if not is_number(value) or value != int(value) or value < 0:
        raise FlowError(f"the count of characters must be a whole number 0 or more, not "
                        f"{described(value)}", loc)
    return int(value)


def _chars_of(value: Any, loc: dict | None) -> str:
    # a number is taken as its text: last_chars(12345678, 4) is "5678"
    return to_text(value) if is_number(value) else text_arg(value, "the text", loc)


async def first_chars(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    if a["text"] is None:
        return None
    return _chars_of(a["text"], loc)[:_count(a["count"], loc)]


async def last_chars(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    if a["text"] is None:
        return None
    text, n = _chars_of(a["text"], loc), _count(a["count"], loc)
    return text[len(text) - n:] if n < len(text) else text


# -- format_date ----------------------------------------------------------------------------

_EN_MONTHS = ("January February March April May June July August September October "
              "November December").split()
_EN_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_ZH_MONTHS = "一 二 三 四 五 六 七 八 九 十 十一 十二".split()
_ZH_DAYS = "一二三四五六日"


def _is_zh(language: str | None) -> bool:
    return (language or "").lower().startswith("zh")


def _token(token: str, day: dt.date | None, clock: tuple[int, int, int] | None,
           zh: bool) -> str:
    if day is not None:
        month, weekday = day.month - 1, day.weekday()
        date_parts = {
            "YYYY": f"{day.year:04d}", "YY": f"{day.year % 100:02d}",
            "MMMM": f"{_ZH_MONTHS[month]}月" if zh else _EN_MONTHS[month],
            "MMM": f"{day.month}月" if zh else _EN_MONTHS[month][:3],
            "MM": f"{day.month:02d}", "M": str(day.month),
            "DD": f"{day.day:02d}", "D": str(day.day),
            "dddd": f"星期{_ZH_DAYS[weekday]}" if zh else _EN_DAYS[weekday],
            "ddd": f"周{_ZH_DAYS[weekday]}" if zh else _EN_DAYS[weekday][:3],
        }
        if token in date_parts:
            return date_parts[token]
    hour, minute, second = clock or (0, 0, 0)
    twelve = hour % 12 or 12
    return {
        "HH": f"{hour:02d}", "H": str(hour), "hh": f"{twelve:02d}", "h": str(twelve),
        "mm": f"{minute:02d}", "ss": f"{second:02d}",
        "A": ("上午" if hour < 12 else "下午") if zh else ("AM" if hour < 12 else "PM"),
    }[token]


def format_moment(value: Any, pattern: str, language: str | None, zone: dt.tzinfo | None,
                  loc: dict | None = None) -> str:
    """A date, time or datetime as text by a pattern (ccdsl/date_patterns.py);
    a datetime is first read in `zone`, the centre's."""
    if isinstance(value, dt.datetime):
        if zone is not None and value.tzinfo is not None:
            value = value.astimezone(zone)
        day, clock = value.date(), (value.hour, value.minute, value.second)
    elif isinstance(value, dt.date):
        day, clock = value, None
    elif isinstance(value, TimeOfDay):
        day, clock = None, (value.minutes // 60 % 24, value.minutes % 60, 0)
    else:
        raise FlowError(f"format_date takes a date, a time or a datetime, not {kind_of(value)}",
                        loc)
    if pattern == "long":  # as `say` speaks it; a language it does not know: ISO
        return spoken_value(value, language) or to_text(value)
    if pattern in NAMED:
        pattern = "YYYY-MM-DD HH:mm" if day is not None and clock is not None else (
            "YYYY-MM-DD" if day is not None else "HH:mm")
    try:
        parts = parse(pattern)
    except PatternError as err:
        raise FlowError(f"format_date: {err}", loc) from None
    out = []
    for kind, text in parts:
        if kind == "text":
            out.append(text)
        elif day is None and text in DATE_TOKENS:
            raise FlowError(f"format_date: a time has no `{text}`; it has hours, minutes "
                            "and seconds", loc)
        else:
            out.append(_token(text, day, clock, _is_zh(language)))
    return "".join(out)


async def format_date(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    value = a["value"]
    if value is None:
        return None
    pattern = text_arg(a["pattern"], "the pattern", loc)
    language = a.get("language") or ctx.language
    return format_moment(value, pattern, language, ctx.now().tzinfo, loc)


# -- hours.holiday ----------------------------------------------------------------------------


def holiday_name(hours: dict, moment: dt.datetime) -> str | None:
    """The name of the `closed` (else `open`) dated line of `hours` covering
    the moment's day in the hours' zone: "" for a line without a name, None
    on an ordinary day."""
    iso = business_hours.local(hours, moment).date().isoformat()
    for kind in ("closed", "open"):
        for line in hours.get(kind) or ():
            if line["from"] <= iso <= line["to"]:
                return line.get("label") or ""
    return None


async def hours_holiday(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    ref = a.get("receiver")
    if not isinstance(ref, Ref) or ref.name not in ctx.program.hours:
        raise FlowError(f"no business hours named {to_text(ref)!r}", loc)
    at = a.get("at")
    if at is not None and not isinstance(at, dt.datetime):
        raise FlowError(f"at must be a datetime, not {kind_of(at)}", loc)
    return holiday_name(ctx.program.hours[ref.name], at or ctx.now())


FUNCTIONS = {
    "first_chars": first_chars,
    "last_chars": last_chars,
    "format_date": format_date,
    "hours.holiday": hours_holiday,
}
