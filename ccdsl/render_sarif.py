"""Diagnostics as one SARIF 2.1.0 log (for GitHub code scanning and other tools); no printing.

Paths are URIs relative to root (the repository's root: GitHub resolves a
relative uri against it) under the base id %SRCROOT%; columns are UTF-16
code units, SARIF's default, so a caret after an emoji lands where an
editor puts it. Each code used is a rule, described from its long
explanation. Each result carries the line hash code scanning matches
alerts by, from the file as it is on disk (as upload-sarif reads it), else
from the text compiled. No automationDetails: upload-sarif's `category`
fills it only where a log has none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from ccdsl import __version__, installed_version, json_text
from ccdsl.codes import CODES, explanation
from ccdsl.diagnostics import Diagnostic, Severity
from ccdsl.sarif_fingerprint import line_hashes
from ccdsl.source import SourceFile, Span

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"


def repository_root(start: str) -> str:
    """The nearest folder from start up that holds `.git` (a folder, or a
    file in a worktree or submodule); start itself when there is none."""
    here = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.abspath(start)
        here = parent


def _file_text(path: str, source: SourceFile | None) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return source.text if source is not None else None


def _artifact(path: str, root: str) -> dict:
    absolute = os.path.abspath(path)
    base = os.path.abspath(root)
    if absolute == base or absolute.startswith(base + os.sep):
        rel = os.path.relpath(absolute, base).replace(os.sep, "/")
        return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}
    return {"uri": Path(absolute).as_uri()}


def _directory_uri(root: str) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _utf16_column(line_text: str | None, column: int) -> int:
    """The 1-based UTF-16 column of a 1-based code-point column."""
    if line_text is None:
        return column
    before = line_text[:column - 1]
    extra = max(column - 1 - len(line_text), 0)  # past the end of the line
    return len(before.encode("utf-16-le")) // 2 + extra + 1


def _region(span: Span, source: SourceFile | None) -> dict:
    def line(n: int) -> str | None:
        return source.line_text(n) if source is not None and 1 <= n <= source.line_count \
            else None

    return {
        "startLine": span.line,
        "startColumn": _utf16_column(line(span.line), span.column),
        "endLine": span.end_line,
        "endColumn": _utf16_column(line(span.end_line), span.end_column),
    }


def _first_paragraph(text: str) -> str:
    """The explanation's first paragraph after its `# CODE: title` heading."""
    body = text.split("\n", 1)[1] if text.startswith("# ") else text
    paragraph = body.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def _rule(code: str) -> dict:
    info = CODES[code]
    rule = {
        "id": code,
        "name": "".join(word.capitalize() for word in info.title.replace("-", " ").split()
                        if word.isalnum()),
        "shortDescription": {"text": info.title},
        "defaultConfiguration": {"level": info.severity.value},
        "properties": {"tags": ["ccf", info.severity.value]},
    }
    text = explanation(code)
    if text:
        rule["fullDescription"] = {"text": _first_paragraph(text)}
        rule["help"] = {"text": text, "markdown": text}
    return rule


def sarif_log(diags: Iterable[Diagnostic], sources: Mapping[str, SourceFile], *,
              root: str) -> dict:
    diags = list(diags)
    codes = sorted({d.code for d in diags})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    hashes: dict[str, dict[int, str]] = {}
    for diag in diags:
        path = diag.span.file
        if path not in hashes:
            text = _file_text(path, sources.get(path))
            hashes[path] = line_hashes(text) if text is not None else {}
        fingerprint = hashes[path].get(diag.span.line)
        results.append({
            "ruleId": diag.code,
            "ruleIndex": index[diag.code],
            "level": "error" if diag.severity is Severity.ERROR else "warning",
            "message": {"text": diag.full_message},
            "locations": [{"physicalLocation": {
                "artifactLocation": _artifact(diag.span.file, root),
                "region": _region(diag.span, sources.get(diag.span.file)),
            }}],
            **({"partialFingerprints": {"primaryLocationLineHash": fingerprint}}
               if fingerprint else {}),
        })
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ccf",
                "version": installed_version() or f"{__version__}+unknown",
                "rules": [_rule(code) for code in codes],
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(root)}},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    }


def render_sarif(diags: Iterable[Diagnostic], sources: Mapping[str, SourceFile], *,
                 root: str) -> str:
    return json_text.dumps(sarif_log(diags, sources, root=root), indent=2,
                           ensure_ascii=False) + "\n"
