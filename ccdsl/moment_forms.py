"""The ways a moment is written: "2026-11-30 10:00 Asia/Shanghai" or ISO 8601
("2026-11-30T10:00+08:00", "...Z", seconds and fractions). One definition for a test's
`at` (the compiler) and `--at`, `--since`, `--now` (runtime/core/moments.py); the pattern
and its words only, no reading of the values (imports nothing of ccdsl)."""

from __future__ import annotations

import re

# day, hour, the rest of the time (:MM, :SS, .fraction), an offset or Z, or a zone name
MOMENT = re.compile(
    r"^\s*(?P<day>\d{4}-\d{2}-\d{2})[ T](?P<hour>\d{1,2})"
    r"(?P<rest>:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?)"
    r"\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?"
    r"(?:\s+(?P<zone>[^\s\d+-]\S*))?\s*$")

FORMS = ('write "YYYY-MM-DD HH:MM" with an optional time zone, such as "2026-11-30 10:00 '
         'Asia/Shanghai", or ISO 8601 such as "2026-11-30T10:00+08:00"')


def iso_text(match: re.Match[str]) -> str:
    """The matched moment as datetime.fromisoformat reads it (the zone name left out)."""
    return (f"{match.group('day')}T{int(match.group('hour')):02d}"
            f"{match.group('rest').replace(',', '.')}{match.group('offset') or ''}")
