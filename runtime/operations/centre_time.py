"""The centre's time zone: which one it is, and its local time of the UTC times the store keeps.

One rule for every runtime (docs/store.md "Times"): the store keeps UTC, reports
and listings show the centre's zone. Pure functions; must not open files or stores.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_MS = 86_400_000
# zone rules change on a quarter-hour; stepping by days finds every change
# (no zone changes twice in a day), a bisection then its exact minute
_STEP_MS = DAY_MS
_ZONEINFO_DIR = "zoneinfo/"


class ZoneError(ValueError):
    """A time zone name that is not one (the message says which and how to write one)."""


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name` (`Asia/Shanghai`, `UTC`)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"{name!r} is not a time zone; write an IANA name such as "
                        "Asia/Shanghai or Europe/London") from None


def machine_zone() -> tzinfo:
    """This machine's zone: TZ, else what /etc/localtime names, else its
    current UTC offset (a fixed offset has no summer time: the last resort)."""
    for name in (os.environ.get("TZ", "").lstrip(":"), _localtime_name()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now().astimezone().tzinfo or UTC


def _localtime_name() -> str:
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return ""
    at = target.rfind(_ZONEINFO_DIR)
    return target[at + len(_ZONEINFO_DIR):] if at >= 0 else ""


def zone_name(zone: tzinfo) -> str:
    """The zone as people write it: its IANA key, else its name now (`UTC+08:00`)."""
    key = getattr(zone, "key", None)
    return key or datetime.now(zone).tzname() or "UTC"


def stored_zone(db: sqlite3.Connection) -> str | None:
    """The centre's zone a call store was created with (meta `timezone`), if any."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key='timezone'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row and row[0] else None


def report_zone(db: sqlite3.Connection, asked: str | None) -> tzinfo:
    """The zone a report or listing shows: the one asked for, else the
    store's, else the machine's."""
    name = asked or stored_zone(db)
    if name is None:
        return machine_zone()
    if asked is None:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return machine_zone()  # a store written where the zone database differs
    return zone_named(name)


def utc_text(at: datetime) -> str:
    """How the store writes a moment: ISO 8601 in UTC."""
    return at.astimezone(UTC).isoformat()


def _stored_moment(iso: str) -> datetime | None:
    """A stored ISO time as an aware datetime (None: not one). Stores
    written before the rule kept local times with their offset: those
    convert the same way."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_text(iso: str | None, zone: tzinfo) -> str:
    """A stored ISO time as `YYYY-MM-DD HH:MM:SS` in `zone` ("" for none)."""
    moment = _stored_moment(iso) if iso else None
    if moment is None:
        return (iso or "")[:19]
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def local_iso(iso: str | None, zone: tzinfo) -> str:
    """A stored ISO time as ISO 8601 in `zone`, to the second, with its
    offset: one word, for listings ("" for none)."""
    moment = _stored_moment(iso) if iso else None
    if moment is None:
        return (iso or "")[:19]
    return moment.astimezone(zone).isoformat(timespec="seconds")


def local_moment(local: str, zone: tzinfo) -> datetime:
    """A local `YYYY-MM-DDTHH:MM:SS` in `zone` as an aware moment (in a
    summer-time gap or fold, the moment before the change is meant); with
    an offset (`...+08:00`), the instant it names."""
    moment = datetime.fromisoformat(local)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def local_to_ms(local: str, zone: tzinfo) -> int:
    """local_moment's moment as UTC epoch ms."""
    return int(local_moment(local, zone).timestamp() * 1000)


def offset_ms(zone: tzinfo, ms: int) -> int:
    """The zone's UTC offset at the UTC ms `ms`, in ms."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() * 1000)


def offsets(zone: tzinfo, lo_ms: int, hi_ms: int) -> tuple[tuple[int, int], ...]:
    """The zone's UTC offsets over [lo_ms, hi_ms]: (from_ms, offset_ms)
    pairs in order, the first from lo_ms."""
    current = offset_ms(zone, lo_ms)
    found = [(lo_ms, current)]
    at = lo_ms
    while at < hi_ms:
        step = min(_STEP_MS, hi_ms - at)
        ahead = offset_ms(zone, at + step)
        if ahead != current:
            low, high = at, at + step  # offset(low) == current, offset(high) != current
            while high - low > 60_000:
                middle = (low + high) // 2
                if offset_ms(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            found.append((high - high % 60_000, ahead))
            current = ahead
        at += step
    return tuple(found)


def local_ms_sql(column: str, zone: tzinfo, lo_ms: int, hi_ms: int) -> str:
    """SQL for `column` (UTC epoch ms) shifted into `zone`'s local time,
    exact between lo_ms and hi_ms: integer arithmetic, a CASE only where
    the offset changes (summer time)."""
    changes = offsets(zone, lo_ms, hi_ms)
    if len(changes) == 1:
        return f"({column} + {changes[0][1]})"
    cases = " ".join(f"WHEN {column} < {start} THEN {before}"
                     for (_, before), (start, _) in zip(changes, changes[1:], strict=False))
    return f"({column} + CASE {cases} ELSE {changes[-1][1]} END)"


def period_start(number: int, unit_ms: int) -> datetime:
    """The start of the local period (minute, hour, day) `number`, counted
    in units of unit_ms from 1970-01-01 local time, as a naive datetime."""
    return datetime(1970, 1, 1) + timedelta(milliseconds=number * unit_ms)
