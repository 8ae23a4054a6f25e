"""Test blocks as simulated calls: read a test of the IR, build the world it
describes (clock, CRM, agents, caller), run the call and judge every
`expect` line against what happened.

The meaning of each test statement (docs/language.md, "Tests"):

- `at "YYYY-MM-DD HH:MM [Zone]"` starts the virtual clock. Without a zone
  the time is read in the zone of the flow's business hours (when every
  `hours` declaration with a `tz` names the same zone), else in UTC, so a
  test means the same on every machine. A test without `at` starts at
  DEFAULT_AT, Monday 2026-11-30 10:00, read by the same rule.
- `crm TYPE {...}` records go into a fresh SQLite CRM in a temporary
  directory before the call (their `id` kept when they give one).
- `agent NAME ...` declares an agent of the simulated centre whose id is
  NAME. A skills list gives every skill level 1; a map gives the levels.
  `state "ringing-no-answer"` is an available agent who never answers.
- `press`, `silence`, `hangup` script the caller, in order.
- `expect` lines are judged after the call has ended, against the whole
  call: `expect played welcome` passes when the prompt was played at any
  point of the call, wherever the line stands in the test.

Nothing here imports the compiler: a scenario is built from the IR alone.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccdsl.runtime.crm.codec import is_name
from ccdsl.runtime.evaluate import literal as evaluate_literal
from ccdsl.runtime.events import Event
from ccdsl.runtime.sim.caller import HangUp, Press, Silence
from ccdsl.runtime.values import Duration, Record, to_text

DEFAULT_AT = "2026-11-30 10:00"  # a Monday morning: office hours in most flows

_AT = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?::(\d{2}))?(?:\s+(\S+))?\s*$")

# the `state` words of a test or an agents file, and what they mean in the
# simulator: the centre's state, and whether the agent answers when rung
AGENT_STATES: dict[str, tuple[str, bool]] = {
    "available": ("available", True),
    "busy": ("busy", True),
    "ringing": ("ringing", True),
    "paused": ("paused", True),
    "offline": ("logged_off", True),
    "logged_off": ("logged_off", True),
    "logged off": ("logged_off", True),
    "ringing-no-answer": ("available", False),
    "no_answer": ("available", False),
}


class ScenarioError(Exception):
    """A test (or a simulate option) describes a world the simulator cannot
    build: a bad `at` string, a fixture value that is not a literal.
    Carries the .ccf location of the statement when there is one."""

    def __init__(self, message: str, loc: dict | None = None) -> None:
        super().__init__(message)
        self.loc = loc or {}


# ---- the scenario: what a test block asks for ----------------------------------------


@dataclass(frozen=True)
class AgentSpec:
    id: str
    skills: dict[str, int] = field(default_factory=dict)
    state: str = "available"
    extension: str = ""
    answer_after_ms: int | None = 2000  # None: lets every call ring out
    name: str = ""
    wrapup: dict[str, Any] | None = None  # what the agent enters on the wrap-up form


# what the caller does: the simulator's own script actions
CallerAction = Press | Silence | HangUp


@dataclass(frozen=True)
class Expectation:
    what: str  # played, heard, queue, routed, answered, voicemail, transfer, hangup, step, crm
    negated: bool
    value: str | None  # the name, number or text expected; None: anything of the kind
    connector: str | None
    loc: dict
    value_kind: str | None = None  # prompt, queue, step, agent, text

    def describe(self) -> str:
        """The line as a person would write it: `expect not played welcome`."""
        words = ["expect"]
        if self.negated:
            words.append("not")
        words.append(self.what)
        if self.connector:
            words.append(self.connector)
        if self.value is not None:
            words.append(f'"{self.value}"' if self.value_kind == "text" else self.value)
        return " ".join(words)


@dataclass(frozen=True)
class Scenario:
    name: str
    loc: dict
    start: datetime
    caller: str
    dialled: str = ""
    caller_name: str | None = None
    language: str | None = None
    crm: tuple[tuple[str, dict[str, Any]], ...] = ()
    agents: tuple[AgentSpec, ...] = ()
    actions: tuple[CallerAction, ...] = ()
    expectations: tuple[Expectation, ...] = ()


# ---- time --------------------------------------------------------------------------


def flow_zone(ir: dict) -> tuple[tzinfo, str]:
    """The zone a time without one is read in: the flow's business-hours
    zone when all its `hours` agree on one, else UTC."""
    zones = {h.get("tz") for h in ir.get("hours", {}).values() if h.get("tz")}
    if len(zones) == 1:
        name = zones.pop()
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            return UTC, "UTC"
    return UTC, "UTC"


def parse_at(text: str, default_zone: tzinfo = UTC, loc: dict | None = None) -> datetime:
    """`2026-11-30 10:00 Asia/Shanghai` (zone optional, seconds optional,
    `T` allowed between date and time) as an aware datetime."""
    match = _AT.match(text)
    if match is None:
        raise ScenarioError(
            f'"{text}" is not a date and time; write "YYYY-MM-DD HH:MM" with an optional '
            'time zone, such as "2026-11-30 10:00 Asia/Shanghai"', loc)
    day, clock, seconds, zone_name = match.groups()
    zone = default_zone
    if zone_name is not None:
        if zone_name.upper() in ("UTC", "Z"):
            zone = UTC
        else:
            try:
                zone = ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ScenarioError(f'"{zone_name}" is not a time zone; use an IANA name '
                                    'such as "Asia/Shanghai" or "UTC"', loc) from None
    try:
        naive = datetime.fromisoformat(f"{day} {int(clock.split(':')[0]):02d}:"
                                       f"{clock.split(':')[1]}:{seconds or '00'}")
    except ValueError as exc:
        raise ScenarioError(f'"{text}" is not a date and time: {exc}', loc) from None
    return naive.replace(tzinfo=zone)


# ---- values written in tests -------------------------------------------------------


def literal(expr: dict | None, ir: dict, loc: dict | None = None, _depth: int = 0) -> Any:
    """The value of a test's expression: literals, lists, maps, negation and
    the flow's constants. A test describes fixed facts, so anything that
    would need a running call (a variable, a builtin) is refused."""
    if expr is None:
        return None
    if _depth > 50:
        raise ScenarioError("constants refer to each other in a cycle", loc)
    if "lit" in expr:
        return evaluate_literal(expr)  # the interpreter's own reading of literals
    if "list" in expr:
        return tuple(literal(e, ir, loc, _depth + 1) for e in expr["list"])
    if "map" in expr:
        return {k: literal(v, ir, loc, _depth + 1) for k, v in expr["map"].items()}
    if "neg" in expr:
        return -literal(expr["neg"], ir, loc, _depth + 1)
    if "const" in expr:
        const = ir.get("constants", {}).get(expr["const"])
        if const is None:
            raise ScenarioError(f"there is no constant `{expr['const']}`", loc)
        return literal(const["value"], ir, loc, _depth + 1)
    if "interp" in expr:
        return "".join(to_text(literal(e, ir, loc, _depth + 1)) for e in expr["interp"])
    if "ref" in expr:
        return expr["ref"]
    if "agent" in expr:
        return expr["agent"]
    raise ScenarioError("a test can only use fixed values (literals, lists, maps and "
                        "constants) here", loc)


def _ms(expr: dict | None, ir: dict, loc: dict | None) -> int | None:
    value = literal(expr, ir, loc)
    if value is None:
        return None
    if isinstance(value, Duration):
        return value.ms
    if isinstance(value, (int, float)):
        return int(value)
    raise ScenarioError("expected a duration such as 2s", loc)


def skill_levels(value: Any) -> dict[str, int]:
    """Skills as the centre keeps them: a list gives level 1 to each, a map
    gives the levels written."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return {str(s): 1 for s in value}
    return {str(value): 1}


