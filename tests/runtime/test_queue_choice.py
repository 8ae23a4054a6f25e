"""A queue option with fixed choices, as the interpreter reads it from the IR."""

from __future__ import annotations

import pytest

from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.ops.agents import _choice

DECL = {"loc": {"file": "f.ccf", "line": 3, "column": 1}}


def test_an_ir_older_than_the_option_means_its_default() -> None:
    assert _choice({}, "autopause", "no", ("yes", "all", "no"), "service", DECL) == "no"
    assert _choice({"autopause": "all"}, "autopause", "no", ("yes", "all", "no"),
                   "service", DECL) == "all"


def test_a_word_not_among_the_choices_is_a_flow_error_at_the_declaration() -> None:
    with pytest.raises(FlowError, match="queue service: strategy 'fast' is not one of a, b") \
            as caught:
        _choice({"strategy": "fast"}, "strategy", "a", ("a", "b"), "service", DECL)
    assert caught.value.loc == DECL["loc"]
