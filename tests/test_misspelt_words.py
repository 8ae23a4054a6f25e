"""The words a misspelt first word of a line is compared with are the grammar's own."""

from __future__ import annotations

import re

from ccdsl.compiler.grammar import grammar_text
from ccdsl.compiler.syntax_errors import TEST_LINE_WORDS


def test_the_test_line_words_are_those_test_lines_start_with() -> None:
    text = grammar_text()
    block = text[text.index("?test_stmt:"):text.index("!negated:")]
    first = [re.search(r'"(\w+)"', line).group(1) for line in block.splitlines()
             if line.strip()]
    assert set(TEST_LINE_WORDS) == set(first)
