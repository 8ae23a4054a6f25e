"""A test block of the IR as a Scenario: its world, its caller script, its expectations.

Nothing here imports the compiler: a scenario is built from the IR alone.
"""

from __future__ import annotations

from typing import Any

from ccdsl.runtime.core.crm.codec import is_name
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.evaluate import literal as evaluate_literal
from ccdsl.runtime.core.values import Duration, to_text
from ccdsl.runtime.operations.agents_file import AGENT_STATES, AgentSpec, skill_levels
from ccdsl.runtime.sim.caller import HangUp, Press, Silence, Speak
from ccdsl.runtime.sim.faults import CrmFault, Faults, HttpAnswer
from ccdsl.runtime.sim.scenario import Scenario
from ccdsl.runtime.sim.script import DEFAULT_AT, CallerAction, flow_zone, parse_at
from ccdsl.runtime.testing.expectations import Expectation
from ccdsl.test_words import SEED_RULE, whole_seed


def literal(expr: dict | None, ir: dict, loc: dict | None = None, _depth: int = 0) -> Any:
    """The value of a test's expression: literals, lists, maps, negation and
    the flow's constants. A test describes fixed facts, so anything that
    would need a running call (a variable, a builtin) is refused."""
    if expr is None:
        return None
    if _depth > 50:
        raise InputError("constants refer to each other in a cycle", loc)
    if "lit" in expr:
        return evaluate_literal(expr)  # the interpreter's own reading of literals
    if "list" in expr:
        return tuple(literal(e, ir, loc, _depth + 1) for e in expr["list"])
    if "map" in expr:
        if expr.get("keys"):
            raise InputError("a computed map key (`\"${...}\"`) is not a literal: write the key "
                             "as text in a test", loc)
        return {k: literal(v, ir, loc, _depth + 1) for k, v in expr["map"].items()}
    if "neg" in expr:
        return -literal(expr["neg"], ir, loc, _depth + 1)
    if "const" in expr:
        const = ir.get("constants", {}).get(expr["const"])
        if const is None:
            raise InputError(f"there is no constant `{expr['const']}`", loc)
        return literal(const["value"], ir, loc, _depth + 1)
    if "interp" in expr:
        return "".join(to_text(literal(e, ir, loc, _depth + 1)) for e in expr["interp"])
    if "ref" in expr:
        return expr["ref"]
    if "agent" in expr:
        return expr["agent"]
    raise InputError("a test can only use fixed values (literals, lists, maps and "
                        "constants) here", loc)


def _ms(expr: dict | None, ir: dict, loc: dict | None) -> int | None:
    value = literal(expr, ir, loc)
    if value is None:
        return None
    if isinstance(value, Duration):
        return value.ms
    if isinstance(value, (int, float)):
        return int(value)
    raise InputError("expected a duration such as 2s", loc)


def skills_option(option: dict | None, ir: dict, loc: dict | None) -> dict[str, int]:
    if option is None:
        return {}
    return skill_levels(literal(option, ir, loc))


