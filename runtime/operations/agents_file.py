"""The agents file (TOML or JSON): the centre's agents, their skills, devices and behaviour.

Reads it, and writes one agent's new skills into it (save_skills: the console's change, on
Asterisk and on the simulated centre alike). Must not import the simulator or Asterisk:
both read it.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ccdsl import json_text
from ccdsl.agent_ids import agent_id_problem
from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.operations.atomic_file import write_atomically
from ccdsl.runtime.operations.centre_time import DAY_MS  # the longest answer_after

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


@dataclass(frozen=True)
class AgentSpec:
    id: str
    skills: dict[str, int] = field(default_factory=dict)
    state: str = "available"
    extension: str = ""
    answer_after_ms: int | None = 2000  # None: lets every call ring out
    name: str = ""
    wrapup: dict[str, Any] | None = None  # what the agent enters on the wrap-up form


def unknown_agent(agents: Sequence[AgentSpec], agent_id: str) -> str | None:
    """What to tell a user who named an agent the agents file does not have
    (None: it has it): every command and the console say the same."""
    if any(agent.id == agent_id for agent in agents):
        return None
    known = ", ".join(agent.id for agent in agents) or "none"
    return f"no agent {agent_id!r} in the agents file (the agents: {known})"


def agent_named(agents: Sequence[AgentSpec], agent_id: str,
                error: Callable[..., Exception]) -> AgentSpec:
    """The agent the agents file has under this id; else raises `error(words, unknown=True)`
    (a command's CentreCommandError: a usage error) in unknown_agent's words."""
    agent = next((a for a in agents if a.id == agent_id), None)
    if agent is None:
        raise error(unknown_agent(agents, agent_id), unknown=True)
    return agent


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


def _is_json(path: str) -> bool:
    return Path(path).suffix.lower() == ".json"


def _read(path: str, error: type[InputError]) -> tuple[str, Any, list]:
    """The agents file's text, its document (TOML, or JSON by the name) and
    its list of agents; `error` says why not."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read the agents file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise error(f"the agents file {path} is not UTF-8 text (byte {exc.start})") from None
    try:
        doc = json.loads(text) if _is_json(path) else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if _is_json(path) else "TOML"
        raise error(f"the agents file {path} is not valid {kind}: {exc}") from None
    items = doc if isinstance(doc, list) else doc.get("agents") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise error(f"the agents file {path} needs a list `agents` ([[agents]] tables in TOML)")
    return text, doc, items


def load_agents(path: str) -> tuple[AgentSpec, ...]:
    """Agents from a TOML or JSON file: a list `agents` of tables with `id`
    and optionally `name`, `skills` (a list, or a table of levels),
    `state`, `extension`, `answer_after` (such as "3s") and `wrapup` (a
    table: what the agent enters on the flow's wrap-up form)."""

    _, _, items = _read(path, InputError)
    agents = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        where = f"{path}: agent {number}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise InputError(f"{where} needs an `id` (text)")
        if problem := agent_id_problem(item["id"]):
            raise InputError(f"{where}: {problem} (it names the agent's queue member on "
                             "Asterisk)")
        unknown = set(item) - {"id", "name", "skills", "state", "extension", "answer_after",
                               "wrapup"}
        if unknown:
            raise InputError(f"{where} ({item['id']}): unknown key "
                                + ", ".join(f"`{k}`" for k in sorted(unknown)))
        if item["id"] in seen:
            raise InputError(f"{where}: the id `{item['id']}` is used twice")
        seen.add(item["id"])
        state_word = str(item.get("state", "available")).strip().lower()
        if state_word not in AGENT_STATES:
            raise InputError(f'{where} ({item["id"]}): state "{state_word}" is not one of: '
                                + ", ".join(AGENT_STATES))
        state, answers = AGENT_STATES[state_word]
        try:
            skills = skill_levels(item.get("skills"))
        except (TypeError, ValueError):
            raise InputError(f"{where} ({item['id']}): skills are a list of names or a "
                                "table of levels such as {general = 5}") from None
        answer = parse_duration_ms(item.get("answer_after", 2000),
                                   f"{where} ({item['id']}) answer_after")
        if not 0 <= answer <= DAY_MS:  # past a day no call rings; far past, a timer overflows
            raise InputError(f"{where} ({item['id']}): answer_after is from 0s to a day, "
                             f"not {item.get('answer_after')!r}")
        wrapup = item.get("wrapup")
        if wrapup is not None and not isinstance(wrapup, dict):
            raise InputError(f"{where} ({item['id']}): wrapup is a table of the wrap-up "
                                "form's fields, such as {reason = \"order\", resolved = true}")
        agents.append(AgentSpec(id=item["id"], name=str(item.get("name", item["id"])),
                                skills=skills, state=state,
                                extension=str(item.get("extension", "")),
                                answer_after_ms=answer if answers else None,
                                wrapup=wrapup))
    return tuple(agents)


# -- writing one agent's skills --------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[\s*agents\s*\]\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")
_SKILLS = re.compile(r"^\s*skills\s*=")
_ID = re.compile(r"^\s*id\s*=")
_BARE = re.compile(r"[A-Za-z0-9_-]+")


class SkillsError(InputError, ValueError):
    """Skills that cannot be saved; the message says why (bad input or a file
    that cannot be read or written)."""


def save_skills(path: str, agent_id: str, skills: Mapping[str, int]) -> None:
    """Write the agent's skills into the agents file, keeping every other
    agent and field. In TOML only that agent's `skills =` line is replaced
    (or added after its `id`), comments and layout kept; a file whose shape
    is not that simple is written anew from what it holds. The new text is
    read back as an agents file, then replaces the old one atomically (a
    file beside it, then os.replace): readers see the old file or the new."""
    text, doc, items = _read(path, SkillsError)
    index = next((i for i, item in enumerate(items)
                  if isinstance(item, dict) and item.get("id") == agent_id), None)
    if index is None:
        raise SkillsError(f"no agent {agent_id!r} in the agents file {path}")
    levels = {str(k): int(v) for k, v in skills.items()}
    items[index]["skills"] = levels
    if _is_json(path):
        new = json_text.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        new = _edited_toml(text, index, levels, doc) or toml_document(doc)
    _replace(Path(path), new)


def _edited_toml(text: str, index: int, skills: Mapping[str, int], want: dict) -> str | None:
    """The file with the one `skills =` line of the agent's [[agents]] table
    replaced (or added after its id), comments and layout kept; None when
    the file's shape is not that simple (then it is written anew)."""
    lines = text.splitlines(keepends=True)
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    if len(headers) <= index:
        return None
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines)
    block = range(start + 1, end)
    if any(_TABLE.match(lines[i]) for i in block):
        return None  # a [agents.skills] table or another table inside: too clever to edit
    line = f"skills = {inline_table(skills)}\n"
    found = [i for i in block if _SKILLS.match(lines[i])]
    if len(found) == 1:
        lines[found[0]] = line
    elif not found:
        after = next((i for i in block if _ID.match(lines[i])), start)
        lines.insert(after + 1, line)
    else:
        return None
    new = "".join(lines)
    try:
        return new if tomllib.loads(new) == want else None
    except tomllib.TOMLDecodeError:
        return None


