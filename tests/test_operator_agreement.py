"""The checker and the runtime agree on every operator and operand type: an
expression `ccf validate` accepts evaluates without a type error, and one
whose evaluation is a type error (or a null where null fails) is reported.

Each case is compiled as a real flow (`x = A op B`) and its lowered IR
evaluated by runtime.core.evaluate, so both sides are the code users run."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.compiler.lower import lower_program
from ccdsl.compiler.pipeline import compile_file, program_scopes
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import evaluate

# one literal per kind of value, as a flow writes it (several where the
# value matters: a whole number of days, an empty list)
OPERANDS = {
    "number": ["3", "0.5"],
    "text": ['"ab"'],
    "bool": ["true"],
    "duration": ["2d", "90m"],
    "time": ["09:30"],
    "date": ["2026-03-01"],
    "datetime": ["now()"],
    "list": ["[1, 2]", '["a"]'],
    "map": ["{a: 1}"],
    "null": ["null"],
    "maybe number": ["(1 if call.talked_to_agent else null)"],
}
BINARY = ["+", "-", "*", "/", "%", "<", "<=", ">", ">=", "==", "!=", "in"]
NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
# run-time errors that depend on the values, not on their types
VALUE_ERRORS = ("division by zero", "division of a duration by zero", "a date moves by whole days")


class _Context:
    def get_var(self, name):
        raise AssertionError(name)

    async def constant(self, name):
        raise AssertionError(name)

    def builtin_value(self, name, loc):
        assert name == "call"
        return {"talked_to_agent": False}

    async def call_builtin(self, name, args, kwargs, loc):
        assert name == "now"
        return NOW


def _outcome(tmp_path: Path, expr: str) -> tuple[list[str], str | None]:
    """(the checker's errors, the runtime's type error or None)."""
    path = tmp_path / "flow.ccf"
    path.write_text(f"flow f\non start:\n  x = {expr}\n  log \"${{x}}\"\n  hangup\n",
                    encoding="utf-8")
    result = compile_file(str(path))
    errors = [f"{d.code} {d.message}" for d in result.diagnostics if d.is_error]
    # lowered even when refused: the runtime must fail where the checker does
    ir = result.ir or lower_program(result.program, program_scopes(result.program))
    node = ir["handlers"]["start"]["body"][0]["value"]
    try:
        asyncio.run(evaluate(node, _Context(), None))
    except FlowError as err:
        message = str(err)
        return errors, None if any(v in message for v in VALUE_ERRORS) else message
    return errors, None


operand = st.sampled_from(sorted(OPERANDS)).flatmap(lambda k: st.sampled_from(OPERANDS[k]))


@settings(max_examples=400, deadline=None)
@given(left=operand, op=st.sampled_from(BINARY), right=operand)
def test_the_checker_accepts_exactly_what_the_runtime_evaluates(tmp_path_factory, left, op,
                                                                right) -> None:
    expr = f"{left} {op} {right}"
    errors, failure = _outcome(tmp_path_factory.mktemp("op"), expr)
    both_lists = left.startswith("[") and right.startswith("[")
    if op in ("==", "!=", "in") or both_lists:
        # lists of two item types are refused as a list literal of two types
        # is, though the runtime (which meets mixed lists from JSON) joins them;
        # comparing values of different types is refused as a mistake
        # (they are never equal), though the runtime answers false
        assert errors or failure is None, (expr, failure)
        return
    assert bool(errors) == bool(failure), (expr, errors, failure)


@settings(max_examples=60, deadline=None)
@given(value=operand)
def test_unary_minus_agrees(tmp_path_factory, value) -> None:
    errors, failure = _outcome(tmp_path_factory.mktemp("neg"), f"-{value}")
    assert bool(errors) == bool(failure), (value, errors, failure)


def test_lists_concatenate(tmp_path: Path) -> None:
    errors, failure = _outcome(tmp_path, "[1, 2] + [3]")
    assert (errors, failure) == ([], None)
    path = tmp_path / "flow.ccf"
    result = compile_file(str(path))
    node = result.ir["handlers"]["start"]["body"][0]["value"]
    assert asyncio.run(evaluate(node, _Context(), None)) == (1, 2, 3)


def test_lists_of_different_types_do_not_concatenate(tmp_path: Path) -> None:
    errors, _ = _outcome(tmp_path, '[1, 2] + ["a"]')
    assert errors and "E300" in errors[0]
