"""The registry of diagnostic codes and their severities; must import nothing of ccdsl.

A code never changes meaning once released; its long explanation (with an
example) lives in ``ccdsl/explanations/<CODE>.md`` and is what ``ccf explain``
prints."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str


_TABLE = [
    # -- reading and parsing ------------------------------------------------
    ("E001", E, "syntax error"),
    ("E002", E, "unexpected character"),
    ("E003", E, "bad indentation"),
    ("E004", E, "unterminated string"),
    ("E005", E, "bad string escape or interpolation"),
    ("E006", E, "file cannot be read"),
    ("E007", E, "file is not UTF-8 text"),
    ("E008", E, "file is too large"),
    ("E009", E, "file is empty"),
    ("E010", E, "missing or misplaced flow header"),
    ("E011", E, "blocks nested too deeply"),
    ("E012", E, "expression nested too deeply"),
    # -- names ----------------------------------------------------------------
    ("E100", E, "unknown name"),
    ("E101", E, "duplicate name"),
    ("E102", E, "wrong kind of name"),
    ("E103", E, "unknown module"),
    ("E104", E, "import cycle"),
    ("E105", E, "unknown field of a record"),
    ("E106", E, "unknown option"),
    ("E107", E, "missing or repeated option"),
    ("E108", E, "unknown event handler"),
    ("E109", E, "unknown record type"),
    ("E110", E, "unknown type"),
    ("E111", E, "return outside a sub-flow"),
    ("E112", E, "no start handler"),
    # -- paths through the flow ------------------------------------------------
    ("W200", W, "unreachable step"),
    ("E201", E, "path ends without hangup, goto or transfer"),
    ("E202", E, "menu without a timeout or invalid path"),
    ("E203", E, "duplicate menu key"),
    ("E204", E, "invalid menu key"),
    ("E205", E, "loop that never waits for the caller"),
    ("W206", W, "unreachable statement"),
    ("E207", E, "bad routing rule"),
    ("E208", E, "statement a handler cannot run"),
    ("E209", E, "bad in-queue key"),
    ("E210", E, "callback outside a queue's key block"),
    # -- types ------------------------------------------------------------------
    ("E300", E, "type mismatch"),
    ("E301", E, "wrong arguments"),
    ("E302", E, "not callable"),
    ("E303", E, "bad test statement"),
    ("E304", E, "value that may be null where null fails"),
    ("E306", E, "test file with no flow beside it"),
    ("E308", E, "queue or routing rule that may be null"),
    ("E310", E, "bad queue message"),
    ("E311", E, "break outside a loop"),
    ("E312", E, "invalid date format"),
    # -- languages and prompts ----------------------------------------------------
    ("E400", E, "prompt missing a declared language"),
    ("W401", W, "prompt language not declared by the flow"),
    ("E402", E, "invalid language tag"),
    ("E403", E, "duplicate prompt language"),
    ("W404", W, "used module lacks a language of the flow"),
    # -- values and ranges --------------------------------------------------------
    ("E500", E, "impossible range"),
    ("E501", E, "invalid time or date"),
    ("E502", E, "overlapping business hours"),
    ("E503", E, "unknown time zone"),
    ("E504", E, "unknown day name"),
    ("E505", E, "value out of range"),
    ("E506", E, "invalid pattern"),
    ("E507", E, "value not one of its choices"),
    ("E508", E, "loop count out of range"),
    ("E509", E, "number too large"),
    # -- hygiene ------------------------------------------------------------------
    ("W600", W, "external call without an error path"),
    ("W601", W, "unused variable"),
    ("W602", W, "unused constant"),
    ("W603", W, "unused suppression comment"),
    ("W604", W, "suppression comment that cannot apply"),
    ("W605", W, "duplicate test name"),
]

CODES: dict[str, Code] = {code: Code(code, sev, title) for code, sev, title in _TABLE}


def similar_code(word: str) -> str | None:
    """The code a misspelt one most likely meant: two digits swapped (W260
    for W206) first, else the closest by spelling; None when none is close."""
    from difflib import get_close_matches

    word = word.upper()
    for i in range(len(word) - 1):
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if swapped in CODES:
            return swapped
    close = get_close_matches(word, list(CODES), n=1, cutoff=0.6)
    return close[0] if close else None


def explanation(code: str) -> str | None:
    """The long explanation of a code, or None for an unknown code."""
    code = code.upper()
    if code not in CODES:
        return None
    path = resources.files("ccdsl") / "explanations" / f"{code}.md"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
