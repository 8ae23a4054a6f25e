"""The agents file (TOML or JSON): the centre's agents, their skills, devices and behaviour.

Must not import the simulator or Asterisk: both read it.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError

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


def load_agents(path: str) -> tuple[AgentSpec, ...]:
    """Agents from a TOML or JSON file: a list `agents` of tables with `id`
    and optionally `name`, `skills` (a list, or a table of levels),
    `state`, `extension`, `answer_after` (such as "3s") and `wrapup` (a
    table: what the agent enters on the flow's wrap-up form)."""

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the agents file {path}: {exc.strerror or exc}") \
            from None
    try:
        doc = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if file.suffix.lower() == ".json" else "TOML"
        raise InputError(f"the agents file {path} is not valid {kind}: {exc}") from None
    items = doc if isinstance(doc, list) else doc.get("agents") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise InputError(f"the agents file {path} needs a list `agents` "
                            "([[agents]] tables in TOML)")
    agents = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        where = f"{path}: agent {number}"
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise InputError(f"{where} needs an `id` (text)")
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
