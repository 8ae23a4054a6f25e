"""A moment as people and ccf write one: "2026-11-30 10:00 Asia/Shanghai" or ISO 8601
("2026-11-30T10:00+08:00", "...Z", seconds and fractions). Pure: reads and writes text."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccdsl.moment_forms import FORMS, MOMENT, iso_text
from ccdsl.runtime.core.errors import InputError

__all__ = ["FORMS", "moment_text", "parse_moment"]


def parse_moment(text: str, default_zone: tzinfo | None = UTC,
                 loc: dict | None = None) -> datetime:
    """The moment `text` names: aware, unless it names no zone or offset and
    `default_zone` is None. InputError (at `loc`) saying the forms otherwise."""
    match = MOMENT.match(text)
    if match is None:
        raise InputError(f'"{text}" is not a date and time; {FORMS}', loc)
    offset, zone_name = match.group("offset"), match.group("zone")
    if offset and zone_name:
        raise InputError(f'"{text}" gives both an offset and a time zone; give one', loc)
    iso = iso_text(match)
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise InputError(f'"{text}" is not a date and time: {exc}', loc) from None
    if offset:
        return moment
    return moment.replace(tzinfo=_zone(zone_name, loc) if zone_name else default_zone)


def _zone(name: str, loc: dict | None) -> tzinfo:
    if name.upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f'"{name}" is not a time zone; use an IANA name such as '
                         '"Asia/Shanghai" or "UTC"', loc) from None


def moment_text(moment: datetime) -> str:
    """How ccf prints a moment for people, in a form parse_moment reads
    back: "2026-11-30 10:00 Asia/Shanghai" in a named zone (seconds when
    there are any), else ISO 8601 with its offset."""
    key = getattr(moment.tzinfo, "key", None) or ("UTC" if moment.tzinfo is UTC else None)
    timespec = "auto" if moment.microsecond else "seconds" if moment.second else "minutes"
    if key is None:
        return moment.isoformat(timespec=timespec)
    return f"{moment.replace(tzinfo=None).isoformat(sep=' ', timespec=timespec)} {key}"
