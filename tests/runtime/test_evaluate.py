"""Expressions evaluate as docs/ir.md "Expressions" and docs/language.md say."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import evaluate
from ccdsl.runtime.core.values import Duration, Record, Ref, TimeOfDay

LOC = {"file": "f.ccf", "line": 7, "column": 3}


class Ctx:
    """Variables in a dict; builtin calls recorded, so a test can tell
    whether a short-circuited side was evaluated."""

    def __init__(self, **variables):
        self.vars = variables
        self.calls: list[tuple] = []

    def get_var(self, name):
        return self.vars.get(name)

    async def constant(self, name):
        return {"ten": 10}[name]

    def builtin_value(self, name, loc):
        return Record("caller", {"number": "+86100"})

    async def call_builtin(self, name, args, kwargs, loc):
        self.calls.append((name, args, kwargs))
        return f"{name}!"

    async def call_sub(self, name, args, kwargs, loc):
        self.calls.append((name, args, kwargs))
        return 42


def lit(value, kind):
    return {"lit": value, "type": kind}


def ev(node, ctx=None):
    return asyncio.run(evaluate(node, ctx or Ctx(), LOC))


def op(o, left, right):
    return {"op": o, "left": left, "right": right}


def test_literals_become_runtime_values():
    assert ev(lit(120000, "duration")) == Duration(120000)
    assert ev(lit(540, "time")) == TimeOfDay(540)
    assert ev(lit("2026-10-01", "date")) == dt.date(2026, 10, 1)
    assert ev(lit(None, "null")) is None
    assert ev({"list": [lit(1, "number"), lit("a", "text")]}) == (1, "a")
    assert ev({"map": {"k": lit(True, "bool")}}) == {"k": True}


def test_fields_are_null_safe():
    ctx = Ctx(customer=None, order=Record("order", {"status": "shipped"}))
    assert ev({"field": {"var": "customer"}, "name": "tier"}, ctx) is None
    assert ev({"field": {"field": {"var": "customer"}, "name": "a"}, "name": "b"}, ctx) is None
    assert ev({"field": {"var": "order"}, "name": "status"}, ctx) == "shipped"
    assert ev({"field": {"var": "order"}, "name": "eta"}, ctx) is None
    assert ev({"field": {"builtin": "caller"}, "name": "number"}) == "+86100"


def test_index_is_null_when_absent():
    ctx = Ctx(flags=(True, False), info={"name": "li"})
    assert ev({"index": {"var": "flags"}, "key": lit(1, "number")}, ctx) is False
    assert ev({"index": {"var": "flags"}, "key": lit(5, "number")}, ctx) is None
    assert ev({"index": {"var": "info"}, "key": lit("x", "text")}, ctx) is None
    assert ev({"index": {"var": "missing"}, "key": lit(0, "number")}, ctx) is None


def test_and_or_and_null_coalescing_short_circuit():
    ctx = Ctx()
    call = {"call": {"builtin": "now"}, "args": [], "kwargs": {}}
    assert ev(op("??", lit("x", "text"), call), ctx) == "x"
    assert ev(op("and", lit(False, "bool"), call), ctx) is False
    assert ev(op("or", lit(True, "bool"), call), ctx) is True
    assert ctx.calls == []
    assert ev(op("??", lit(None, "null"), lit("d", "text")), ctx) == "d"


def test_equality_keeps_kinds_apart():
    assert ev(op("==", lit(1, "number"), lit(True, "bool"))) is False
    assert ev(op("==", lit(2, "number"), lit(2.0, "number"))) is True
    assert ev(op("!=", lit(None, "null"), lit("a", "text"))) is True
    assert ev(op("in", lit("a", "text"), {"list": [lit("a", "text")]})) is True
    assert ev(op("in", lit("ell", "text"), lit("hello", "text"))) is True
    assert ev(op("in", lit("x", "text"), lit(None, "null"))) is False


def test_ordering_of_incompatible_values_is_a_flow_error_with_the_op_location():
    with pytest.raises(FlowError) as caught:
        ev(op("<", lit("a", "text"), lit(1, "number")))
    assert caught.value.loc == LOC
    assert "cannot compare text" in str(caught.value)
    with pytest.raises(FlowError):
        ev(op("+", lit(1, "number"), lit(5000, "duration")))


def test_arithmetic_on_numbers_durations_and_times():
    assert ev(op("/", lit(6, "number"), lit(3, "number"))) == 2
    assert isinstance(ev(op("/", lit(6, "number"), lit(3, "number"))), int)
    assert ev(op("/", lit(7, "number"), lit(2, "number"))) == 3.5
    assert ev(op("+", lit(5000, "duration"), lit(500, "duration"))) == Duration(5500)
    assert ev(op("+", lit(1410, "time"), lit(3_600_000, "duration"))) == TimeOfDay(30)
    assert ev(op("<", lit(120000, "duration"), lit(3_600_000, "duration"))) is True
    assert ev(op("+", lit("a", "text"), lit("b", "text"))) == "ab"
    with pytest.raises(FlowError, match="division by zero"):
        ev(op("%", lit(1, "number"), lit(0, "number")))


def test_conditions_must_be_bools():
    assert ev({"not": lit(None, "null")}) is True
    assert ev({"if": lit(True, "bool"), "then": lit(1, "number"), "else": lit(2, "number")}) == 1
    with pytest.raises(FlowError, match="true or false"):
        ev({"not": lit(0, "number")})
    assert ev({"neg": lit(3, "number")}) == -3


def test_interpolation_joins_texts():
    ctx = Ctx(n=2.0, ok=True, nothing=None, wait=Duration(90_000))
    node = {"interp": [lit("n=", "text"), {"var": "n"}, lit(" ", "text"), {"var": "ok"},
                       {"var": "nothing"}, lit(" ", "text"), {"var": "wait"}]}
    assert ev(node, ctx) == "n=2 true 90s"


def test_time_values_have_fields():
    moment = dt.datetime(2026, 11, 29, 22, 5, tzinfo=dt.UTC)
    ctx = Ctx(t=moment, wait=Duration(150_000))
    assert ev({"field": {"var": "t"}, "name": "weekday"}, ctx) == "sun"
    assert ev({"field": {"var": "t"}, "name": "time"}, ctx) == TimeOfDay(22 * 60 + 5)
    assert ev({"field": {"var": "t"}, "name": "date"}, ctx) == dt.date(2026, 11, 29)
    assert ev({"field": {"var": "wait"}, "name": "minutes"}, ctx) == 2.5
    with pytest.raises(FlowError, match="no field `tier`"):
        ev({"field": {"var": "t"}, "name": "tier"}, ctx)


def test_calls_reach_builtins_subs_and_methods():
    ctx = Ctx(x=1)
    sub = {"call": {"ref": "confirm", "kind": "sub"}, "args": [{"var": "x"}], "kwargs": {}}
    assert ev(sub, ctx) == 42
    method = {"call": {"method": "open", "of": {"ref": "office", "kind": "hours"}},
              "args": [], "kwargs": {}}
    assert ev(method, ctx) == "hours.open!"
    assert ctx.calls[-1] == ("hours.open", [Ref("hours", "office")], {})
    assert ev({"const": "ten"}, ctx) == 10
