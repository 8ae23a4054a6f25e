"""Evaluation of IR expression trees (docs/ir.md "Expressions"); async, as calls may reach the CRM.

Knows no call: a context gives the variables, constants and builtins. A value of the
wrong kind raises FlowError at the op's location.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from typing import Any, Protocol

from ccdsl.articles import article
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.values import (
    MAX_DURATION_MS,
    MAX_VALUE_DEPTH,
    Duration,
    Record,
    Ref,
    TimeOfDay,
    nesting,
    spell,
    to_text,
)

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class EvalContext(Protocol):
    def get_var(self, name: str) -> Any: ...

    async def constant(self, name: str) -> Any: ...

    def builtin_value(self, name: str, loc: dict | None) -> Any: ...

    async def call_builtin(self, name: str, args: list, kwargs: dict, loc: dict | None) -> Any:
        ...

    async def call_sub(self, name: str, args: list, kwargs: dict, loc: dict | None) -> Any: ...


def literal(node: dict) -> Any:
    value, kind = node["lit"], node["type"]
    if kind not in _MADE:
        return value
    made = _made.get((kind, value))
    if made is None:
        made = _make_literal(kind, value)
        if len(_made) >= _MADE_KEPT:
            _made.clear()  # a server loading flow after flow: start again
        _made[(kind, value)] = made
    return made


def _make_literal(kind: str, value: Any) -> Any:
    if kind == "duration":
        return Duration(int(value))
    if kind == "time":
        return TimeOfDay(int(value))
    return dt.date.fromisoformat(value)


# The literals made into values (durations, times, dates) on every reading
# (a menu's timeouts on every call): made once per kind and written value.
# They are immutable, so one value may serve every reading.
_MADE = frozenset(("duration", "time", "date"))
_MADE_KEPT = 4096
_made: dict[tuple[str, Any], Any] = {}


def kind_of(value: Any) -> str:
    """The language's name for the kind of a run-time value (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Duration):
        return "duration"
    if isinstance(value, TimeOfDay):
        return "time"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Record):
        return value.kind
    if isinstance(value, Ref):
        return value.kind
    return type(value).__name__


def described(value: Any) -> str:
    """A value in a message: its kind and how the language writes it
    (`number 3`, `text "3"`); null is just null."""
    return "null" if value is None else f"{kind_of(value)} {spell(value)}"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def truthy(value: Any, loc: dict | None, what: str = "a condition") -> bool:
    """A condition's value: a bool, or null (false). Anything else is an
    error, so `if 0:` cannot silently mean false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise FlowError(f"{what} must be true or false, not {described(value)}", loc)


def equal(a: Any, b: Any) -> bool:
    """`==`: values of different kinds are never equal (true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b) and not (isinstance(a, (list, tuple))
                                       and isinstance(b, (list, tuple))):
        # a datetime is a date in Python; keep them apart
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _orderable(a: Any, b: Any) -> bool:
    if is_number(a) and is_number(b):
        return True
    return type(a) is type(b) and isinstance(a, (str, Duration, TimeOfDay, dt.date))


def compare(op: str, a: Any, b: Any, loc: dict | None) -> bool:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if not _orderable(a, b):
        raise FlowError(f"cannot compare {described(a)} {op} {described(b)}", loc)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def contains(container: Any, item: Any, loc: dict | None) -> bool:
    """`item in container`: an item of a list, a key of a map, a part of a text."""
    if container is None:
        return False
    if isinstance(container, (list, tuple)):
        return any(equal(item, x) for x in container)
    if isinstance(container, dict):
        if item is None:
            return False
        if not isinstance(item, str):
            raise FlowError(f"`in` a map looks for a key (a text), not {kind_of(item)}", loc)
        return item in container
    if isinstance(container, str):
        if not isinstance(item, str):
            raise FlowError(f"`in` a text needs a text, not {kind_of(item)}", loc)
        return item in container
    raise FlowError(f"`in` needs a list, a map or a text on the right, not "
                    f"{kind_of(container)}", loc)


