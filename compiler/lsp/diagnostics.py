"""The compiler's diagnostics as LSP diagnostics: the same codes, severities, messages and
spans `ccf validate` reports, each code linked to its explanation (`ccf explain CODE`).

Must not check anything itself: the diagnostics come from the pipeline (documents.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources

from lsprotocol import types as lsp

from ccdsl.codes import Severity
from ccdsl.compiler.lsp.positions import path_to_uri
from ccdsl.diagnostics import Diagnostic
from ccdsl.source import Span

SEVERITIES = {Severity.ERROR: lsp.DiagnosticSeverity.Error,
              Severity.WARNING: lsp.DiagnosticSeverity.Warning}
# a note that points at another line of the same file: "the first is at line 12"
_AT_LINE = re.compile(r"\bline (\d+)\b(?! of )")


@cache
def explanation_uri(code: str) -> str | None:
    """The file URI of a code's explanation, which `ccf explain CODE` prints."""
    page = resources.files("ccdsl") / "explanations" / f"{code}.md"
    return path_to_uri(str(page)) if page.is_file() else None


def message_of(diag: Diagnostic) -> str:
    return diag.message + (f"\nhelp: {diag.help}" if diag.help else "")


def to_lsp(diag: Diagnostic, to_range: Callable[[Span], lsp.Range]) -> lsp.Diagnostic:
    """One diagnostic. Its notes become related information: at the line a note names
    (a duplicate's first declaration), else at the diagnostic itself."""
    here = to_range(diag.span)
    uri = path_to_uri(diag.span.file)
    related = []
    for note in diag.notes:
        where = here
        found = _AT_LINE.search(note)
        if found:
            line = int(found.group(1))
            where = to_range(Span(diag.span.file, line, 1, line, 1))
        related.append(lsp.DiagnosticRelatedInformation(lsp.Location(uri, where), note))
    href = explanation_uri(diag.code)
    message = message_of(diag)
    if not uri.startswith("file:"):
        # a buffer that is no file is compiled under a path of the server's making
        message = message.replace(diag.span.file, uri)
    return lsp.Diagnostic(
        range=here, message=message, severity=SEVERITIES[diag.severity],
        code=diag.code, source="ccf",
        code_description=lsp.CodeDescription(href) if href else None,
        related_information=related or None)


def by_file(diags: Sequence[Diagnostic], files: Sequence[str],
            to_range: Callable[[Span], lsp.Range]) -> dict[str, list[lsp.Diagnostic]]:
    """The diagnostics of each of `files` (an empty list clears a file's old ones)."""
    out: dict[str, list[lsp.Diagnostic]] = {f: [] for f in files}
    for diag in diags:
        if diag.span.file in out:
            out[diag.span.file].append(to_lsp(diag, to_range))
    return out


# a `use` line of the entry: `use billing`, `use stdlib.voicemail as vm`
_USE = re.compile(r"use[ \t]+([^\W\d]\w*(?:\.[^\W\d]\w*)*)")


def in_used_modules(diags: Sequence[Diagnostic], shown: set[str], entry: str,
                    entry_lines: Sequence[str], to_range: Callable[[Span], lsp.Range]
                    ) -> list[lsp.Diagnostic]:
    """The errors and warnings of the modules a flow uses, which `ccf validate` reports
    with the flow, put at the `use` line that brings each file in (else the first `use`),
    pointing at the place: the editor shows only the files it has open, and the flow
    cannot be checked past a module that does not load. `shown`: files published anyway."""
    from ccdsl.compiler.loader import resolve_dotted

    uses = []
    for number, text in enumerate(entry_lines, 1):
        found = _USE.match(text)
        if found is not None:
            dotted = found.group(1)
            file = os.path.abspath(resolve_dotted(tuple(dotted.split(".")), entry)[2])
            uses.append((Span(entry, number, 1, number, found.end() + 1), dotted, file))
    out = []
    for diag in diags:
        if diag.span.file in shown or not uses:
            continue
        here = os.path.abspath(diag.span.file)
        direct = next((u for u in uses if u[2] == here), None)
        span, dotted, _ = direct or uses[0]
        # which `use` leads to a module used by a module is not known here: none is named
        what = f"the module `{dotted}`" if direct else "a module that this flow's modules use"
        has = "an error" if diag.is_error else "a warning"
        out.append(lsp.Diagnostic(
            range=to_range(span), message=f"{what} has {has}: {message_of(diag)}",
            severity=SEVERITIES[diag.severity], code=diag.code, source="ccf",
            related_information=[lsp.DiagnosticRelatedInformation(
                lsp.Location(path_to_uri(diag.span.file), to_range(diag.span)),
                diag.message)]))
    return out
