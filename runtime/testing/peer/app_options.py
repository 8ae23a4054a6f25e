"""An application's option string read as Asterisk reads it (main/app.c parse_options),
and what Dial()'s f() and A() ask of a transfer (apps/app_dial.c, Asterisk 22).

Parsing only: must not ring, play or pass time.
"""

from __future__ import annotations

import re

_PHONE = re.compile(r"[0-9*#+()\- ]+")


def parse_options(text: str) -> dict[str, str | None]:
    """Each option letter and its argument (None: given without one), as
    parse_options splits `tf(+8621...)A(file)`: a letter, then, when `(`
    follows, the text to the matching `)` (nested brackets counted, a
    backslash outside quotes dropped, quotes honoured when the argument
    starts with one). A later letter replaces an earlier one's argument."""
    options: dict[str, str | None] = {}
    i = 0
    while i < len(text):
        letter = chr(ord(text[i]) & 0x7F)
        i += 1
        if i < len(text) and text[i] == "(":
            i += 1
            quotes = i < len(text) and text[i] == '"'
            arg: list[str] = []
            depth, quoted = 1, False
            while i < len(text):
                ch = text[i]
                if ch == "(" and not quoted:
                    depth += 1
                elif ch == ")" and not quoted:
                    depth -= 1
                    if depth == 0:
                        break
                elif ch == '"' and quotes:
                    quoted = not quoted
                    i += 1
                    continue
                elif ch == "\\":
                    if not quoted or text[i + 1:i + 2] == '"':
                        i += 1  # the backslash goes, the next character stays
                        ch = text[i] if i < len(text) else ""
                    else:
                        arg.append(ch)
                        i += 1
                        ch = text[i] if i < len(text) else ""
                arg.append(ch)
                i += 1
            options[letter] = "".join(arg)
            i += 1  # past the `)` (or the end: no closing bracket)
        else:
            options[letter] = None
    return options


def forced_caller_id(options: dict[str, str | None]) -> str | None:
    """The number f(x) sends the called party (ast_callerid_parse: `Name
    <number>` or a bare number); None without f(x) (the caller's own is sent,
    and f without x only forces it on a forward)."""
    value = options.get("f")
    if not value:
        return None
    if "<" in value and ">" in value:
        return value[value.index("<") + 1:value.index(">")].strip() or None
    value = value.strip()
    return value if _PHONE.fullmatch(value) else None


def announcement(options: dict[str, str | None]) -> str | None:
    """The file A(x[:y]) streams to the called party; None without one."""
    value = options.get("A")
    if not value:
        return None
    return value.split(":", 1)[0] or None