def _tidy(number: float | int) -> float | int:
    """Keep whole results whole, so 6 / 3 reads as 2."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _add_minutes(t: TimeOfDay, ms: int) -> TimeOfDay:
    return TimeOfDay((t.minutes + ms // 60_000) % 1440)


def _numbers(op: str, a: float | int, b: float | int, loc: dict | None) -> float | int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise FlowError(f"division by zero in {to_text(a)} {op} 0", loc)
    return a / b if op == "/" else a % b


def _short(number: float | int) -> str:
    # a number of 300 digits would fill the trace line
    return f"{number:.3e}" if abs(number) >= 1e15 else to_text(number)


def _finite(op: str, a: float | int, b: float | int, loc: dict | None) -> float | int:
    """The result of a number op, or a FlowError when it is too large for a
    number: inf would reach the caller as "inf" and JSON cannot hold it."""
    try:
        result = _numbers(op, a, b, loc)
    except OverflowError:  # a whole number too large to meet a float
        result = math.inf
    if not abs(result) <= sys.float_info.max:  # also a whole number past any float, or NaN
        raise FlowError(f"a number too large in {_short(a)} {op} {_short(b)}: numbers run "
                        f"up to about 1.8e308", loc)
    return _tidy(result)


def arithmetic(op: str, a: Any, b: Any, loc: dict | None) -> Any:
    if is_number(a) and is_number(b):
        return _finite(op, a, b, loc)
    if (isinstance(a, dt.date) and isinstance(b, (dt.date, Duration))
            or isinstance(a, Duration) and isinstance(b, dt.date)):
        try:
            return _moments(op, a, b, loc)
        except OverflowError:  # datetime's calendar ends with the year 9999
            later = (op == "+") == ((b if isinstance(b, Duration) else a).ms >= 0)
            raise FlowError(f"{described(a)} {op} {described(b)} is a moment "
                            f"{'past the year 9999' if later else 'before the year 1'}",
                            loc) from None
    if op == "+":
        if isinstance(a, str) and isinstance(b, str):
            return a + b
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return (*a, *b)  # no deeper than the deeper of the two
        if isinstance(a, Duration) and isinstance(b, TimeOfDay):
            return _add_minutes(b, a.ms)
        if isinstance(a, TimeOfDay) and isinstance(b, Duration):
            return _add_minutes(a, b.ms)
        if isinstance(a, Duration) and isinstance(b, Duration):
            return _duration(a.ms + b.ms, op, a, b, loc)
    if op == "-":
        if isinstance(a, Duration) and isinstance(b, Duration):
            return _duration(a.ms - b.ms, op, a, b, loc)
        if isinstance(a, TimeOfDay) and isinstance(b, Duration):
            return _add_minutes(a, -b.ms)
        if isinstance(a, TimeOfDay) and isinstance(b, TimeOfDay):
            return Duration((a.minutes - b.minutes) * 60_000)
    if op == "*":
        if isinstance(a, Duration) and is_number(b):
            return _duration(_times(a.ms, b), op, a, b, loc)
        if is_number(a) and isinstance(b, Duration):
            return _duration(_times(a, b.ms), op, a, b, loc)
    if op == "/" and isinstance(a, Duration) and is_number(b):
        if b == 0:
            raise FlowError("division of a duration by zero", loc)
        return _duration(a.ms / b, op, a, b, loc)
    if op == "/" and isinstance(a, Duration) and isinstance(b, Duration):
        if b.ms == 0:
            raise FlowError("division by zero: a duration divided by 0s", loc)
        return _tidy(a.ms / b.ms)
    raise FlowError(f"cannot compute {described(a)} {op} {described(b)}", loc)


def _moments(op: str, a: Any, b: Any, loc: dict | None) -> Any:
    """A datetime or date moved by a duration, or the duration between two: what
    `arithmetic` does with them, OverflowError past the calendar's ends."""
    if op == "+" and isinstance(a, Duration) and isinstance(b, dt.date):
        a, b = b, a  # a duration plus a date: the same the other way
    if op in "+-" and isinstance(a, dt.datetime) and isinstance(b, Duration):
        delta = dt.timedelta(milliseconds=b.ms)
        return a + delta if op == "+" else a - delta
    if op in "+-" and type(a) is dt.date and isinstance(b, Duration):
        delta = dt.timedelta(days=_whole_days(b, loc))
        return a + delta if op == "+" else a - delta
    if op == "-" and isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return Duration(int((a - b).total_seconds() * 1000))
    if op == "-" and type(a) is dt.date and type(b) is dt.date:
        return Duration((a - b).days * 86_400_000)
    raise FlowError(f"cannot compute {described(a)} {op} {described(b)}", loc)


def _times(a: float | int, b: float | int) -> float | int:
    try:
        return a * b
    except OverflowError:  # a whole number too large to meet a float
        return math.inf


def _duration(ms: float | int, op: str, a: Any, b: Any, loc: dict | None) -> Duration:
    """A duration the arithmetic made, or a FlowError when it is longer than a
    datetime can be moved by (NaN and inf included), as for numbers past the largest
    float: a huge duration is fine, one no wait or clock can hold is not."""
    if not abs(ms) <= MAX_DURATION_MS:
        shown = [_short(x) if is_number(x) else str(x) for x in (a, b)]
        raise FlowError(f"a duration too long in {shown[0]} {op} {shown[1]}: durations run up "
                        f"to {MAX_DURATION_MS // 86_400_000} days", loc)
    return Duration(int(ms))


