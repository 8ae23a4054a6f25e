"""Which keywords may follow an expression: only those the language means to.

LALR merges the parser states after an expression, so a keyword that may
follow an expression in one rule (a test line's `crm slow 3s for TYPE`, say)
is offered by the contextual lexer after every expression, and from then on
no option can be named like it: `wait 1s for 3` stops being E106 (no such
option) and becomes a syntax error. This pins the set, so a new rule that
widens it is a decision, not an accident."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccdsl.compiler.grammar import _keyword_terminals
from ccdsl.compiler.pipeline import compile_file

# `a if c else b`; `on error ->`; a routing line's `when`; a transfer's mode; a
# queue's `messages [still_busy] every 60s`
AFTER_AN_EXPRESSION = {"if", "else", "on", "when", "attended", "blind", "every"}


@pytest.mark.parametrize("word", sorted(w.lower() for w in _keyword_terminals()))
def test_a_keyword_after_an_expression_is_an_option_name_unless_the_language_means_it(
        tmp_path: Path, word: str) -> None:
    path = tmp_path / "f.ccf"
    path.write_text(f"flow f\n\nsub s():\n  wait 1s {word} 3\n", encoding="utf-8")
    codes = {d.code for d in compile_file(str(path), lower=False).diagnostics}
    if word in AFTER_AN_EXPRESSION:
        assert "E001" in codes
    else:
        assert "E001" not in codes, f"`{word}` has become a keyword after every expression"
