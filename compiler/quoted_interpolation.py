"""A string inside `${...}` (`"Hello ${name ?? "friend"}"`): its first quote ends the text,
so the file reads wrongly from there; one E005 that says so. Must not parse anything itself."""

from __future__ import annotations

import re

from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def quote_in_interpolation(source: SourceFile, line: int, quote: int) -> Diagnostic | None:
    """The E005 when the string whose closing `"` is at 1-based column `quote` of
    `line` leaves a `${` open and the line goes on to a `"` and then a `}`, else None."""
    text = source.line_text(line)
    for found in _STRING.finditer(text):
        if found.end() != quote:
            continue
        inner = found.group()[1:-1]
        opened = inner.rfind("${")
        rest = text[found.end():]
        before_brace, brace, _ = rest.partition("}")
        if opened == -1 or "}" in inner[opened:] or not brace or '"' not in before_brace:
            return None
        meant = (inner[opened + 2:] + '"' + before_brace).strip()
        return diagnostic(
            "E005", 'a `"` inside `${...}` ends the string: an interpolation cannot hold a string',
            Span(source.path, line, quote, line, quote + 1),
            help=f"name the value on a line before (`name = {meant}`) and write `${{name}}` "
                 "in the text")
    return None