def _whole_days(d: Duration, loc: dict | None) -> int:
    if d.ms % 86_400_000:
        raise FlowError(f"a date moves by whole days, not {d}: use a datetime "
                        "(`now()`) for hours and minutes", loc)
    return d.ms // 86_400_000


def field_of(value: Any, name: str, loc: dict | None) -> Any:
    """`value.name`; the field of null is null."""
    if value is None:
        return None
    if isinstance(value, Record):
        return value.get(name)
    if isinstance(value, dict):
        return value.get(name)
    if isinstance(value, dt.datetime):
        return _datetime_field(value, name, loc)
    if isinstance(value, dt.date):
        return _date_field(value, name, loc)
    if isinstance(value, TimeOfDay):
        if name == "hour":
            return value.minutes // 60
        if name == "minute":
            return value.minutes % 60
    if isinstance(value, Duration):
        if name == "seconds":
            return _tidy(value.ms / 1000)
        if name == "minutes":
            return _tidy(value.ms / 60_000)
    raise FlowError(f"{article(kind_of(value))} has no field `{name}`", loc)


def _date_field(value: dt.date, name: str, loc: dict | None) -> Any:
    if name == "weekday":
        return _WEEKDAYS[value.weekday()]
    if name in ("year", "month", "day"):
        return getattr(value, name)
    raise FlowError(f"a date has no field `{name}`", loc)


def _datetime_field(value: dt.datetime, name: str, loc: dict | None) -> Any:
    if name == "date":
        return value.date()
    if name == "time":
        return TimeOfDay(value.hour * 60 + value.minute)
    if name in ("hour", "minute"):
        return getattr(value, name)
    return _date_field(value, name, loc)


def index_of(value: Any, key: Any, loc: dict | None) -> Any:
    """`value[key]`: null when the value is null or the key is absent."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, str)):
        if not is_number(key) or int(key) != key:
            raise FlowError(f"{article(kind_of(value))} is indexed by a whole number, not "
                            f"{kind_of(key)}", loc)
        i = int(key)
        return value[i] if -len(value) <= i < len(value) else None
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, Record):
        return value.get(key) if isinstance(key, str) else None
    raise FlowError(f"{article(kind_of(value))} cannot be indexed", loc)


def negate(value: Any, loc: dict | None) -> Any:
    if is_number(value):
        return -value
    if isinstance(value, Duration):
        return Duration(-value.ms)
    raise FlowError(f"cannot negate {described(value)}", loc)


# -- evaluation ------------------------------------------------------------------------
#
# Speed: a simulated call evaluates some fifty expressions, most of them
# literals and variables. Creating and awaiting a coroutine costs more than
# reading a literal, so leaves (literals, variables) are read without one,
# by evaluate itself, by the other kinds for their operands and by the hot
# ops (`value_of_leaf`); the other kinds are found by their key, in the
# order that decides, and run from a table (`_KINDS`).

NOT_LEAF = object()  # value_of_leaf: the node is not a leaf


def value_of_leaf(node: dict, ctx: EvalContext) -> Any:
    """The value of a literal or a variable node, read without awaiting;
    NOT_LEAF for any other node (then `await evaluate(node, ...)`)."""
    if "lit" in node:
        return literal(node)
    if "var" in node:
        return ctx.get_var(node["var"])
    return NOT_LEAF


async def _operand(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    value = value_of_leaf(node, ctx)
    return await evaluate(node, ctx, loc) if value is NOT_LEAF else value


async def evaluate(node: dict, ctx: EvalContext, loc: dict | None = None) -> Any:
    """The value of an expression; `loc` is the op's location for errors."""
    if "lit" in node:
        return literal(node)
    if "var" in node:
        return ctx.get_var(node["var"])
    for key in _ORDER:  # the node's kind: the first of these keys it has
        if key in node:
            return await _KINDS[key](node, ctx, loc)
    raise FlowError(f"unknown expression node {sorted(node)}", loc)


