"""Queues and routing rules as run-time values: which declared queue a value is, computed skills.

Must not run ops or talk to the line: runtime/core/ops/agents.py does, and asks this module
what a value names and whether a skills value is one.
"""

from __future__ import annotations

from typing import Any

from ccdsl.runtime.core.errors import FlowError
from ccdsl.runtime.core.evaluate import described, is_number
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.core.values import Ref, quoted


def queue_named(value: Any, queues, what: str, loc: dict | None) -> str:
    """The qualified name of the declared queue a value is (`what` says
    where it was given: "`queue`", "the routing line")."""
    if isinstance(value, Ref) and value.kind == "queue" and value.name in queues:
        return value.name
    if isinstance(value, str) and value in queues:
        hint = f"; `queues.named({quoted(value)})` turns a queue's name into the queue"
    else:
        hint = ""
    raise FlowError(f"{what} needs one of the flow's queues ({', '.join(sorted(queues))}), "
                    f"not {described(value)}{hint}", loc)


def route_target(value: Any, program, loc: dict | None) -> Ref:
    """The routing rule or queue a `route` value is."""
    if isinstance(value, Ref) and (
            (value.kind == "routing" and value.name in program.routing)
            or (value.kind == "queue" and value.name in program.queues)):
        return value
    raise FlowError(f"`route` needs a routing rule or a queue of the flow, not "
                    f"{described(value)}", loc)


def skills_option(value: Any, where: str, loc: dict | None) -> dict[str, int]:
    """A skills option's value as skill -> minimum level: a list of skill
    names (any level) or a map of levels; null is none. Anything else is a
    FlowError naming the option (`where`: "the option `skills` of `queue`")."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {value: 0} if value else _bad(where, "an empty skill name", loc)
    if isinstance(value, (list, tuple)):
        out: dict[str, int] = {}
        for item in value:
            if item is None:
                continue
            if not isinstance(item, str) or not item:
                _bad(where, f"{described(item)} among its skills; a skill is a name (text)", loc)
            out[item] = 0
        return out
    if isinstance(value, dict):
        levels: dict[str, int] = {}
        for skill, level in value.items():
            if not skill:
                _bad(where, "a skill with an empty name", loc)
            if isinstance(level, bool) or not is_number(level):
                _bad(where, f"{described(level)} as the level of `{skill}`; a level is a number",
                     loc)
            levels[str(skill)] = int(level)
        return levels
    return _bad(where, f"{described(value)}; skills are a list of names or a map of levels", loc)


def _bad(where: str, what: str, loc: dict | None):
    raise FlowError(f"{where} has {what}", loc)


def member_skills(program, name: str) -> dict[str, int]:
    """The skills a phone system that keeps a queue's members (Asterisk,
    where ccf serve adds them) chose those members by: the literal skills
    of the declaration, as runtime/core/queues.py reads them. Read once per
    program (Program.memo), not at every call's queue visit; not to be changed."""
    key = ("member_skills", name)
    skills = program.memo.get(key)
    if skills is None:
        skills = queue_configs({"queues": {name: program.queues[name]}})[name].skills
        program.memo[key] = skills
    return skills


async def queues_named(ctx, a: dict, loc: dict | None) -> Any:
    """`queues.named(name)`: the declared queue of that name, or null."""
    name = a.get("name")
    if name is None:
        return None
    if not isinstance(name, str):
        raise FlowError(f"`queues.named` takes a queue's name (text), not {described(name)}", loc)
    return Ref("queue", name) if name in ctx.program.queues else None
