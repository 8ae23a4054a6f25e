"""Diagnostics: what the compiler says about a flow, with a stable code."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ccdsl.source import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    help: str | None = None
    notes: tuple[str, ...] = ()
    severity: Severity = field(default=Severity.ERROR)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple:
        s = self.span
        return (s.file, s.line, s.column, self.code, self.message)


def diagnostic(code: str, message: str, span: Span, help: str | None = None,
               notes: tuple[str, ...] = ()) -> Diagnostic:
    """A diagnostic whose severity comes from the code registry, so a code
    is always reported at the same severity wherever it is raised."""
    from ccdsl.codes import CODES

    return Diagnostic(code, message, span, help, notes, CODES[code].severity)


def has_errors(diags) -> bool:
    return any(d.is_error for d in diags)