async def _field(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    inner = node["field"]
    value = value_of_leaf(inner, ctx)
    if value is NOT_LEAF:
        value = await evaluate(inner, ctx, loc)
    return field_of(value, node["name"], loc)


async def _const(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return await ctx.constant(node["const"])


async def _builtin(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return ctx.builtin_value(node["builtin"], loc)


async def _ref(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return Ref(node["kind"], node["ref"])


async def _interp(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return "".join([to_text(await _operand(part, ctx, loc)) for part in node["interp"]])


async def _not(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return not truthy(await _operand(node["not"], ctx, loc), loc, "the operand of `not`")


async def _neg(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return negate(await _operand(node["neg"], ctx, loc), loc)


async def _if(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    chosen = node["then"] if truthy(await _operand(node["if"], ctx, loc), loc) \
        else node["else"]
    return await _operand(chosen, ctx, loc)


async def _index(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return index_of(await _operand(node["index"], ctx, loc),
                    await _operand(node["key"], ctx, loc), loc)


async def _list(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return _within_depth(tuple([await _operand(item, ctx, loc) for item in node["list"]]),
                         "list", loc)


async def _map(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    out = {key: await _operand(item, ctx, loc) for key, item in node["map"].items()}
    for entry in node.get("keys", ()):  # computed keys, after the written ones
        out[await _map_key(entry["key"], ctx, loc)] = await _operand(entry["value"], ctx, loc)
    return _within_depth(out, "map", loc)


async def _map_key(node: dict, ctx: EvalContext, loc: dict | None) -> str:
    """A computed key (`"${call.language}"`): text, never null nor empty, as
    a key that silently became "" would match nothing."""
    parts = node.get("interp", [node])
    values = [await _operand(part, ctx, loc) for part in parts]
    for value in values:
        if value is None:
            raise FlowError("a computed map key is null: give it a default "
                            "(`\"${x ?? \"general\"}\"`)", loc)
    if len(values) == 1 and not isinstance(values[0], str):
        raise FlowError(f"a computed map key must be text, not {described(values[0])}", loc)
    key = "".join(to_text(v) for v in values)
    if not key:
        raise FlowError("a computed map key is empty text", loc)
    return key


_CONTAINERS = (tuple, list, dict, Record)


def _within_depth(value: Any, what: str, loc: dict | None) -> Any:
    """A new list or map, unless it would hold values nested deeper than
    MAX_VALUE_DEPTH (a chain of variables each wrapping the last)."""
    items = value.values() if isinstance(value, dict) else value
    if any(isinstance(item, _CONTAINERS) for item in items):  # else it is one level
        depth = nesting(value)
        if depth > MAX_VALUE_DEPTH:
            raise FlowError(f"this {what} would nest lists, maps and records more than "
                            f"{MAX_VALUE_DEPTH} levels deep; a value nests at most "
                            f"{MAX_VALUE_DEPTH}", loc)
    return value


async def _agent(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    return node["agent"]


async def _binary(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    op = node["op"]
    left = value_of_leaf(node["left"], ctx)
    if left is NOT_LEAF:
        left = await evaluate(node["left"], ctx, loc)
    if op == "??":
        return left if left is not None else await _operand(node["right"], ctx, loc)
    if op == "and":
        if not truthy(left, loc, "the left of `and`"):
            return False
        return truthy(await _operand(node["right"], ctx, loc), loc, "the right of `and`")
    if op == "or":
        if truthy(left, loc, "the left of `or`"):
            return True
        return truthy(await _operand(node["right"], ctx, loc), loc, "the right of `or`")
    right = value_of_leaf(node["right"], ctx)
    if right is NOT_LEAF:
        right = await evaluate(node["right"], ctx, loc)
    if op in _COMPARISONS:
        return compare(op, left, right, loc)
    if op == "in":
        return contains(right, left, loc)
    return arithmetic(op, left, right, loc)


_COMPARISONS = frozenset(("==", "!=", "<", "<=", ">", ">="))


async def _call(node: dict, ctx: EvalContext, loc: dict | None) -> Any:
    callee = node["call"]
    args = []
    for a in node["args"]:
        value = value_of_leaf(a, ctx)
        args.append(await evaluate(a, ctx, loc) if value is NOT_LEAF else value)
    kwargs = {}
    for k, v in node["kwargs"].items():
        value = value_of_leaf(v, ctx)
        kwargs[k] = await evaluate(v, ctx, loc) if value is NOT_LEAF else value
    if "builtin" in callee:
        return await ctx.call_builtin(callee["builtin"], args, kwargs, loc)
    if "ref" in callee:
        return await ctx.call_sub(callee["ref"], args, kwargs, loc)
    if "method" in callee:
        receiver = await evaluate(callee["of"], ctx, loc)
        if not isinstance(receiver, Ref):
            raise FlowError(f"`.{callee['method']}()` needs a declared hours or queue, not "
                            f"{kind_of(receiver)}", loc)
        return await ctx.call_builtin(f"{receiver.kind}.{callee['method']}",
                                      [receiver, *args], kwargs, loc)
    raise FlowError(f"unknown callee {sorted(callee)}", loc)


# an expression node's kind is the first of these keys it has (docs/ir.md
# "Expressions"); literals and variables are read before the table
_KINDS = {
    "field": _field, "op": _binary, "call": _call, "const": _const, "builtin": _builtin,
    "ref": _ref, "interp": _interp, "not": _not, "neg": _neg, "if": _if, "index": _index,
    "list": _list, "map": _map, "agent": _agent,
}
_ORDER = tuple(_KINDS)
