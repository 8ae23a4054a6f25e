"""Durations as people write them (`2s`, `500ms`, `1.5m`, `1h`): the one parser."""

from __future__ import annotations

import re
from typing import Any

from ccdsl.runtime.core.errors import InputError

DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")


_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}


def parse_duration_ms(value: Any, what: str = "a duration") -> int:
    """`2s`, `500ms`, `1.5m`, `1h`, or a number of milliseconds."""
    if isinstance(value, bool):
        raise InputError(f"{what}: {value!r} is not a duration such as 2s")
    if isinstance(value, (int, float)):
        return int(value)
    match = DURATION.match(str(value).strip())
    if match is None:
        raise InputError(f"{what}: {value!r} is not a duration such as 2s or 500ms")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])
