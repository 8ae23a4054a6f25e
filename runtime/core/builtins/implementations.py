"""The run-time side of the builtins registry (ccdsl/builtins.py): one implementation per entry.

Never leaves the switch: the CRM and HTTP builtins, which do, are in external.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from ccdsl.builtins import BUILTINS, Builtin
from ccdsl.runtime.core import hours as business_hours
from ccdsl.runtime.core.builtins import chance, text_dates
from ccdsl.runtime.core.builtins.context import BuiltinContext, Impl
from ccdsl.runtime.core.builtins.external import (
    crm_create,
    crm_customer,
    crm_find,
    crm_log_call,
    crm_owner,
    crm_update,
    http_get,
    http_post,
    text_arg,
)
from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import contains, is_number, kind_of
from ccdsl.runtime.core.queue_values import queues_named
from ccdsl.runtime.core.values import Duration, Record, Ref, to_text

# -- helpers shared with the interpreter ---------------------------------------------


def skills_dict(value: Any, loc: dict | None = None) -> dict[str, int]:
    """A skills value as skill -> minimum level: a list of names (any level,
    0) or a map of levels. Null is no skills."""
    if value is None:
        return {}
    if isinstance(value, (list, tuple)):
        return {to_text(s): 0 for s in value if s is not None}
    if isinstance(value, dict):
        out = {}
        for skill, level in value.items():
            if not is_number(level):
                raise FlowError(f"the level of skill `{skill}` must be a number, not "
                                f"{kind_of(level)}", loc)
            out[str(skill)] = int(level)
        return out
    if isinstance(value, str):
        return {value: 0}
    raise FlowError(f"skills are a list or a map, not {kind_of(value)}", loc)


STATE_NAMES = {AgentState.LOGGED_OFF: "offline"}


def agent_state_name(state: AgentState) -> str:
    return STATE_NAMES.get(state, str(state))


def agent_record(agent: Agent) -> Record:
    return Record("agent", {"id": agent.id, "name": agent.name or agent.id,
                            "extension": agent.extension or None,
                            "skills": tuple(agent.skills), "state": agent_state_name(agent.state)})


class _Shape(NamedTuple):
    """What bind needs of a builtin's parameters, worked out once."""

    builtin: Builtin
    names: tuple[str, ...]  # in order: positional arguments bind to these
    known: frozenset[str]
    required: tuple[str, ...]  # in order: the first missing one is reported


# each registry builtin's shape (bind runs on every call of a builtin)
_SHAPES: dict[str, _Shape] = {}


def _shape(builtin: Builtin) -> _Shape:
    shape = _SHAPES.get(builtin.name)
    if shape is not None and shape.builtin is builtin:
        return shape
    names = tuple(p.name for p in builtin.params)
    shape = _Shape(builtin, names, frozenset(names),
                   tuple(p.name for p in builtin.params if p.required))
    if BUILTINS.get(builtin.name) is builtin:  # only the registry's are kept
        _SHAPES[builtin.name] = shape
    return shape


def bind(builtin: Builtin, args: list, kwargs: dict, loc: dict | None) -> dict[str, Any]:
    """Positional arguments by parameter order, then named ones. Named
    arguments beyond the parameters are record fields (crm.find/create/
    update), collected under "fields"."""
    shape = _shape(builtin)
    names = shape.names
    if len(args) > len(names):
        raise FlowError(f"`{builtin.name}` takes {len(names)} argument(s), "
                        f"got {len(args)}", loc)
    bound: dict[str, Any] = dict(zip(names, args, strict=False))
    fields: dict[str, Any] = {}
    if kwargs:
        known = shape.known
        for name, value in kwargs.items():
            if name in known:
                bound[name] = value
            elif builtin.record_fields:
                fields[name] = value
            else:
                raise FlowError(f"`{builtin.name}` has no parameter `{name}`", loc)
    for name in shape.required:
        if name not in bound:
            raise FlowError(f"`{builtin.name}` needs its `{name}` argument", loc)
    bound["fields"] = fields
    return bound


def _number(value: Any, what: str, loc: dict | None) -> int | float:
    if not is_number(value):
        raise FlowError(f"{what} must be a number, not {kind_of(value)}", loc)
    return value


# -- facts about the call -------------------------------------------------------------


def _value_caller(ctx: BuiltinContext, loc: dict | None) -> Any:
    return ctx.caller_record()


def _value_call(ctx: BuiltinContext, loc: dict | None) -> Any:
    return ctx.call_record()


def _value_agent(ctx: BuiltinContext, loc: dict | None) -> Any:
    return ctx.agent_record()


VALUES: dict[str, Callable[[BuiltinContext, dict | None], Any]] = {
    "caller": _value_caller,
    "call": _value_call,
    "agent": _value_agent,
}


