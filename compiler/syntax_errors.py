"""Turn lark's parse errors into diagnostics a flow author can act on; must not build the AST.

Lark reports the token it met and the terminals it could have accepted;
those names mean nothing to an author, so they are translated, and the
common mistakes get a hand-written message and hint.
"""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ccdsl.compiler.comments import comment_start
from ccdsl.compiler.grammar import lark_parser
from ccdsl.compiler.quoted_interpolation import quote_in_interpolation
from ccdsl.compiler.statements import STATEMENT_START, STATEMENT_WORDS
from ccdsl.compiler.words import first_words, keywords
from ccdsl.diagnostics import Diagnostic, diagnostic, did_you_mean
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


# Terminals lark names __ANON_n are the grammar's unnamed punctuation;
# they are shown by their text.
ANONYMOUS = {"->": "`->`", "..": "`..`", "??": "`??`"}

# Tokens that can start an expression (a statement's: STATEMENT_START, from
# the statement table): when several are expected, the message says "an
# expression" / "a statement" instead of listing them.
EXPR_START = {"NAME", "NUMBER", "STRING", "DURATION", "TIME", "DATE", "LPAR", "LSQB", "LBRACE",
              "MINUS", "NOT", "TRUE", "FALSE", "NULL"}


def _anonymous_text(name: str) -> str | None:
    try:
        pattern = lark_parser().get_terminal(name).pattern
    except KeyError:
        return None
    return pattern.value if type(pattern).__name__ == "PatternStr" else None


def _token_name(name: str) -> str:
    if name in TOKEN_NAMES:
        return TOKEN_NAMES[name]
    if name.startswith("__ANON"):
        text = _anonymous_text(name)
        return ANONYMOUS.get(text, f"`{text}`") if text else "a symbol"
    if name.isupper():
        # keywords are terminals named after their text
        return f"`{name.lower()}`"
    return name


