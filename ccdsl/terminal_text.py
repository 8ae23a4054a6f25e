"""Text from callers, the CRM and peers made safe to show on a terminal: control characters
as visible escapes. Pure; must not print, nor be applied to what is stored or sent as JSON."""

from __future__ import annotations

import re
from typing import Any

# What a terminal acts on instead of showing: C0 controls (ESC starts colour
# and title sequences, CR overwrites the line, BEL rings), DEL, C1 controls
# (0x9b is CSI, ESC [ in one character on some terminals); bidi embeddings,
# overrides and isolates, which reorder what follows on screen ("Trojan
# Source"); the line and paragraph separators; and lone surrogates, which
# cannot even be encoded for the terminal. Everything else, `[` and `\` too,
# is shown as it is: rich markup is kept out by rendering values as rich
# Text, never as markup.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029"
                     "\u2066-\u2069\ud800-\udfff]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    return _escape_char(match.group())


def visible(value: Any) -> str:
    """`str(value)` on one line, each of those characters as its escape: LF
    `\\n`, CR `\\r`, TAB `\\t`, ESC `\\x1b`, a right-to-left override
    `\\u202e`. Apply it to each value from outside, not to a whole text: a
    line break of our own must stay one."""
    text = str(value)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def shown_char(char: str) -> str:
    """One character as `visible` shows it: itself, or its escape."""
    return _escape_char(char) if _UNSAFE.match(char) else char


def _escape_char(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
