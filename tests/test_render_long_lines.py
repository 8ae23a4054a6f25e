"""A diagnostic on a very long line quotes the part of the line around it, cut with `…`,
with the caret under the mistake: a 5,000-character line wrapped over a terminal hid it."""

from __future__ import annotations

from ccdsl.diagnostics import diagnostic
from ccdsl.render import render
from ccdsl.source import SourceFile, Span


def _quoted(line: str, column: int, width: int) -> list[str]:
    source = SourceFile("long.ccf", f"flow long\n{line}\n")
    diag = diagnostic("E100", "unknown name `wilkommen`", Span("long.ccf", 2, column, 2,
                                                                 column + width))
    return render([diag], {"long.ccf": source}, "text", color=False).splitlines()[2:5]


def test_the_quote_of_a_long_line_is_cut_around_the_mistake() -> None:
    line = '  play tts "' + "x" * 5000 + '" + wilkommen'
    column = line.index("wilkommen") + 1
    _, quote, caret = _quoted(line, column, len("wilkommen"))
    assert len(quote) < 140 and len(caret) < 140
    assert quote.startswith("2 | …") and quote.endswith("xx\" + wilkommen")
    assert caret.index("^") == quote.index("wilkommen") and caret.endswith("^" * 9)


def test_the_start_of_a_long_line_keeps_its_beginning() -> None:
    line = "  wilkommen = " + "1 + " * 2000 + "1"
    _, quote, caret = _quoted(line, 3, len("wilkommen"))
    assert quote.startswith("2 |   wilkommen = 1 + ") and quote.endswith("…")
    assert len(quote) < 140
    assert caret == "  |   ^^^^^^^^^"


def test_a_short_line_is_quoted_whole() -> None:
    line = "  play wilkommen"
    _, quote, caret = _quoted(line, 8, len("wilkommen"))
    assert quote == "2 |   play wilkommen" and caret == "  |        ^^^^^^^^^"