def skills_option(option: dict | None, ir: dict, loc: dict | None) -> dict[str, int]:
    if option is None:
        return {}
    return skill_levels(literal(option, ir, loc))


# ---- from IR to scenario -----------------------------------------------------------


def scenario_from_test(ir: dict, test: dict) -> Scenario:
    """A test block of the IR as a Scenario. Raises ScenarioError for a
    statement that cannot be simulated."""
    zone, _ = flow_zone(ir)
    start = parse_at(DEFAULT_AT, zone)
    caller, dialled, caller_name, language = "", "", None, None
    crm: list[tuple[str, dict[str, Any]]] = []
    agents: list[AgentSpec] = []
    actions: list[CallerAction] = []
    expectations: list[Expectation] = []
    for stmt in test["statements"]:
        loc = stmt.get("loc")
        kind = stmt["kind"]
        if kind == "at":
            start = parse_at(stmt["when"], zone, loc)
        elif kind == "crm":
            value = literal(stmt["value"], ir, loc)
            if not isinstance(value, dict):
                raise ScenarioError("a `crm` fixture is a map of fields: "
                                    "crm customer {phone: \"+86...\"}", loc)
            bad = [k for k in (stmt["record"], *value) if not is_name(k)]
            if bad:
                raise ScenarioError(f"`{bad[0]}` cannot be a CRM record type or field name: "
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
        elif kind == "press":
            keys = _text(stmt["keys"], ir, loc) or ""
            after = _ms(stmt.get("options", {}).get("after"), ir, loc)
            try:
                actions.append(Press(keys, after))
            except ValueError as exc:
                raise ScenarioError(str(exc), loc) from None
        elif kind == "silence":
            actions.append(Silence(_ms(stmt["duration"], ir, loc) or 0))
        elif kind == "hangup":
            opts = stmt.get("options", {})
            step = opts.get("in_step")
            actions.append(HangUp(_ms(opts.get("after"), ir, loc),
                                  step.get("ref") if isinstance(step, dict) else None))
        elif kind == "expect":
            expectations.append(_expectation(ir, stmt))
        else:
            raise ScenarioError(f"a test statement of kind `{kind}` cannot be simulated", loc)
    return Scenario(name=test["name"], loc=test.get("loc", {}), start=start, caller=caller,
                    dialled=dialled, caller_name=caller_name, language=language,
                    crm=tuple(crm), agents=tuple(agents), actions=tuple(actions),
                    expectations=tuple(expectations))


def _text(expr: dict | None, ir: dict, loc: dict | None) -> str | None:
    value = literal(expr, ir, loc)
    return None if value is None else to_text(value)


def _agent(ir: dict, stmt: dict) -> AgentSpec:
    loc = stmt.get("loc")
    opts = stmt.get("options", {})
    state_word = (_text(opts.get("state"), ir, loc) or "available").strip().lower()
    if state_word not in AGENT_STATES:
        raise ScenarioError(f'agent state "{state_word}" is not one of: '
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
            value, kind = to_text(raw), "text"
    return Expectation(what=stmt["what"], negated=bool(stmt.get("negated")), value=value,
                       connector=stmt.get("connector"), loc=stmt.get("loc") or {},
                       value_kind=kind)


# ---- judging expectations ----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one expectation found on the call."""

    expectation: Expectation
    passed: bool
    happened: str  # what the call did of this kind, in words


@dataclass(frozen=True)
class CallFacts:
    """The call as the checker sees it: its events, and the CRM records it
    created (type names, in order)."""

    events: Sequence[Event]
    created: Sequence[str] = ()


def check(expectations: Iterable[Expectation], facts: CallFacts) -> list[Outcome]:
    return [judge(e, facts) for e in expectations]


def judge(exp: Expectation, facts: CallFacts) -> Outcome:
    seen = _seen(exp.what, facts, by_name=exp.value_kind not in (None, "text"))
    if exp.value is None:
        found = bool(seen)
    else:
        found = any(_matches(exp, item) for item in seen)
    passed = found != exp.negated
    return Outcome(exp, passed, _happened(exp.what, seen))


def _matches(exp: Expectation, item: str) -> bool:
    if exp.what == "heard":
        return exp.value in item if exp.value_kind == "text" else item == exp.value
    return item == exp.value


def _seen(what: str, facts: CallFacts, by_name: bool = False) -> list[str]:
    """The things of one kind the call did, as comparable words. What the
    caller heard is its words, or with by_name the prompts' names."""
    out: list[str] = []
    for e in facts.events:
        data = e.data
        if what == "played" and e.kind == "prompt_played":
            if data.get("prompt"):
                out.append(data["prompt"])
            out.extend(s.get("text", "") for s in data.get("sounds", ())
                       if s.get("kind") == "file")
        elif what == "heard" and e.kind == "prompt_played":
            if by_name:
                out.extend([data["prompt"]] if data.get("prompt") else [])
            else:
                out.extend(s.get("text", "") for s in data.get("sounds", ()))
        elif what == "heard" and e.kind == "said":
            out.append(str(data.get("value", "")))
        elif what == "queue" and e.kind == "queue_joined":
            out.append(data.get("queue", ""))
        elif what == "routed" and e.kind == "agent_offered":
            out.append(data.get("agent", ""))
        elif what == "routed" and e.kind == "queue_joined":
            out.append(data.get("queue", ""))
        elif what == "answered" and e.kind == "agent_answered":
            out.append(data.get("agent", ""))
        elif what == "voicemail" and e.kind == "voicemail" and data.get("stored", True):
            out.append(data.get("mailbox", ""))
        elif what == "transfer" and e.kind == "transfer" and _transferred(data):
            out.append(str(data.get("target", "")))
        elif what == "hangup" and e.kind == "hangup" and data.get("by") == "flow":
            out.append("flow")
        elif what == "step" and e.kind == "step_entered":
            out.append(data.get("step", ""))
    if what == "crm":
        out.extend(facts.created)
    return out


def _transferred(data: dict) -> bool:
    return data.get("status", "transferred") == "transferred"


_NOTHING = {
    "played": "no prompt was played",
    "heard": "the caller heard nothing",
    "queue": "the call joined no queue",
    "routed": "no agent was rung and no queue joined",
    "answered": "no agent answered",
    "voicemail": "no message was left",
    "transfer": "the call was not transferred",
    "hangup": "the flow did not hang up",
    "step": "the call entered no step",
    "crm": "no CRM record was created",
}

_SOME = {
    "played": "played",
    "heard": "heard",
    "queue": "queues joined",
    "routed": "rang / queued",
    "answered": "answered by",
    "voicemail": "messages left for",
    "transfer": "transferred to",
    "hangup": "hung up by",
    "step": "steps entered",
    "crm": "CRM records created",
}


def _happened(what: str, seen: list[str]) -> str:
    if not seen:
        return _NOTHING.get(what, "nothing of this kind happened")
    unique = list(dict.fromkeys(s for s in seen if s))
    shown = unique[:12]
    more = f" and {len(unique) - len(shown)} more" if len(unique) > len(shown) else ""
    if what == "heard":
        return "heard: " + "; ".join(f'"{s}"' for s in shown) + more
    return f"{_SOME.get(what, what)}: " + ", ".join(shown) + more


# ---- the same world from command-line options (`ccf simulate`) ----------------------

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
_KEYS = re.compile(r"^[0-9*#]+$")


def parse_duration_ms(value: Any, what: str = "a duration") -> int:
    """`2s`, `500ms`, `1.5m`, `1h`, or a number of milliseconds."""
    if isinstance(value, bool):
        raise ScenarioError(f"{what}: {value!r} is not a duration such as 2s")
    if isinstance(value, (int, float)):
        return int(value)
    match = _DURATION.match(str(value).strip())
    if match is None:
        raise ScenarioError(f"{what}: {value!r} is not a duration such as 2s or 500ms")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


def parse_press(text: str) -> tuple[CallerAction, ...]:
    """What a caller does, from `--press`: words separated by spaces or
    commas; keys (`1`, `20261128#`) are pressed when the call next listens
    for keys, a duration (`5s`) is a silence, `hangup` hangs up."""
    actions: list[CallerAction] = []
    for word in re.split(r"[\s,]+", text.strip()):
        if not word:
            continue
        if _KEYS.match(word):
            actions.append(Press(word))
        elif word.lower() in ("hangup", "hang-up"):
            actions.append(HangUp(after_ms=0))
        elif _DURATION.match(word):
            actions.append(Silence(parse_duration_ms(word)))
        else:
            raise ScenarioError(
                f"`{word}` is not something a caller can do: write keys (0-9, * and #), a "
                "silence such as 5s, or hangup")
    return tuple(actions)


def load_agents(path: str) -> tuple[AgentSpec, ...]:
    """Agents from a TOML or JSON file: a list `agents` of tables with `id`
    and optionally `name`, `skills` (a list, or a table of levels),
    `state`, `extension`, `answer_after` (such as "3s") and `wrapup` (a
    table: what the agent enters on the flow's wrap-up form)."""
    import json
    import tomllib
    from pathlib import Path

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the agents file {path}: {exc.strerror or exc}") \
            from None
    try:
        doc = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
        raise ScenarioError(f"the agents file {path} is not valid {kind}: {exc}") from None
    items = doc if isinstance(doc, list) else doc.get("agents") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ScenarioError(f"the agents file {path} needs a list `agents` "
                            "([[agents]] tables in TOML)")
    agents = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        where = f"{path}: agent {number}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise ScenarioError(f"{where} needs an `id` (text)")
        unknown = set(item) - {"id", "name", "skills", "state", "extension", "answer_after",
                               "wrapup"}
        if unknown:
            raise ScenarioError(f"{where} ({item['id']}): unknown key "
                                + ", ".join(f"`{k}`" for k in sorted(unknown)))
        if item["id"] in seen:
            raise ScenarioError(f"{where}: the id `{item['id']}` is used twice")
        seen.add(item["id"])
        state_word = str(item.get("state", "available")).strip().lower()
        if state_word not in AGENT_STATES:
            raise ScenarioError(f'{where} ({item["id"]}): state "{state_word}" is not one of: '
                                + ", ".join(AGENT_STATES))
        state, answers = AGENT_STATES[state_word]
        try:
            skills = skill_levels(item.get("skills"))
        except (TypeError, ValueError):
            raise ScenarioError(f"{where} ({item['id']}): skills are a list of names or a "
                                "table of levels such as {general = 5}") from None
        answer = parse_duration_ms(item.get("answer_after", 2000),
                                   f"{where} ({item['id']}) answer_after")
        wrapup = item.get("wrapup")
        if wrapup is not None and not isinstance(wrapup, dict):
            raise ScenarioError(f"{where} ({item['id']}): wrapup is a table of the wrap-up "
                                "form's fields, such as {reason = \"order\", resolved = true}")
        agents.append(AgentSpec(id=item["id"], name=str(item.get("name", item["id"])),
                                skills=skills, state=state,
                                extension=str(item.get("extension", "")),
                                answer_after_ms=answer if answers else None,
                                wrapup=wrapup))
    return tuple(agents)


def simulation(ir: dict, *, caller: str, at: str | None = None, dialled: str = "",
               actions: Sequence[CallerAction] = (), agents: Sequence[AgentSpec] = (),
               now: datetime | None = None) -> Scenario:
    """The scenario of `ccf simulate`: no expectations, the clock at `at`
    (read like a test's `at`), else at `now`, else at the current time."""
    zone, _ = flow_zone(ir)
    if at is not None:
        start = parse_at(at, zone)
    else:
        start = (now or datetime.now(UTC)).astimezone(zone)
    return Scenario(name="simulated call", loc={}, start=start, caller=caller,
                    dialled=dialled, agents=tuple(agents), actions=tuple(actions))


# ---- running a scenario ---------------------------------------------------------------

CALL_ID = "sim-1"  # one call per scenario: a fixed id keeps traces reproducible


class WatchedCRM:
    """The CRM of a scenario, noting the record types the call creates, so
    `expect crm TYPE` judges what reached the CRM whatever the events say.
    Everything else is passed through."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.created: list[str] = []

    async def find_customer(self, phone: str):
        return await self.inner.find_customer(phone)

    async def find(self, record_type: str, fields: dict[str, Any]):
        return await self.inner.find(record_type, fields)

    async def owner(self, record: Record):
        return await self.inner.owner(record)

    async def create(self, record_type: str, fields: dict[str, Any]) -> Record:
        record = await self.inner.create(record_type, fields)
        self.created.append(record_type)
        return record

    async def update(self, record: Record, fields: dict[str, Any]) -> Record:
        return await self.inner.update(record, fields)

    async def log_call(self, call: dict[str, Any]) -> None:
        await self.inner.log_call(call)

    async def close(self) -> None:
        await self.inner.close()


def crm_type_of(file_name: str) -> str:
    """The record type a fixture file holds: its name without the
    extension and a plural `s` (customers.csv -> customer, order.json ->
    order, callback_tasks.csv -> callback_task; `ss` stays: address.csv)."""
    stem = file_name.rsplit(".", 1)[0]
    return stem[:-1] if stem.endswith("s") and not stem.endswith("ss") else stem


def import_crm_folder(crm, folder: str) -> list[str]:
    """Import every .csv and .json file of a folder into a SQLite CRM, each
    as the record type its name gives (crm_type_of). Returns notes for the
    trace: what was imported from where."""
    import os

    from ccdsl.runtime.crm.importer import ImportFileError, read_records

    notes = []
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith((".csv", ".json")):
            continue
        record_type = crm_type_of(name)
        path = os.path.join(folder, name)
        try:
            records = read_records(path, record_type)
        except ImportFileError as exc:
            raise ScenarioError(f"CRM fixtures: {exc}") from None
        crm.upsert(record_type, records)
        notes.append(f"CRM: {len(records)} {record_type} record(s) from {path}")
    return notes


def scenario_centre(ir: dict, scenario: Scenario):
    from ccdsl.runtime.centre import Agent
    from ccdsl.runtime.sim import AgentScript, SimCentre, parse_state, queue_configs

    agents = []
    for spec in scenario.agents:
        agent = Agent(id=spec.id, name=spec.name or spec.id, extension=spec.extension,
                      skills=dict(spec.skills), state=parse_state(spec.state))
        agents.append((agent, AgentScript(answer_after_ms=spec.answer_after_ms,
                                          wrapup=spec.wrapup)))
    return SimCentre(agents, queues=queue_configs(ir).values(), now=scenario.start)


@dataclass
class CallRun:
    """One simulated call, done: its events, the CRM record types it
    created, the interpreter's result, and notes on how the world was set."""

    events: list[Event]
    created: list[str]
    result: Any = None  # the interpreter's CallResult
    notes: list[str] = field(default_factory=list)


def copy_database(source: str, target: str) -> None:
    """Copy a SQLite file (a `--crm` database) through SQLite's online
    backup rather than byte by byte: a CRM in WAL mode that another process
    is using keeps its latest commits in the write-ahead log until a
    checkpoint, and a copy of the main file alone would miss them. The
    source is opened read-only, so copying never changes it (not even by
    the checkpoint a last connection closing would run)."""
    from pathlib import Path

    src = sqlite3.connect(Path(source).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


async def run_scenario(program, ir: dict, scenario: Scenario, *, workdir: str,
                       sink=None, crm_db: str | None = None, crm_folder: str | None = None,
                       ask=None, note=None, store_path: str | None = None,
                       companion=None) -> CallRun:
    """Build the scenario's world in `workdir` (a fresh SQLite CRM, a call
    store), run the call with the interpreter, and return what happened.
    `sink` also receives every event as it happens; `ask` makes the caller
    interactive (runtime.sim.caller.InteractiveCaller); `note` is told how
    the world was set up, before the call starts. With `store_path` the call
    is kept in that call store (the call's id is the next free `sim-N`
    there), otherwise in a temporary one. `companion(crm, store)` makes one
    more event sink with the call's own CRM and call store (the screen pop
    of `ccf simulate --screen-pop-url`); its `finish()` is awaited once the
    call has ended, before they close."""
    import os

    from ccdsl.runtime.channel import CallInfo
    from ccdsl.runtime.clock import VirtualClock
    from ccdsl.runtime.crm.sqlite import SqliteCRM
    from ccdsl.runtime.errors import ExternalError
    from ccdsl.runtime.events import EventList, FanOut
    from ccdsl.runtime.interpreter import run_call
    from ccdsl.runtime.services import RuntimeConfig, Services
    from ccdsl.runtime.sim import InteractiveCaller, ScriptedCaller, SimChannel, StepWatch
    from ccdsl.runtime.store import CallStore

    notes: list[str] = []
    db_path = os.path.join(workdir, "crm.db")
    try:
        if crm_db is not None:
            SqliteCRM(crm_db, create=False).close_now()  # a bad file is named as given
            copy_database(crm_db, db_path)
            notes.append(f"CRM: a copy of {crm_db}")
        crm = SqliteCRM(db_path)
    except (OSError, sqlite3.Error, ExternalError) as exc:
        raise ScenarioError(f"the CRM cannot be opened: {exc}") from None
    try:
        store = CallStore(store_path or os.path.join(workdir, "calls.db"))
    except (OSError, sqlite3.Error, ValueError) as exc:
        raise ScenarioError(f"the call store `{store_path}` cannot be opened: {exc}") from None
    call_id = _next_sim_id(store) if store_path else CALL_ID
    if store_path and note is not None:
        note(f"call store: {store_path} (this call is {call_id})")
    try:
        try:
            if crm_folder is not None:
                notes.extend(import_crm_folder(crm, crm_folder))
            for record_type, fields in scenario.crm:
                crm.upsert(record_type, [dict(fields)])
        except ExternalError as exc:
            raise ScenarioError(f"the CRM fixtures cannot be loaded: {exc}") from None
        if note is not None:
            for text in notes:
                note(text)
        clock = VirtualClock(scenario.start)
        line: list = []  # the channel, once made: the interactive caller reads what was heard
        caller = (InteractiveCaller(_asking(ask, line)) if ask is not None
                  else ScriptedCaller(scenario.actions))
        info = CallInfo(call_id=call_id, caller_number=scenario.caller,
                        caller_name=scenario.caller_name, dialled=scenario.dialled,
                        started=scenario.start, channel="sim/1", language=scenario.language)
        channel = SimChannel(info, clock, caller, scenario_centre(ir, scenario))
        line.append(channel)
        events = EventList()
        sinks = (events, store) if sink is None else (events, store, sink)
        watched = WatchedCRM(crm)
        extra = companion(crm, store) if companion is not None else None
        if extra is not None:
            sinks = (*sinks, extra)
        config = RuntimeConfig(recordings_dir=os.path.join(workdir, "recordings"))
        services = Services(clock=clock, crm=watched, centre=channel.centre, history=store,
                            sink=StepWatch(FanOut(*sinks), channel), config=config)
        result = await run_call(program, channel, services)
        if extra is not None:
            await extra.finish()
        return CallRun(events.events, watched.created, result, notes)
    finally:
        store.close()
        crm.close_now()


def _asking(ask, line: list):
    """The interactive caller's question, with what the caller heard since
    it was last asked (the prompt they answer): ask(waiting_for, heard),
    heard a list of {kind, text, language} from the channel's log."""
    seen = [0]

    def question(waiting_for: str):
        entries = line[0].log.entries if line else []
        heard = [dict(data) for kind, data in entries[seen[0]:] if kind == "heard"]
        seen[0] = len(entries)
        return ask(waiting_for, heard)

    return question


@dataclass(frozen=True)
class TestResult:
    """One test block, run and judged."""

    name: str
    loc: dict
    outcomes: tuple[Outcome, ...] = ()
    events: tuple[Event, ...] = ()
    error: str | None = None  # the test could not be run as written
    error_loc: dict | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and all(o.passed for o in self.outcomes)


def run_test(ir: dict, test: dict, *, program=None, runner=None) -> TestResult:
    """Run one test block of the IR as a simulated call and judge it.
    `runner` runs the call instead of run_scenario, with its arguments
    (runtime.asterisk.scenario_agi runs it through `ccf serve`)."""
    import asyncio
    import tempfile
    import time

    from ccdsl.runtime.ir import load_program

    started = time.perf_counter()
    try:
        scenario = scenario_from_test(ir, test)
    except ScenarioError as exc:
        return TestResult(test["name"], test.get("loc", {}), error=str(exc),
                          error_loc=exc.loc or None)
    program = program if program is not None else load_program(ir, validate=False)
    with tempfile.TemporaryDirectory(prefix="ccf-test-") as workdir:
        try:
            run = asyncio.run((runner or run_scenario)(program, ir, scenario, workdir=workdir))
        except ScenarioError as exc:
            return TestResult(scenario.name, scenario.loc, error=str(exc),
                              error_loc=exc.loc or None)
    outcomes = check(scenario.expectations, CallFacts(run.events, run.created))
    return TestResult(scenario.name, scenario.loc, tuple(outcomes), tuple(run.events),
                      seconds=time.perf_counter() - started)


def run_tests(ir: dict) -> list[TestResult]:
    """Every test block of the IR, in order."""
    from ccdsl.runtime.ir import load_program

    program = load_program(ir, validate=False)
    return [run_test(ir, test, program=program) for test in ir.get("tests", [])]


def _next_sim_id(store) -> str:
    """The next `sim-N` call id free in a call store, so simulated calls kept
    in one store never share an id."""
    rows = store.query("SELECT call_id FROM calls WHERE call_id LIKE 'sim-%'")
    numbers = [int(r["call_id"][4:]) for r in rows if r["call_id"][4:].isdigit()]
    return f"sim-{max(numbers, default=0) + 1}"


def run_simulation(ir: dict, scenario: Scenario, *, sink=None, crm_db: str | None = None,
                   crm_folder: str | None = None, ask=None, note=None,
                   store_path: str | None = None, companion=None) -> CallRun:
    """One simulated call for `ccf simulate`, in a temporary directory that
    is removed afterwards (the call store too, unless `store_path` names one
    to keep the call in)."""
    import asyncio
    import tempfile

    from ccdsl.runtime.ir import load_program

    program = load_program(ir, validate=False)
    with tempfile.TemporaryDirectory(prefix="ccf-simulate-") as workdir:
        return asyncio.run(run_scenario(program, ir, scenario, workdir=workdir, sink=sink,
                                        crm_db=crm_db, crm_folder=crm_folder, ask=ask,
                                        note=note, store_path=store_path,
                                        companion=companion))
