"""Reading the report's options as people write them: local dates and
times or moments with an offset for the range, a duration for the service-level threshold."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from ccdsl.moment_forms import MOMENT
from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.moments import parse_moment
from ccdsl.runtime.operations.reports.model import Filters

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")
# the service-level threshold is seconds at heart: a bare number is seconds
WITHIN_UNITS = ("ms", "s", "m", "min")
DAY_MS = 86_400_000


class OptionError(ValueError):
    """An option written in a way the report cannot read."""


def local_time(text: str, option: str, *, end: bool) -> str:
    """`2026-11-30` or `2026-11-30 10:00[:ss]` as local `YYYY-MM-DDTHH:MM:SS`;
    a moment with an offset or a zone (`2026-11-30T10:00+08:00`, `...Z`, `2026-11-30
    10:00 Asia/Shanghai`: runtime/core/moments.py) as ISO 8601 with its offset, one
    instant whatever the report's zone. A date given as the end of the range means
    the end of that day: the range is [from, to), and `--to 2026-11-30` includes the 30th."""
    text = text.strip()
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            return (day + timedelta(days=1) if end else day).isoformat() + "T00:00:00"
        match = _DATETIME.match(text)
        if match:
            day_text, hour, minute, second = match.groups()
            moment = datetime.fromisoformat(
                f"{day_text}T{int(hour):02d}:{minute}:{second or '00'}")
            return moment.isoformat(timespec="seconds")
    except ValueError as exc:
        raise OptionError(f"{option} {text!r}: {exc}") from None
    except OverflowError:  # the day after 9999-12-31
        raise OptionError(f"{option} {text!r} is out of range: the last date is "
                          "9999-12-30") from None
    if MOMENT.match(text) is None:
        raise OptionError(f"{option} {text!r} is not a date or a time; write YYYY-MM-DD, "
                          "\"YYYY-MM-DD HH:MM\" (the report's time zone) or ISO 8601 such as "
                          "2026-11-30T10:00+08:00")
    try:
        return parse_moment(text, None).isoformat()  # a zone or an offset: aware
    except InputError as exc:
        raise OptionError(f"{option}: {exc}") from None


def filters(start: str | None, end: str | None, *, queue: str | None = None,
            agent: str | None = None, flow: str | None = None) -> Filters:
    first = local_time(start, "--from", end=False) if start else None
    last = local_time(end, "--to", end=True) if end else None
    if first is not None and last is not None and _before(last, first):
        raise OptionError(f"--from {start} is not before --to {end}: the range is empty")
    return Filters(first, last, queue or None, agent or None, flow or None)


def _before(last: str, first: str) -> bool:
    """Whether `last` is not after `first`, when both are local or both name an
    instant (a local one and an aware one compare in the report's zone: query.py)."""
    a, b = datetime.fromisoformat(first), datetime.fromisoformat(last)
    return (a.tzinfo is None) == (b.tzinfo is None) and b <= a


def duration_ms(text: str, option: str) -> int:
    """`20s`, `20` (seconds), `1.5m`, `500ms` in milliseconds."""
    try:
        ms = parse_duration_ms(text, option, units=WITHIN_UNITS, bare="s", spaced=True)
    except InputError:
        raise OptionError(f"{option} {text!r} is not a duration; write seconds such as 20s") \
            from None
    if ms > DAY_MS:  # a service level is counted in seconds; beyond SQLite's integers too
        raise OptionError(f"{option} {text!r} is longer than a day; write seconds such as 20s")
    return ms
