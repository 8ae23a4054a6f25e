"""runtime/core/json_answer.py reads an answer's depth and numbers in one walk: the words
of each refusal, and which is said when an answer has both, stay what they were."""

from __future__ import annotations

from ccdsl.runtime.core.json_answer import TOO_DEEP, number_problem, read_json
from ccdsl.runtime.core.values import MAX_VALUE_DEPTH


def deep(levels: int, inner: str = "1") -> bytes:
    return ("[" * levels + inner + "]" * levels).encode()


def test_the_deepest_answer_a_flow_holds_is_read() -> None:
    value, problem = read_json(deep(MAX_VALUE_DEPTH))
    assert problem is None and value is not None


def test_one_level_more_is_too_deep() -> None:
    assert read_json(deep(MAX_VALUE_DEPTH + 1)) == (None, TOO_DEEP)


def test_too_deep_is_said_before_a_number_in_it() -> None:
    body = b'{"a": NaN, "b": ' + deep(MAX_VALUE_DEPTH + 1) + b"}"
    assert read_json(body) == (None, TOO_DEEP)


def test_a_number_a_flow_cannot_hold_is_named() -> None:
    assert read_json(b'{"a": [1, 2, Infinity]}') == (
        None, "a number a flow cannot hold: a number too large (past about 1.8e308) is not "
              "a finite number")
    assert number_problem({"a": [float("nan")]}) == "NaN is not a finite number"
    assert number_problem((1, 2.5, True, "x")) is None
