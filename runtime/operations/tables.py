"""Rows as plain aligned text columns, for terminals and pipes alike (no
colour, no width limit). Rendering only: no I/O, no command line."""

from __future__ import annotations

from typing import Any

from ccdsl.terminal_text import visible


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """One line of headers, then one line per row; None shows as empty. A
    cell is one line whatever it holds (its control characters escaped:
    cells carry callers' numbers and CRM names)."""
    cells = [[("" if v is None else visible(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines) + "\n"
