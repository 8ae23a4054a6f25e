"""Render diagnostics for people and for tools; must not print or read the terminal itself.

Five formats: ``text`` (rustc/Elm style, the source line quoted with a
caret under the span), ``concise`` (one line each, for editors and grep),
``json`` (for tools), ``github`` (GitHub Actions workflow commands, so
CI annotates the pull request) and ``sarif`` (render_sarif.py). Rendering
is pure: it needs the sources to quote lines and returns strings; the CLI
decides where they go and whether a terminal gets colour.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping

from ccdsl import json_text
from ccdsl.diagnostics import Diagnostic, Severity
from ccdsl.source import SourceFile, Span
from ccdsl.terminal_text import shown_char

FORMATS = ("text", "concise", "json", "github", "sarif")
TAB_WIDTH = 4

_ANSI = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "bold": "\x1b[1m",
    "gutter": "\x1b[1;34m",
    "help": "\x1b[1;36m",
    "reset": "\x1b[0m",
}


def display_path(path: str, root: str | None) -> str:
    """The path as shown to the reader: relative to root when it lies under
    it (golden files must not depend on where the repository is checked out)."""
    if root is None:
        return path
    absolute = os.path.abspath(path)
    root = os.path.abspath(root)
    if absolute == root or absolute.startswith(root + os.sep):
        return os.path.relpath(absolute, root).replace(os.sep, "/")
    return path


def _width(ch: str) -> int:
    # East Asian wide characters take two terminal cells, so a caret under
    # Chinese prompt text must move two cells per character; a control character
    # is quoted as its escape (`\x1b`), never acted on, and takes its escape's cells.
    if ch == "\t":
        return TAB_WIDTH
    shown = shown_char(ch)
    if shown != ch:
        return len(shown)
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def shown_line(text: str) -> str:
    """A source line as the terminal shows it under the caret: tabs as spaces, control
    characters (an escape sequence in a comment or a string) as their escapes."""
    return "".join(" " * TAB_WIDTH if ch == "\t" else shown_char(ch) for ch in text)


def cells(text: str) -> int:
    return sum(_width(ch) for ch in text)


def _caret_range(span: Span, line_text: str) -> tuple[int, int]:
    """Cells before the caret and caret length, for the first line of the span."""
    start = max(span.column - 1, 0)
    if span.end_line > span.line:
        end = len(line_text.rstrip())
    else:
        end = span.end_column - 1
    end = max(end, start + 1)
    before = cells(line_text[:start]) + max(start - len(line_text), 0)
    inside = line_text[start:end]
    length = cells(inside) + max(end - max(len(line_text), start), 0)
    return before, max(length, 1)


# a quoted line longer than this is cut around the span, so a terminal does not wrap it
QUOTE_WIDTH = 100
_CONTEXT = 40  # characters of the line kept before the span when it is cut


def _window(text: str, span: Span) -> tuple[str, int]:
    """The part of a source line to quote, and how many characters of the line its
    first character stands for before it (`…` stands for the cut-off start)."""
    if len(text) <= QUOTE_WIDTH:
        return text, 0
    start = max(span.column - 1, 0)
    lo = max(0, start - _CONTEXT)
    hi = min(len(text), max(lo + QUOTE_WIDTH, min(span.end_column - 1, start + QUOTE_WIDTH)
                            if span.end_line == span.line else lo + QUOTE_WIDTH))
    head = "…" if lo > 0 else ""
    tail = "…" if hi < len(text) else ""
    return head + text[lo:hi] + tail, lo - len(head)


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, name: str, text: str) -> str:
        if not self.color:
            return text
        return f"{_ANSI[name]}{text}{_ANSI['reset']}"


def render_text_one(diag: Diagnostic, sources: Mapping[str, SourceFile], *,
                    color: bool = False, root: str | None = None) -> str:
    """One diagnostic in the rustc/Elm style."""
    style = _Style(color)
    sev = diag.severity.value
    span = diag.span
    source = sources.get(span.file)
    quoted = source is not None and 1 <= span.line <= source.line_count
    gutter = " " * len(str(span.line)) if quoted else " "
    lines = [style(sev, f"{sev}[{diag.code}]") + style("bold", f": {diag.message}")]
    where = display_path(span.file, root)
    if quoted or span.line > 1 or span.column > 1:
        where += f":{span.line}:{span.column}"
    lines.append(f"{gutter}{style('gutter', '-->')} {where}")
    if quoted:
        text, first = _window(source.line_text(span.line), span)
        before, length = _caret_range(span._replace(
            column=span.column - first,
            end_column=min(span.end_column - first, len(text) + 1)), text)
        bar = style("gutter", "|")
        lines.append(f"{gutter} {bar}")
        shown = shown_line(text).rstrip()
        lines.append(f"{style('gutter', str(span.line))} {bar} {shown}".rstrip())
        lines.append(f"{gutter} {bar} {' ' * before}{style(sev, '^' * length)}")
    for label, texts in (("help", (diag.help,) if diag.help else ()), ("note", diag.notes)):
        for item in texts:
            first, *rest = item.splitlines() or [""]
            lines.append(f"{gutter} {style('help', '=')} {style('bold', label + ':')} {first}")
            pad = " " * (len(gutter) + 4 + len(label))
            lines.extend(f"{pad}{more}" for more in rest)
    return "\n".join(lines) + "\n"


def render_concise_one(diag: Diagnostic, *, root: str | None = None) -> str:
    s = diag.span
    return f"{display_path(s.file, root)}:{s.line}:{s.column}: {diag.code} {diag.message}\n"


def as_json_object(diag: Diagnostic, *, root: str | None = None) -> dict:
    s = diag.span
    return {
        "file": display_path(s.file, root),
        "line": s.line,
        "column": s.column,
        "end_line": s.end_line,
        "end_column": s.end_column,
        "severity": diag.severity.value,
        "code": diag.code,
        "message": diag.message,
        "help": diag.help,
        "notes": list(diag.notes),
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github_one(diag: Diagnostic, *, root: str | None = None) -> str:
    """A GitHub Actions workflow command; the runner turns it into an
    annotation on the line of the pull request."""
    s = diag.span
    level = "error" if diag.severity is Severity.ERROR else "warning"
    props = [
        f"file={_escape_property(display_path(s.file, root))}",
        f"line={s.line}",
        f"col={s.column}",
        f"endLine={s.end_line}",
        f"endColumn={s.end_column}",
        f"title={_escape_property(diag.code)}",
    ]
    return f"::{level} {','.join(props)}::{_escape_data(diag.full_message)}\n"


def render(diags: Iterable[Diagnostic], sources: Mapping[str, SourceFile], fmt: str = "text",
           *, color: bool = False, root: str | None = None) -> str:
    """All diagnostics in one format. ``json`` and ``sarif`` are always a
    complete JSON document (``[]``, a log with no results, when there is
    nothing to say)."""
    diags = list(diags)
    if fmt == "text":
        return "\n".join(render_text_one(d, sources, color=color, root=root) for d in diags)
    if fmt == "concise":
        return "".join(render_concise_one(d, root=root) for d in diags)
    if fmt == "json":
        return json_text.dumps([as_json_object(d, root=root) for d in diags], indent=2,
                               ensure_ascii=False) + "\n"
    if fmt == "github":
        return "".join(render_github_one(d, root=root) for d in diags)
    if fmt == "sarif":
        from ccdsl.render_sarif import render_sarif, repository_root

        # SARIF names files relative to a base it declares: by default the repository's
        # root, which GitHub code scanning resolves relative paths against
        return render_sarif(diags, sources, root=root or repository_root(os.getcwd()))
    raise ValueError(f"unknown format {fmt!r}; the formats are {', '.join(FORMATS)}")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary(diags: Iterable[Diagnostic], file_count: int) -> str:
    """`2 errors, 1 warning in 3 files`."""
    diags = list(diags)
    errors = sum(1 for d in diags if d.severity is Severity.ERROR)
    warnings = len(diags) - errors
    files = _plural(file_count, "file")
    if not diags:
        return f"no errors or warnings in {files}"
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {files}"
