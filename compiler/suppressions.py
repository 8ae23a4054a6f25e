"""`# ccf: ignore[W206]` comments: a warning silenced on one line; must not parse anything else.

A suppression trails the statement on the diagnostic's primary line (the
line its caret is on), as ruff's `# noqa` does. It names full warning codes;
errors cannot be suppressed (a flow with errors cannot run). A suppression
that silences nothing is reported (W603), as is one that cannot apply: no
code, an unknown code or an error's code (W604).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccdsl.codes import CODES, Severity, similar_code
from ccdsl.compiler.comments import comment_start
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span

# anywhere in a comment, so a reason can come before it: `# legacy menu  # ccf: ignore[W200]`
_DIRECTIVE = re.compile(r"ccf:\s*ignore\b(\[(?P<codes>[^\]]*)\])?")
_CODE = re.compile(r"[^,\s]+")
# W603 and W604 are about the comments themselves, so a comment cannot silence them
NOT_SUPPRESSIBLE = frozenset({"W603", "W604"})


@dataclass(frozen=True)
class Suppression:
    """One code named by one comment, at the code's own place in the comment."""

    code: str
    span: Span


def suppressions_in(source: SourceFile) -> tuple[list[Suppression], list[Diagnostic]]:
    """The codes each line's comment suppresses, and a W604 for each
    directive that cannot apply."""
    found: list[Suppression] = []
    problems: list[Diagnostic] = []
    if "ccf:" not in source.text:  # most files: no line is worth scanning for its comment
        return found, problems
    # split on "\n" only, as the lexer and comments.scan count lines
    for line, text in enumerate(source.text.split("\n"), start=1):
        if "ccf:" not in text:
            continue
        start = comment_start(text)  # `ccf:` in a string is no directive
        match = _DIRECTIVE.search(text, start) if start >= 0 else None
        if match is None:
            continue
        if match.group("codes") is None or not match.group("codes").strip():
            span = Span(source.path, line, match.start() + 1, line, match.end() + 1)
            problems.append(diagnostic(
                "W604", "this suppression names no code", span,
                help="name the warnings it silences: `# ccf: ignore[W206]`"))
            continue
        base = match.start("codes")
        for word in _CODE.finditer(match.group("codes")):
            code = word.group().upper()
            span = Span(source.path, line, base + word.start() + 1, line, base + word.end() + 1)
            problem = _cannot_apply(word.group(), code, span)
            if problem is not None:
                problems.append(problem)
            else:
                found.append(Suppression(code, span))
    return found, problems


def _cannot_apply(word: str, code: str, span: Span) -> Diagnostic | None:
    if code not in CODES:
        return diagnostic("W604", f"`{word}` is not a ccdsl diagnostic code", span,
                          help=f"did you mean `{near}`?" if (near := similar_code(code))
                          else "`ccf explain --list` lists them")
    if CODES[code].severity is Severity.ERROR:
        return diagnostic("W604", f"{code} is an error, which cannot be suppressed", span,
                          help="fix the error: a flow with errors cannot run")
    if code in NOT_SUPPRESSIBLE:
        return diagnostic("W604", f"{code} is about suppression comments and cannot be "
                                  "suppressed by one", span,
                          help=f"remove the comment at fault, or `--ignore {code}`")
    return None


def apply_suppressions(diags: Iterable[Diagnostic], sources: Mapping[str, SourceFile], *,
                       report_unused: bool) -> list[Diagnostic]:
    """The diagnostics left once each file's comments have silenced theirs,
    with W604 for comments that cannot apply and, when report_unused (the
    checks ran in full, so every warning that could be raised was), W603 for
    each code a comment names that silenced nothing."""
    by_place: dict[tuple[str, int, str], Suppression] = {}
    out: list[Diagnostic] = []
    for source in sources.values():
        found, problems = suppressions_in(source)
        out.extend(problems)
        for item in found:
            by_place.setdefault((source.path, item.span.line, item.code), item)
    used: set[Suppression] = set()
    for diag in diags:
        hit = None if diag.is_error else by_place.get((diag.span.file, diag.span.line, diag.code))
        if hit is None:
            out.append(diag)
        else:
            used.add(hit)
    if report_unused:
        out.extend(
            diagnostic("W603", f"this suppression of {item.code} silences nothing: no {item.code} "
                               "is reported on this line", item.span,
                       help="remove it (a suppression trails the statement on the line the "
                            "warning's caret is on)")
            for item in by_place.values() if item not in used)
    return out
