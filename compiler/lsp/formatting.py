"""Formatting: the whole document in `ccf fmt`'s layout (compiler/formatter.py), as one edit.

A text with syntax errors is refused: no edits, never a half-formatted file.
"""

from __future__ import annotations

from lsprotocol import types as lsp

from ccdsl.compiler.formatter import format_source


def format_edits(text: str, path: str) -> list[lsp.TextEdit] | None:
    """One edit replacing the text by its formatted form; [] when it is formatted already;
    None when it does not parse."""
    formatted, _ = format_source(text.replace("\r\n", "\n"), path)
    if formatted is None:
        return None
    if formatted == text:
        return []
    lines = text.split("\n")
    # the end of the last line, counted in code units of any encoding: past it is clamped
    end = lsp.Position(len(lines), 0)
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), formatted)]
