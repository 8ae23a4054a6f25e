"""What a --since names, for every command and report that takes one (`ccf calls list`,
`ccf voicemail list`, `ccf graph --store`): the one parser. Reads the clock; never prints.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo

from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.moments import parse_moment

# a span back from now: whole minutes, hours, days or weeks
SINCE_UNITS = ("m", "h", "d", "w")


class QueryError(ValueError):
    """A --since that cannot be read (`--since yesterday`); its text is the message."""


def parse_since(text: str, now: datetime) -> datetime:
    """The start of a `--since`: a span back from `now` (`30m`, `2h`, `3d`,
    `1w`), a date (`2026-11-30`, midnight) or a date and time
    (`2026-11-30 10:00`, `2026-11-30 10:00 Asia/Shanghai`, ISO 8601 with or
    without an offset; without one, the zone of `now`)."""
    try:
        span = parse_duration_ms(text, "--since", units=SINCE_UNITS, spaced=True, whole=True)
    except InputError:
        pass  # not a span: a date or a moment
    else:
        try:
            return now - timedelta(milliseconds=span)
        except OverflowError:
            raise QueryError(f"--since {text!r} reaches back before the year 1") from None
    if re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", text):
        try:
            return datetime.fromisoformat(text.strip()).replace(tzinfo=now.tzinfo)
        except ValueError as exc:
            raise QueryError(f"--since {text!r}: {exc}") from None
    try:
        return parse_moment(text, now.tzinfo)
    except InputError:
        raise QueryError(f"--since {text!r}: expected a span such as 2h or 3d, a date such as "
                         "2026-11-30, or a date and time such as \"2026-11-30 10:00\", "
                         "\"2026-11-30 10:00 Asia/Shanghai\" or 2026-11-30T10:00+08:00") from None


def since_in(text: str | None, zone: tzinfo) -> datetime | None:
    """The moment a --since names now, a date or time without a zone read in `zone` (the
    call store's centre zone, as `ccf report --from` reads its dates); None for no --since.
    QueryError when it cannot be read: each caller says so its own way."""
    if text is None:
        return None
    return parse_since(text, datetime.now(zone))