def _describe_expected(expected: set[str]) -> str:
    expected = set(expected)
    groups = []
    if len(expected & STATEMENT_START) >= 4:
        expected -= STATEMENT_START | EXPR_START
        groups.append("a statement")
    elif len(expected & EXPR_START) >= 4:
        expected -= EXPR_START
        groups.append("an expression")
    names = sorted({_token_name(e) for e in expected})
    keywords = [n for n in names if n.startswith("`") and n.strip("`").replace("_", "").isalpha()]
    if len(keywords) > 6:
        names = [n for n in names if n not in keywords] + ["a keyword"]
    names = groups + names
    if not names:
        return "something else"
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
        if ch in _CHARACTER_HINTS:
            message, hint = _CHARACTER_HINTS[ch]
            return diagnostic("E002", message, span, help=hint)
        shown = ch if ch.isprintable() else repr(ch)
        allowed = getattr(exc, "allowed", None) or set()
        hint = f"expected {_describe_expected(allowed)}" if allowed else None
        return diagnostic("E002", f"unexpected character `{shown}`", span, help=hint)
    if isinstance(exc, UnexpectedEOF):
        unclosed = _unclosed_bracket(source, None)
        if unclosed is not None:
            return unclosed
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
    if tok.type not in ("_NL", "$END", "_DEDENT", "_INDENT") and tok.line is not None:
        # right after a string that leaves a `${` open: its quote was meant inside it
        quoted = quote_in_interpolation(source, tok.line, tok.column - 1)
        if quoted is not None:
            return quoted
    unclosed = _unclosed_bracket(source, tok)
    if unclosed is not None:
        return unclosed
    classified = _classify(source, exc, tok, span, found)
    if classified is not None:
        return classified
    if tok.type == "_INDENT":
        # lark places the indent on the newline before the line: point at the
        # indentation of the line that has too much of it
        bad = _next_code_line(source, tok.line)
        text = source.line_text(bad)
        indent = text[:len(text) - len(text.lstrip())]
        span = Span(path, bad, 1, bad, len(indent) + 1)
        return diagnostic("E003", "unexpected indentation", span,
                          help="indent with spaces only: a tab counts as 8 columns, so lines "
                               "indented with tabs and with spaces do not line up"
                          if "\t" in indent else
                          "this line is indented more than the block it is in; "
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
    if tok.type == "EQUAL":
        return diagnostic("E001", "`=` cannot stand here: it only assigns to a plain name", span,
                          help="assign with `name = value` on a line of its own; compare with `==`")
    return diagnostic("E001", f"unexpected {found}; expected {_describe_expected(expected)}",
                      span)


def _next_code_line(source: SourceFile, line: int) -> int:
    # the first line after `line` that is neither blank nor a comment
    for number in range(line + 1, source.line_count + 1):
        text = source.line_text(number).strip()
        if text and not text.startswith("#"):
            return number
    return line


def _previous_code_line(source: SourceFile, line: int) -> int:
    line = min(line, source.line_count)
    while line > 1:
        text = source.line_text(line).strip()
        if text and not text.startswith("#"):
            return line
        line -= 1
    return max(line, 1)


_CHARACTER_HINTS = {
    "&": ("`&` is not an operator in .ccf", "write `and` to combine conditions"),
    "|": ("`|` is not an operator in .ccf", "write `or` to combine conditions"),
    "!": ("`!` is not an operator in .ccf", "write `not x` to negate; `!=` means not equal"),
    ";": ("`;` is not used in .ccf", "a statement ends at the end of its line; remove the `;`"),
    "'": ("strings are written with double quotes", "write \"text\" instead of 'text'"),
    "`": ("strings are written with double quotes", "write \"text\" instead of `text`"),
}

_OPENERS = {"(": ")", "[": "]", "{": "}"}


def _open_brackets(text: str, stop: int) -> list[tuple[str, int]] | None:
    """The brackets still open at offset `stop`, skipping strings and
    comments; None when the brackets are already mismatched."""
    stack: list[tuple[str, int]] = []
    i = 0
    while i < stop:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < len(text) and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch == "#":
            newline = text.find("\n", i)
            i = newline if newline != -1 else stop
            continue
        if ch in _OPENERS:
            stack.append((ch, i))
        elif ch in _OPENERS.values():
            if not stack or _OPENERS[stack[-1][0]] != ch:
                return None
            stack.pop()
        i += 1
    return stack


def _unclosed_bracket(source: SourceFile, tok) -> Diagnostic | None:
    """Inside brackets line ends are ignored, so a missing `)` or `]` is only
    noticed lines later, at whatever comes next; point at the opener instead."""
    # the indenter's closing _DEDENTs stand at the end of the file too
    at_end = tok is None or tok.type in ("$END", "_DEDENT") or tok.start_pos is None
    stop = len(source.text) if at_end else tok.start_pos
    stack = _open_brackets(source.text, stop)
    if not stack:
        return None
    opener, offset = stack[-1]
    # a bracket that a later line closes is a multi-line list, not the mistake
    if (opener, offset) not in (_open_brackets(source.text, len(source.text)) or []):
        return None
    line, col = source.position(offset)
    return diagnostic("E001", f"this `{opener}` is never closed",
                      Span(source.path, line, col, line, col + 1),
                      help=f"add the closing `{_OPENERS[opener]}` before the end of the line")


# Common mistakes, classified by example: lark matches the parser state of
# the error against the state each example fails in (match_examples).
_EXAMPLES = {
    "missing_arrow": [
        "flow d\non start:\n  menu:\n    1 goto a\n",
        "flow d\non start:\n  menu:\n    1 hangup\n",
        "flow d\non start:\n  menu:\n    \"*\" goto a\n",
        "flow d\non start:\n  menu:\n    1, 2 goto a\n",
        "flow d\non start:\n  match x:\n    1 goto a\n",
        "flow d\non start:\n  match x:\n    \"a\" goto a\n",
        "flow d\non start:\n  match x:\n    else goto a\n",
        "flow d\non start:\n  menu:\n    timeout, invalid goto a\n",
    ],
    "else_if": [
        "flow d\non start:\n  if x:\n    hangup\n  else if y:\n    hangup\n",
    ],
    "arrow_needs_statement": [
        "flow d\non start:\n  menu:\n    1 ->\n      hangup\n",
        "flow d\non start:\n  match x:\n    1 ->\n      hangup\n",
        "flow d\non start:\n  x = f() on error ->\n",
    ],
}

_MESSAGES = {
    "missing_arrow": (
        "expected `->` or `:` after the key of this arm, found {found}",
        "write `1 -> goto sales` for one statement, or `1:` with an indented block"),
    "else_if": (
        "`else if` is written `elif`",
        "write `elif CONDITION:`"),
    "arrow_needs_statement": (
        "expected a statement after `->` on the same line",
        "write the statement after the arrow (`1 -> goto sales`), or use `1:` and an "
        "indented block for several statements"),
}


def _parse_example(text: str):
    return lark_parser().parse(text, start="start")


def _condition_keyword(line: str) -> str | None:
    words = line.strip().split()
    if words and words[0] in ("if", "elif", "match"):
        return words[0]
    if " when " in f" {line} ":
        return "when"
    return None


def _classify(source: SourceFile, exc, tok, span: Span, found: str) -> Diagnostic | None:
    line_text = source.line_text(span.line)
    keyword = _condition_keyword(line_text)
    if tok.type == "EQUAL" and keyword:
        return diagnostic("E001", f"`=` assigns; to compare in `{keyword}` write `==`", span,
                          help=f"`{keyword} a == b` compares two values")
    expected = set(exc.expected or ())
    misspelt = _misspelt_statement(line_text, tok, span) or _misspelt_test_line(tok, span,
                                                                                expected)
    if misspelt is not None:
        return misspelt
    extra = _word_after_expectation(line_text, tok, span) \
        or _prompt_line_without_language(source, line_text, span, expected)
    if extra is not None:
        return extra
    if tok.type not in ("_NL", "$END", "_DEDENT", "_INDENT") and tok.column == 1 \
            and {"STEP", "ON", "FLOW"} <= expected:
        return diagnostic("E001", f"expected a declaration at the top level, found {found}",
                          span, help="statements belong inside a step or handler: indent this "
                                     "line under `step NAME:` or `on start:`")
    if tok.type not in ("_NL", "$END", "_DEDENT", "_INDENT") and _opens_block(source, span.line):
        return diagnostic("E003", f"expected an indented block, found {found}", span,
                          help="indent the lines that belong to the block the line before opens")
    inner = _open_brackets(source.text, tok.start_pos) if tok.start_pos is not None else None
    closing = {"(": "RPAR", "[": "RSQB", "{": "RBRACE"}
    if inner and closing[inner[-1][0]] in expected and "COMMA" in expected \
            and tok.type not in ("_NL", "$END", "_DEDENT", "_INDENT"):
        close = _OPENERS[inner[-1][0]]
        return diagnostic("E001", f"expected `,` or `{close}`, found {found}", span,
                          help=f"separate the items with `,` and close with `{close}`")
    if tok.type == "IF" and line_text[: span.column - 1].rstrip().endswith("else"):
        label = "else_if"
        message, hint = _MESSAGES[label]
        return diagnostic("E001", message, span, help=hint)
    try:
        label = exc.match_examples(_parse_example, _EXAMPLES, use_accepts=True)
    except Exception:  # a broken example must never hide the author's real error
        label = None
    # lark compares parser states including the stack depth, so an arm nested
    # deeper than the examples is recognised by what the parser accepts too
    if label is None and tok.type != "_NL" and "COLON" in expected \
            and "`->`" in {_token_name(e) for e in expected}:
        label = "missing_arrow"
    if label is None:
        return None
    message, hint = _MESSAGES[label]
    return diagnostic("E001", message.format(found=found), span, help=hint)


def _misspelt_test_line(tok, span: Span, expected: set) -> Diagnostic | None:
    """`pres "1"` in a test block: the parser wanted a test line's first word."""
    if tok.type != "NAME" or not {"PRESS", "EXPECT"} <= expected:
        return None
    words = first_words("test_stmt")  # in the grammar's order
    close = did_you_mean(str(tok), words)
    return diagnostic("E001", f"unknown test statement `{tok}`", span,
                      help=(close + " " if close else "")
                      + "a test's lines start with: " + ", ".join(words))


def _misspelt_statement(line_text: str, tok, span: Span) -> Diagnostic | None:
    """`plya tts "Welcome."`: a line's first word is no statement, so it was read as a
    name, and the word after it is unexpected; the word is like a statement's keyword."""
    first = line_text.split(maxsplit=1)[0] if line_text.strip() else ""
    start = len(line_text) - len(line_text.lstrip()) + 1
    after = line_text[start - 1 + len(first):]
    if tok.type in ("_NL", "$END", "_DEDENT", "_INDENT") or not first.isidentifier() \
            or first in keywords() or tok.column != start + len(first) \
            + len(after) - len(after.lstrip()) or not after[:1].isspace():
        return None
    close = did_you_mean(first, STATEMENT_WORDS)
    if close is None:
        return None
    return diagnostic("E001", f"unknown statement `{first}`",
                      Span(span.file, span.line, start, span.line, start + len(first)),
                      help=close)


def _word_after_expectation(line_text: str, tok, span: Span) -> Diagnostic | None:
    """`expect played welcome twice`: the grammar reads a word after the value
    as an option (`expect queue service priority 10`) whose value is missing;
    the author wrote one word too many."""
    code = line_text.rstrip()
    words = code.split()
    if tok.type != "_NL" or len(words) < 3 or words[0] != "expect" \
            or not words[-1].isidentifier():
        return None
    column = len(code) - len(words[-1]) + 1
    return diagnostic("E001", f"unexpected `{words[-1]}`; expected the end of the line",
                      Span(span.file, span.line, column, span.line, len(code) + 1),
                      help="an expectation ends with what it expects (`expect played "
                           "welcome`); only `expect queue NAME` takes more: `priority N`")


_FIRST_LANGUAGE = re.compile(r"^[ \t]+languages[ \t]+([A-Za-z][\w-]*)", re.M)


def _prompt_line_without_language(source: SourceFile, line_text: str, span: Span,
                                  expected: set) -> Diagnostic | None:
    """`tts "Welcome."` under `prompt welcome:`: the grammar read `tts` as the line's
    language and wanted `tts` or `file` after it."""
    words = line_text.split(maxsplit=1)
    if len(words) < 2 or words[0] not in ("tts", "file") or not {"TTS", "FILE"} <= expected:
        return None
    start = len(line_text) - len(line_text.lstrip()) + 1
    if span.column != line_text.index(words[1], start - 1 + len(words[0])) + 1:
        return None
    found = _FIRST_LANGUAGE.search(source.text)
    language = found.group(1) if found else "en-US"
    cut = comment_start(line_text)
    written = (line_text[:cut] if cut >= 0 else line_text).strip()
    return diagnostic("E001", "a prompt's line starts with its language",
                      Span(span.file, span.line, start, span.line, start + len(words[0])),
                      help=f"write `{language} {written}`: one line per language the prompt "
                           "is played in, each beginning with the language's tag")


def _opens_block(source: SourceFile, line: int) -> bool:
    """Whether the code line before `line` ends with `:` and `line` is not
    indented deeper than it, so the block that `:` opens is missing."""
    if line <= 1:
        return False
    before = _previous_code_line(source, line - 1)
    if before >= line:
        return False
    prev = source.line_text(before)
    cut = comment_start(prev)
    code = (prev[:cut] if cut >= 0 else prev).rstrip()
    if not code.endswith(":"):
        return False
    here = source.line_text(line)
    width = len(here) - len(here.lstrip(" \t"))
    return width <= len(prev) - len(prev.lstrip(" \t"))

