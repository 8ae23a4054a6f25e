"""Which warnings a run reports, and whether they fail it: --select, --ignore, --warnings-as-errors.

Imports only the code registry and diagnostics. Codes may be prefixes, as in
ruff (`W`, `W6`, `W601`). Only warnings can be selected or ignored: errors
are always reported, because a flow with errors cannot run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ccdsl.codes import CODES, Severity, similar_code
from ccdsl.diagnostics import Diagnostic

_PREFIX = re.compile(r"^[EW]\d{0,3}$")
AS_ERROR_NOTE = "reported as an error because of --warnings-as-errors"


class SelectionError(ValueError):
    """A --select or --ignore that names no warning; its message says why."""


@dataclass(frozen=True)
class Selection:
    """The warnings to report (select: None means all; ignore wins over
    select) and whether the warnings reported are errors."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    warnings_as_errors: bool = False

    def reports(self, code: str) -> bool:
        if CODES[code].severity is Severity.ERROR:
            return True
        if self.select is not None and not code.startswith(self.select):
            return False
        return not code.startswith(self.ignore) if self.ignore else True

    def apply(self, diags: Iterable[Diagnostic]) -> list[Diagnostic]:
        out = []
        for diag in diags:
            if diag.is_error:
                out.append(diag)
            elif self.reports(diag.code):
                out.append(replace(diag, severity=Severity.ERROR,
                                   notes=(*diag.notes, AS_ERROR_NOTE))
                           if self.warnings_as_errors else diag)
        return out


ALL = Selection()


def _prefixes(values: Iterable[str] | None, option: str) -> tuple[str, ...]:
    """Each comma-separated word of the option's values, checked."""
    out: list[str] = []
    for value in values or ():
        for word in value.split(","):
            word = word.strip()
            if word:
                out.append(_checked(word, option))
    return tuple(dict.fromkeys(out))


def _checked(word: str, option: str) -> str:
    prefix = word.upper()
    matched = [c for c in CODES if c.startswith(prefix)] if _PREFIX.match(prefix) else []
    if not matched:
        near = similar_code(prefix)
        raise SelectionError(f"{option} `{word}`: no diagnostic code is or starts with it"
                             + (f"; did you mean `{near}`?" if near else "")
                             + " (`ccf explain --list` lists them)")
    if all(CODES[c].severity is Severity.ERROR for c in matched):
        raise SelectionError(
            f"{option} `{word}`: only warnings (W...) can be selected or ignored; errors are "
            "always reported, because a flow with errors cannot run"
            + ("; to see the errors alone, --ignore W" if option == "--select" else ""))
    return prefix


def selection(select: Iterable[str] | None = None, ignore: Iterable[str] | None = None,
              warnings_as_errors: bool = False) -> Selection:
    """The Selection the options name; SelectionError for a code that is no
    warning (a usage error)."""
    return Selection(_prefixes(select, "--select") or None, _prefixes(ignore, "--ignore"),
                     warnings_as_errors)
