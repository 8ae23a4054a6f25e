"""Durations as people write and read them: the one parser and its unit
table, and the formatters every rendering uses. Plain text only, no I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

from ccdsl.runtime.core.errors import InputError

UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000,
           "d": 86_400_000, "w": 7 * 86_400_000}
# what a flow, --press and an agents file write: no space, no bare number
FLOW_UNITS = ("ms", "s", "m", "h")

_WRITTEN = re.compile(r"(\d+(?:\.\d+)?)(\s*)([a-z]*)")


def parse_duration_ms(value: Any, what: str = "a duration", *,
                      units: Collection[str] = FLOW_UNITS, bare: str | None = None,
                      spaced: bool = False, whole: bool = False) -> int:
    """`2s`, `500ms`, `1.5m`, `1h` in milliseconds; a number (not a text) is
    milliseconds already. The options narrow or widen what is read, so each
    command keeps the spellings it has always taken: `units` (keys of
    UNIT_MS), `bare` (the unit of a number written without one; None:
    a unit is required), `spaced` (a space may part number and unit),
    `whole` (no decimals)."""
    if isinstance(value, bool):
        raise InputError(f"{what}: {value!r} is not a duration such as 2s")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):  # NaN, or past any float (1e400 in JSON)
            raise InputError(f"{what}: {value!r} is not a duration such as 2s or 500ms")
        return int(value)
    match = _WRITTEN.fullmatch(str(value).strip())
    unit = (match[3] or bare) if match else None
    if (match is None or unit not in units or (match[2] and not (spaced and match[3]))
            or (whole and "." in match[1])):
        raise InputError(f"{what}: {value!r} is not a duration such as 2s or 500ms")
    if whole:  # exact for any length of digits
        return int(match[1]) * UNIT_MS[unit]
    ms = float(match[1]) * UNIT_MS[unit]
    if math.isinf(ms):  # more digits than a float holds; each caller bounds the rest
        raise InputError(f"{what}: {value!r} is too long to be a duration")
    return int(ms)


def seconds_text(ms: Any, missing: str = "") -> str:
    """1500 -> `1.5s`; `missing` when there is no number."""
    if not isinstance(ms, (int, float)):
        return missing
    return f"{ms / 1000:g}s"


def clock_text(seconds: int) -> str:
    """Whole seconds as a clock: 42 -> `0:42`, 3725 -> `1:02:05`."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def offset_text(ms: int) -> str:
    """+MM:SS.mmm from the start of a call (+H:MM:SS.mmm past an hour)."""
    ms = max(ms, 0)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if hours:
        return f"+{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"+{minutes:02d}:{seconds:02d}.{millis:03d}"
