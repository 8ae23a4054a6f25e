"""Turn lark's parse errors into diagnostics a flow author can act on.

Lark reports the token it met and the terminals it could have accepted;
those names mean nothing to an author, so they are translated, and the
common mistakes get a hand-written message and hint.
"""

from __future__ import annotations

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span

TOKEN_NAMES = {
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DURATION": "a duration (like 5s)",
    "TIME": "a time (like 09:00)",
    "DATE": "a date (like 2026-10-01)",
    "COLON": "`:`",
    "COMMA": "`,`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "DOT": "`.`",
    "EQUAL": "`=`",
    "MINUS": "`-`",
    "PLUS": "`+`",
    "STAR": "`*`",
    "SLASH": "`/`",
    "PERCENT": "`%`",
    "COMP_OP": "a comparison",
    "QMARK": "`?`",
}

# Declarations that may start a top-level item; listed when the parser
# expected one, rather than lark's long list of keywords.
TOP_LEVEL = ("flow", "use", "const", "hours", "prompt", "queue", "routing", "record",
             "wrapup", "step", "on", "sub", "test")


def _token_name(name: str) -> str:
    if name in TOKEN_NAMES:
        return TOKEN_NAMES[name]
    if name.startswith("__ANON") or name.isupper():
        # keywords are terminals named after their text
        return f"`{name.lower()}`"
    return name


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_token_name(e) for e in expected})
    keywords = [n for n in names if n.startswith("`") and n.strip("`").isalpha()]
    if len(keywords) > 6:
        names = [n for n in names if n not in keywords] + ["a keyword"]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _found(token) -> str:
    if token.type == "_NL":
        return "the end of the line"
    if token.type == "$END":
        return "the end of the file"
    if token.type == "_INDENT":
        return "an indented line"
    if token.type == "_DEDENT":
        return "the end of the block"
    return f"`{token}`"


def describe_unexpected(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    path = source.path
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line, exc.column
        text = source.line_text(line)
        ch = text[col - 1] if 0 < col <= len(text) else ""
        span = Span(path, line, col, line, col + 1)
        if ch == '"':
            return diagnostic("E004", "this string is not closed before the end of the line",
                              Span(path, line, col, line, len(text) + 1),
                              help='add the closing `"`; a string cannot span lines')
        if ch == "\t":
            return diagnostic("E003", "a tab character here is not allowed", span,
                              help="indent with spaces")
        if ch == "'":
            return diagnostic("E002", "strings are written with double quotes", span,
                              help='write "text" instead of \'text\'')
        shown = ch if ch.isprintable() else repr(ch)
        allowed = getattr(exc, "allowed", None) or set()
        hint = f"expected {_describe_expected(allowed)}" if allowed else None
        return diagnostic("E002", f"unexpected character `{shown}`", span, help=hint)
    if isinstance(exc, UnexpectedEOF):
        line = source.line_count
        return diagnostic("E001", "the file ends in the middle of a statement",
                          Span(path, line, 1, line, 2),
                          help=f"expected {_describe_expected(set(exc.expected))}")
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = set(exc.expected) if exc.expected else set()
    line = tok.line if tok.line is not None else source.line_count
    col = tok.column if tok.column is not None else 1
    end_col = tok.end_column if tok.end_column and tok.end_line == line else col + 1
    if tok.type in ("_NL", "$END", "_DEDENT"):
        # point just past the last character of the line rather than at the
        # newline token, which lark places on the next line
        line = _previous_code_line(source, line if tok.type != "_NL" else tok.line)
        col = len(source.line_text(line).rstrip()) + 1
        end_col = col + 1
    span = Span(path, line, col, line, max(end_col, col + 1))
    found = _found(tok)
    if tok.type == "_INDENT":
        return diagnostic("E003", "unexpected indentation", span,
                          help="this line is indented more than the block it is in; "
                               "only a line ending in `:` opens a new block")
    if expected == {"COLON"} or (tok.type == "_NL" and "COLON" in expected
                                 and len(expected) <= 3):
        return diagnostic("E001", f"expected `:` to open a block, found {found}", span,
                          help="a step, handler, menu or `if` ends its first line with `:`")
    if tok.type == "_DEDENT" or (tok.type == "$END" and "_INDENT" in expected):
        return diagnostic("E003", "expected an indented block", span,
                          help="indent the lines that belong to this block")
    if "_INDENT" in expected and tok.type != "_NL":
        return diagnostic("E003", f"expected an indented block, found {found}", span,
                          help="indent the lines that belong to this block")
    if expected and expected <= {f"{k.upper()}" for k in TOP_LEVEL} | {"$END"}:
        return diagnostic("E001", f"expected a declaration, found {found}", span,
                          help="a top-level line starts with one of: " + ", ".join(TOP_LEVEL))
    if tok.type == "EQUAL" and "__ANON_EQ" not in expected:
        return diagnostic("E001", "unexpected `=`", span,
                          help="assign to a plain name (`x = ...`); compare with `==`")
    return diagnostic("E001", f"unexpected {found}; expected {_describe_expected(expected)}",
                      span)


def _previous_code_line(source: SourceFile, line: int) -> int:
    line = min(line, source.line_count)
    while line > 1:
        text = source.line_text(line).strip()
        if text and not text.startswith("#"):
            return line
        line -= 1
    return max(line, 1)
