"""Business hours from the IR's `hours` tables (docs/ir.md "hours").

A moment is read in the hours' own time zone (`tz`), or the server's when
the flow gave none. `closed` days win over `open` days, which replace the
weekly hours of their day. Never reads the clock itself: the moment is given.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# how far ahead next_open looks before it answers "never"
_SEARCH_DAYS = 400


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local(hours: dict, moment: datetime) -> datetime:
    """`moment` in the hours' time zone."""
    tz = hours.get("tz")
    return moment.astimezone(_zone(tz)) if tz else moment.astimezone()


def ranges_on(hours: dict, day: date) -> list[tuple[int, int]]:
    """The opening ranges of one calendar day, in minutes since midnight."""
    iso = day.isoformat()
    for closed in hours.get("closed") or ():
        if closed["from"] <= iso <= closed["to"]:
            return []
    for opened in hours.get("open") or ():
        if opened["from"] <= iso <= opened["to"]:
            return [tuple(r) for r in opened["times"]]
    return [tuple(r) for r in (hours.get("weekly") or {}).get(WEEKDAYS[day.weekday()], ())]


def is_open(hours: dict, moment: datetime) -> bool:
    here = local(hours, moment)
    minute = here.hour * 60 + here.minute
    return any(start <= minute < end for start, end in ranges_on(hours, here.date()))


def next_open(hours: dict, after: datetime) -> datetime | None:
    """The next moment strictly after `after` at which closed hours open, in
    the hours' zone; None when nothing opens within about a year. A range
    that continues one ending at midnight is not a new opening."""
    here = local(hours, after)
    minute_now = here.hour * 60 + here.minute
    previous_end = None
    for offset in range(-1, _SEARCH_DAYS):
        day = here.date() + timedelta(days=offset)
        for start, end in ranges_on(hours, day):
            continues = previous_end == (day, start)
            previous_end = (day + timedelta(days=1), 0) if end >= 1440 else (day, end)
            if continues or offset < 0:
                continue
            if offset == 0 and start <= minute_now:
                continue
            opening = datetime.combine(day, time(start // 60, start % 60))
            return opening.replace(tzinfo=here.tzinfo)
    return None