def scenario_from_test(ir: dict, test: dict) -> Scenario:
    """A test block of the IR as a Scenario. Raises InputError for a
    statement that cannot be simulated."""
    zone, _ = flow_zone(ir)
    start = parse_at(DEFAULT_AT, zone)
    caller, dialled, caller_name, language = "", "", None, None
    seed = 0  # a test's random choices are the same on every run
    crm: list[tuple[str, dict[str, Any]]] = []
    agents: list[AgentSpec] = []
    actions: list[CallerAction] = []
    expectations: list[Expectation] = []
    crm_faults: list[CrmFault] = []
    http: list[HttpAnswer] = []
    for stmt in test["statements"]:
        loc = stmt.get("loc")
        kind = stmt["kind"]
        if kind == "at":
            start = parse_at(stmt["when"], zone, loc)
        elif kind == "crm":
            value = literal(stmt["value"], ir, loc)
            if not isinstance(value, dict):
                raise InputError("a `crm` fixture is a map of fields: "
                                    "crm customer {phone: \"+86...\"}", loc)
            bad = [k for k in (stmt["record"], *value) if not is_name(k)]
            if bad:
                raise InputError(f"`{bad[0]}` cannot be a CRM record type or field name: "
                                    "use letters, digits and _", loc)
            crm.append((stmt["record"], value))
        elif kind == "agent":
            agents.append(_agent(ir, stmt))
        elif kind == "call":
            opts = stmt.get("options", {})
            caller = _text(opts.get("from"), ir, loc) or ""
            dialled = _text(opts.get("to"), ir, loc) or ""
            caller_name = _text(opts.get("name"), ir, loc)
            language = _text(opts.get("language"), ir, loc)
            if opts.get("seed") is not None:
                seed = _seed(literal(opts["seed"], ir, loc), loc)
        elif kind == "press":
            keys = _text(stmt["keys"], ir, loc) or ""
            after = _ms(stmt.get("options", {}).get("after"), ir, loc)
            try:
                actions.append(Press(keys, after))
            except ValueError as exc:
                raise InputError(str(exc), loc) from None
        elif kind == "silence":
            actions.append(Silence(_ms(stmt["duration"], ir, loc) or 0))
        elif kind == "speak":
            actions.append(Speak(_ms(stmt["duration"], ir, loc) or 0))
        elif kind == "hangup":
            opts = stmt.get("options", {})
            step = opts.get("in_step")
            actions.append(HangUp(_ms(opts.get("after"), ir, loc),
                                  step.get("ref") if isinstance(step, dict) else None))
        elif kind == "expect":
            expectations.append(_expectation(ir, stmt))
        elif kind == "crm_fault":
            crm_faults.append(CrmFault(stmt["fault"], stmt.get("record"),
                                       _ms(stmt.get("after"), ir, loc) or 0))
        elif kind == "http":
            http.append(_http_answer(ir, stmt))
        else:
            raise InputError(f"a test statement of kind `{kind}` cannot be simulated", loc)
    return Scenario(name=test["name"], loc=test.get("loc", {}), start=start, caller=caller,
                    dialled=dialled, caller_name=caller_name, language=language,
                    crm=tuple(crm), agents=tuple(agents), actions=tuple(actions),
                    expectations=tuple(expectations), seed=seed,
                    faults=Faults(tuple(crm_faults), tuple(http)))


def _seed(value: Any, loc: dict | None) -> int:
    seed = whole_seed(value)  # the rule `ccf validate` checks too (E303)
    if seed is None:
        raise InputError(f"{SEED_RULE}, not {to_text(value)!r}", loc)
    return seed


def _text(expr: dict | None, ir: dict, loc: dict | None) -> str | None:
    value = literal(expr, ir, loc)
    return None if value is None else to_text(value)


def _http_answer(ir: dict, stmt: dict) -> HttpAnswer:
    loc = stmt.get("loc")
    opts = stmt.get("options", {})
    status = literal(opts.get("status"), ir, loc)
    if status is None:
        status = 200
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InputError(f"an HTTP status is a number from 100 to 599, not {status!r}", loc)
    return HttpAnswer(stmt["method"], _text(stmt["url"], ir, loc) or "", status,
                      literal(opts.get("body"), ir, loc), _ms(opts.get("delay"), ir, loc) or 0)


def _agent(ir: dict, stmt: dict) -> AgentSpec:
    loc = stmt.get("loc")
    opts = stmt.get("options", {})
    state_word = (_text(opts.get("state"), ir, loc) or "available").strip().lower()
    if state_word not in AGENT_STATES:
        raise InputError(f'agent state "{state_word}" is not one of: '
                            + ", ".join(AGENT_STATES), loc)
    state, answers = AGENT_STATES[state_word]
    after = _ms(opts.get("answer_after"), ir, loc)
    return AgentSpec(id=stmt["name"], name=stmt["name"],
                     skills=skills_option(opts.get("skills"), ir, loc), state=state,
                     extension=_text(opts.get("extension"), ir, loc) or "",
                     answer_after_ms=(2000 if after is None else after) if answers else None)


def _expectation(ir: dict, stmt: dict) -> Expectation:
    expr = stmt.get("value")
    value: str | None = None
    kind: str | None = None
    if expr is not None:
        if "ref" in expr:
            value, kind = expr["ref"], expr.get("kind")
        elif "agent" in expr:
            value, kind = expr["agent"], "agent"
        else:
            raw = literal(expr, ir, stmt.get("loc"))
            number = isinstance(raw, (int, float)) and not isinstance(raw, bool)
            value, kind = to_text(raw), "number" if number else "text"
    priority = (stmt.get("options") or {}).get("priority")
    return Expectation(what=stmt["what"], negated=bool(stmt.get("negated")), value=value,
                       connector=stmt.get("connector"), loc=stmt.get("loc") or {},
                       value_kind=kind, via=stmt.get("via"),
                       priority=to_text(literal(priority, ir, stmt.get("loc")))
                       if priority is not None else None)
