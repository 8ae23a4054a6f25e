"""Narrow spans to what a diagnostic is about; pure functions of spans and source text.

Statement and declaration nodes carry the span of the whole construct; a
caret should sit under the one name that is wrong (`goto main_mnu`), and a
multi-line construct (a step, a menu) is quoted by its first line."""

from __future__ import annotations

from ccdsl.source import SourceFile, Span

# the source files of a program by path (Program.sources())
Sources = dict[str, SourceFile]


def code_end(line: str) -> int:
    """The length of a line without its trailing comment and blanks (a `#`
    inside a string is not a comment)."""
    in_string = False
    index = 0
    while index < len(line):
        ch = line[index]
        if in_string and ch == "\\":
            index += 2
            continue
        if ch == '"':
            in_string = not in_string
        elif ch == "#" and not in_string:
            break
        index += 1
    return len(line[:index].rstrip())


def head_span(span: Span, sources: dict[str, SourceFile]) -> Span:
    """The part of a span on its first line, without a trailing comment."""
    if span.line == span.end_line:
        return span
    source = sources.get(span.file)
    if source is None:
        return Span(span.file, span.line, span.column, span.line, span.column + 1)
    end = max(code_end(source.line_text(span.line)) + 1, span.column + 1)
    return Span(span.file, span.line, span.column, span.line, end)


def word_span(span: Span, word: str, sources: dict[str, SourceFile], nth: int = 0,
              skip: int = 0) -> Span:
    """The span of the ``nth`` whole-word occurrence of ``word`` on the
    first line of ``span``, at or after its start plus ``skip`` characters
    (to step over a keyword: `step NAME`); the first line of the span when
    the word is not there."""
    source = sources.get(span.file)
    if source is None:
        return head_span(span, sources)
    text = source.line_text(span.line)
    limit = span.end_column - 1 if span.line == span.end_line else len(text)
    start = span.column - 1 + skip
    seen = 0
    while True:
        at = text.find(word, start, max(limit, start))
        if at < 0:
            break
        end = at + len(word)
        if (at == 0 or not _is_word(text[at - 1])) and (end >= len(text)
                                                        or not _is_word(text[end])):
            if seen == nth:
                return Span(span.file, span.line, at + 1, span.line, end + 1)
            seen += 1
        start = at + 1
    return head_span(span, sources)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def snippet(span: Span, sources: dict[str, SourceFile]) -> str | None:
    """The source text of a one-line span, for messages that quote it."""
    source = sources.get(span.file)
    if source is None or span.line != span.end_line:
        return None
    text = source.line_text(span.line)[span.column - 1:span.end_column - 1]
    return text or None
