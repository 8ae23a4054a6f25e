"""Diagnostics: what the compiler says about a flow, with a stable code.

Imports only the core's source spans and code registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches

from ccdsl.codes import CODES, Severity
from ccdsl.source import Span

__all__ = ["Diagnostic", "Severity", "closest", "diagnostic", "did_you_mean", "has_errors"]


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    help: str | None = None
    notes: tuple[str, ...] = ()
    severity: Severity = field(default=Severity.ERROR)

    @property
    def full_message(self) -> str:
        """The message, then its `help:` and `note:` lines: the whole of it where a tool
        shows one text (a GitHub annotation, a SARIF result)."""
        return "\n".join([self.message, *([f"help: {self.help}"] if self.help else []),
                          *(f"note: {note}" for note in self.notes)])

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
    return Diagnostic(code, message, span, help, notes, CODES[code].severity)


def has_errors(diags) -> bool:
    return any(d.is_error for d in diags)


def closest(word: str, choices) -> str | None:
    """The choice most like word (a misspelling), or None."""
    close = get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices) -> str | None:
    """A `help:` line suggesting the choice most like word, or None."""
    best = closest(word, choices)
    return f"did you mean `{best}`?" if best else None
