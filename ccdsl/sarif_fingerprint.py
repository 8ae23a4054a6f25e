"""The line hash GitHub code scanning matches alerts by (partialFingerprints'
primaryLocationLineHash), computed as github/codeql-action's upload-sarif does; pure.

Each line's hash is a rolling hash of the 100 characters from its start,
spaces and tabs skipped and line ends made `\\n`, so an edit above a line
moves it without changing its hash; `:N` counts lines alike. A value that
differs from upload-sarif's makes it warn, so this follows its algorithm
exactly, in UTF-16 code units as JavaScript strings are."""

from __future__ import annotations

from array import array

BLOCK = 100
MOD = 37
MASK = (1 << 64) - 1  # JavaScript's Long: arithmetic modulo 2**64
FIRST_MOD = pow(MOD, BLOCK, 1 << 64)
EOF_UNIT = 65535
TAB, SPACE, LF, CR = 9, 32, 10, 13


def line_hashes(text: str) -> dict[int, str]:
    """Each 1-based line number of text to its `hash:N`."""
    units = array("H", text.encode("utf-16-le"))
    window = [0] * BLOCK
    line_at = [-1] * BLOCK  # the line starting at each place of the window, or -1
    state = {"hash": 0, "index": 0}
    counts: dict[str, int] = {}
    out: dict[int, str] = {}

    def emit() -> None:
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_at[state["index"]]] = f"{value}:{counts[value]}"
        line_at[state["index"]] = -1

    def push(unit: int) -> None:
        i = state["index"]
        leaving, window[i] = window[i], unit
        state["hash"] = (MOD * state["hash"] + unit - FIRST_MOD * leaving) & MASK
        state["index"] = (i + 1) % BLOCK

    line, line_start, after_cr = 0, True, False
    for unit in (*units, EOF_UNIT):
        if unit in (SPACE, TAB) or (after_cr and unit == LF):
            after_cr = False
            continue
        after_cr = unit == CR
        if after_cr:
            unit = LF
        if line_at[state["index"]] != -1:
            emit()
        if line_start:
            line_start = False
            line += 1
            line_at[state["index"]] = line
        if unit == LF:
            line_start = True
        push(unit)
    for _ in range(BLOCK):
        if line_at[state["index"]] != -1:
            emit()
        push(0)
    return out