async def _now(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return ctx.now()


async def _today(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return ctx.now().date()


# -- hours and queues ---------------------------------------------------------------------


def _hours_of(ctx: BuiltinContext, a: dict, loc: dict | None) -> dict:
    ref = a.get("receiver")
    if not isinstance(ref, Ref) or ref.name not in ctx.program.hours:
        raise FlowError(f"no business hours named {to_text(ref)!r}", loc)
    return ctx.program.hours[ref.name]


def _moment(ctx: BuiltinContext, value: Any, what: str, loc: dict | None) -> datetime:
    if value is None:
        return ctx.now()
    if not isinstance(value, datetime):
        raise FlowError(f"{what} must be a datetime, not {kind_of(value)}", loc)
    return value


async def _hours_open(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return business_hours.is_open(_hours_of(ctx, a, loc), _moment(ctx, a.get("at"), "at", loc))


async def _hours_next_open(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    after = _moment(ctx, a.get("after"), "after", loc)
    return business_hours.next_open(_hours_of(ctx, a, loc), after)


def _queue_of(ctx: BuiltinContext, a: dict, loc: dict | None) -> str:
    ref = a.get("receiver")
    if not isinstance(ref, Ref) or ref.name not in ctx.program.queues:
        raise FlowError(f"no queue named {to_text(ref)!r}", loc)
    return ref.name


async def _queue_waiting(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return ctx.services.centre.queue_waiting(_queue_of(ctx, a, loc))


async def _queue_expected_wait(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return Duration(int(ctx.services.centre.queue_expected_wait_ms(_queue_of(ctx, a, loc))))


def _available(agents: list[Agent], skills: dict[str, int], queue: str | None = None) -> int:
    """Agents available now with the skills; for a queue, its members too
    (an agent who is a member of no queue counts by skills alone, as the
    simulator's agents may be)."""
    return sum(1 for agent in agents
               if agent.state == AgentState.AVAILABLE and agent.has_skills(skills)
               and (queue is None or not agent.queues or queue in agent.queues))


async def _queue_available(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    queue = _queue_of(ctx, a, loc)
    skills = await ctx.queue_skills(queue)
    return _available(ctx.services.centre.agents(), skills, queue)


# -- agents -------------------------------------------------------------------------------


async def _agents_available(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return _available(ctx.services.centre.agents(), skills_dict(a["skills"], loc))


async def _agents_state(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    agent = ctx.services.centre.agent(text_arg(a["id"], "an agent id", loc))
    return "offline" if agent is None else agent_state_name(agent.state)


async def _agents_get(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    agent = ctx.services.centre.agent(text_arg(a["id"], "an agent id", loc))
    return None if agent is None else agent_record(agent)


# -- text and number helpers -------------------------------------------------------------
# Null-safe like fields: a helper given null text answers null (len: 0).


async def _len(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    value = a["value"]
    if value is None:
        return 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value)
    raise FlowError(f"len needs a text, a list or a map, not {kind_of(value)}", loc)


def _text_fn(fn: Callable[[str], str]) -> Impl:
    async def impl(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
        value = a["text"]
        return None if value is None else fn(text_arg(value, "the argument", loc))
    return impl


async def _contains(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return contains(a["value"], a["part"], loc)


async def _starts_with(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    if a["text"] is None:
        return False
    text = text_arg(a["text"], "the text", loc)
    return text.startswith(text_arg(a["prefix"], "the prefix", loc))


async def _replace(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    if a["text"] is None:
        return None
    return text_arg(a["text"], "the text", loc).replace(text_arg(a["old"], "`old`", loc),
                                                        text_arg(a["new"], "`new`", loc))


async def _to_number(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    value = a["text"]
    if is_number(value):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


async def _to_text(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return to_text(a["value"])


async def _round(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    number = _number(a["number"], "round's number", loc)
    digits = int(_number(a.get("digits", 0) or 0, "round's digits", loc))
    try:
        # half away from zero, as people round (Python's round() rounds half to even)
        exact = Decimal(str(number)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    except InvalidOperation as err:
        raise FlowError(f"cannot round {number} to {digits} digits", loc) from err
    return int(exact) if digits <= 0 else float(exact)


async def _abs(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return abs(_number(a["number"], "abs's number", loc))


async def _min(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return min(_number(a["a"], "min's a", loc), _number(a["b"], "min's b", loc))


async def _max(ctx: BuiltinContext, a: dict, loc: dict | None) -> Any:
    return max(_number(a["a"], "max's a", loc), _number(a["b"], "max's b", loc))


FUNCTIONS: dict[str, Impl] = {
    "now": _now,
    "today": _today,
    "hours.open": _hours_open,
    "hours.next_open": _hours_next_open,
    "queue.waiting": _queue_waiting,
    "queue.expected_wait": _queue_expected_wait,
    "queue.available": _queue_available,
    "crm.customer": crm_customer,
    "crm.find": crm_find,
    "crm.owner": crm_owner,
    "crm.create": crm_create,
    "crm.update": crm_update,
    "crm.log_call": crm_log_call,
    "queues.named": queues_named,
    "agents.available": _agents_available,
    "agents.state": _agents_state,
    "agents.get": _agents_get,
    "http.get": http_get,
    "http.post": http_post,
    "len": _len,
    "upper": _text_fn(str.upper),
    "lower": _text_fn(str.lower),
    "trim": _text_fn(str.strip),
    "contains": _contains,
    "starts_with": _starts_with,
    "replace": _replace,
    "to_number": _to_number,
    "to_text": _to_text,
    "round": _round,
    "abs": _abs,
    "min": _min,
    "max": _max,
    **text_dates.FUNCTIONS,
    **chance.FUNCTIONS,
}


def value_of(ctx: BuiltinContext, name: str, loc: dict | None) -> Any:
    """The value of a value builtin (`caller`, `call`, `agent`)."""
    impl = VALUES.get(name)
    if impl is None:
        kind = BUILTINS[name].kind if name in BUILTINS else "unknown name"
        raise FlowError(f"`{name}` is a {kind}, not a value", loc)
    return impl(ctx, loc)


async def call(ctx: BuiltinContext, name: str, args: list, kwargs: dict,
               loc: dict | None) -> Any:
    """Call a builtin function or method. A method's first argument is the
    declaration it was called on (a Ref)."""
    builtin = BUILTINS.get(name)
    impl = FUNCTIONS.get(name)
    if builtin is None or impl is None:
        raise FlowError(f"`{name}` is not a builtin function of this runtime", loc)
    receiver = None
    if builtin.kind == "method":
        receiver, args = args[0], args[1:]
    bound = bind(builtin, args, kwargs, loc)
    bound["receiver"] = receiver
    return await impl(ctx, bound, loc)
