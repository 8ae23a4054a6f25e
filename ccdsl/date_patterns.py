"""The patterns of `format_date(value, PATTERN)`: which letters stand for what.

Read by the compiler (a literal pattern is checked, E312) and by the runtime (which
formats by it); imports nothing of ccdsl. ASCII letters are pattern letters:
text meant as it is goes between square brackets, `[at] HH:mm`; anything else
(digits, punctuation, spaces, Chinese characters: `YYYY年M月D日`) stays as written.
"""

from __future__ import annotations

# the longest first: a run of letters is read greedily
TOKENS: dict[str, str] = {
    "YYYY": "the year, 2026",
    "YY": "the year's last two digits, 26",
    "MMMM": "the month's name: October (en), 十月 (zh)",
    "MMM": "the month's short name: Oct (en), 10月 (zh)",
    "MM": "the month, 01-12",
    "M": "the month, 1-12",
    "DD": "the day of the month, 01-31",
    "D": "the day of the month, 1-31",
    "dddd": "the weekday's name: Thursday (en), 星期四 (zh)",
    "ddd": "the weekday's short name: Thu (en), 周四 (zh)",
    "HH": "the hour, 00-23",
    "H": "the hour, 0-23",
    "hh": "the hour on a 12-hour clock, 01-12",
    "h": "the hour on a 12-hour clock, 1-12",
    "mm": "the minute, 00-59",
    "ss": "the second, 00-59",
    "A": "AM or PM (en), 上午 or 下午 (zh)",
}
DATE_TOKENS = frozenset({"YYYY", "YY", "MMMM", "MMM", "MM", "M", "DD", "D", "dddd", "ddd"})
TIME_TOKENS = frozenset({"HH", "H", "hh", "h", "mm", "ss", "A"})
# whole patterns that name a way to say the value, in the call's language
NAMED = {
    "long": "as `say` speaks it: October 1, 2026 / 2026年10月1日, with the time: 9:30 AM / "
            "上午9点30分",
    "iso": "YYYY-MM-DD for a date, HH:mm for a time, YYYY-MM-DD HH:mm for a datetime",
}
_BY_LENGTH = sorted(TOKENS, key=len, reverse=True)


class PatternError(ValueError):
    """What is wrong with a pattern, for a message."""


def parse(pattern: str) -> list[tuple[str, str]]:
    """A pattern as ("token", "YYYY") and ("text", "-") parts; raises
    PatternError for a letter that stands for nothing or an unclosed `[`."""
    parts: list[tuple[str, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise PatternError("a `[` is not closed: write text as it is between `[` and `]`")
            parts.append(("text", pattern[i + 1:end]))
            i = end + 1
            continue
        if ch.isascii() and ch.isalpha():
            token = next((t for t in _BY_LENGTH if pattern.startswith(t, i)), None)
            if token is None:
                run = ch
                while i + len(run) < n and pattern[i + len(run)] == ch:
                    run += ch
                raise PatternError(f"`{run}` stands for nothing in a date pattern"
                                   + _hint(run))
            parts.append(("token", token))
            i += len(token)
            continue
        parts.append(("text", ch))
        i += 1
    return parts


def _hint(run: str) -> str:
    guesses = {"y": "YYYY", "d": "DD", "m": "mm (minutes) or MM (months)", "s": "ss",
               "a": "A", "Y": "YYYY or YY", "S": "ss"}
    guess = guesses.get(run[0])
    return f" (did you mean {guess}?)" if guess else ""
