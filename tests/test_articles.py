"""One rule for "a"/"an" in messages: the compiler's, the runtime's and the console's."""

from __future__ import annotations

import pytest

from ccdsl.articles import article


@pytest.mark.parametrize(("word", "said"), [("agent", "an agent"), ("order", "an order"),
                                            ("Admin", "an Admin"), ("queue", "a queue"),
                                            ("", "a ")])
def test_the_article_goes_by_the_first_letter(word: str, said: str) -> None:
    assert article(word) == said