def _replace(file: Path, text: str) -> None:
    """Write the file whole (its mode kept), once it reads back as an agents file."""
    def reads_back(temp: str) -> None:
        try:
            load_agents(temp)
        except InputError as exc:
            raise SkillsError(f"the agents file {file} was not changed: {exc}") from None

    try:
        write_atomically(file, text, check=reads_back)
    except OSError as exc:
        raise SkillsError(f"cannot write the agents file {file}: {exc.strerror or exc}") \
            from None


# -- TOML by hand (no new dependency): the values an agents file holds -------------------------


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json_text.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """One TOML value: JSON's string escapes are TOML basic strings'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise SkillsError(f"{value} cannot be written to the agents file")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json_text.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return inline_table(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise SkillsError(f"cannot write {type(value).__name__} values into TOML")


def inline_table(table: Mapping[str, Any]) -> str:
    if not table:
        return "{}"
    return "{ " + ", ".join(f"{_key(str(k))} = {toml_value(v)}" for k, v in table.items()) \
        + " }"


def toml_document(doc: Mapping[str, Any]) -> str:
    """A whole agents file: top-level keys, then one [[agents]] table each."""
    out = [f"{_key(k)} = {toml_value(v)}" for k, v in doc.items() if k != "agents"]
    for agent in doc.get("agents") or []:
        out.append("")
        out.append("[[agents]]")
        out.extend(f"{_key(k)} = {toml_value(v)}" for k, v in agent.items())
    return "\n".join(out).lstrip("\n") + "\n"
