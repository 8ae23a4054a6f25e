"""The console's change of an agent's skills written into the agents file (TOML or JSON).

Rewrites one agent's `skills` and keeps every other agent, field and (in TOML) comment;
replaces the file atomically. Must not talk to Asterisk or decide who may change skills.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

SKILL_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
LEVELS = range(1, 11)
_HEADER = re.compile(r"^\s*\[\[\s*agents\s*\]\]\s*(#.*)?$")
_TABLE = re.compile(r"^\s*\[")
_SKILLS = re.compile(r"^\s*skills\s*=")
_ID = re.compile(r"^\s*id\s*=")


class SkillsError(ValueError):
    """Skills that cannot be saved; the message says why (bad input or a file
    that cannot be read or written)."""


def check_skills(skills: Mapping[str, Any]) -> dict[str, int]:
    """Skill names of letters, digits, _ and -, levels 1..10."""
    out: dict[str, int] = {}
    for name, level in skills.items():
        if not isinstance(name, str) or not SKILL_NAME.fullmatch(name):
            raise SkillsError(f"the skill name {name!r} may only use letters, digits, _ and - "
                              "(at most 40)")
        if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
            raise SkillsError(f"the level of {name} must be a whole number from 1 to 10, "
                              f"not {level!r}")
        out[name] = level
    return out


def save_skills(path: str, agent_id: str, skills: Mapping[str, int]) -> None:
    """Write the agent's skills into the agents file (module doc)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SkillsError(f"cannot read the agents file {path}: {exc.strerror or exc}") \
            from None
    is_json = file.suffix.lower() == ".json"
    try:
        doc = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise SkillsError(f"the agents file {path} cannot be read: {exc}") from None
    items = doc if isinstance(doc, list) else doc.get("agents") if isinstance(doc, dict) \
        else None
    index = next((i for i, item in enumerate(items or [])
                  if isinstance(item, dict) and item.get("id") == agent_id), None)
    if index is None:
        raise SkillsError(f"no agent {agent_id!r} in the agents file {path}")
    items[index]["skills"] = dict(skills)
    if is_json:
        new = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        new = _edited_toml(text, index, skills, doc) or toml_document(doc)
    _replace(file, new)


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
    """Write beside the file, then os.replace: readers see the old file or the new."""
    try:
        mode = file.stat().st_mode & 0o777
        handle, temp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.chmod(temp, mode)
            os.replace(temp, file)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SkillsError(f"cannot write the agents file {file}: {exc.strerror or exc}") \
            from None


# -- TOML by hand: the values an agents file holds ------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """One TOML value: JSON's string escapes are TOML basic strings'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
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
    return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in table.items()) + " }"


def toml_document(doc: Mapping[str, Any]) -> str:
    """A whole agents file: top-level keys, then one [[agents]] table each."""
    out = [f"{_key(k)} = {toml_value(v)}" for k, v in doc.items() if k != "agents"]
    for agent in doc.get("agents") or []:
        out.append("")
        out.append("[[agents]]")
        out.extend(f"{_key(k)} = {toml_value(v)}" for k, v in agent.items())
    return "\n".join(out).lstrip("\n") + "\n"
