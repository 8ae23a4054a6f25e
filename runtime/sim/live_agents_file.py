"""Saving an agent's skills into the agents file (TOML or JSON), atomically, keeping the others.

Must not import the console or Asterisk. TOML is written by hand (no new dependency) and read
back with load_agents before it replaces the file.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.operations.agents_file import load_agents

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    return key if _BARE.match(key) else toml_value(key)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"{value} cannot be written to the agents file")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string is a JSON string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}"
                                for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise InputError(f"{value!r} cannot be written to the agents file")


def agents_toml(items: list[dict[str, Any]], header: str = "") -> str:
    out = [header.rstrip("\n") + "\n"] if header.strip() else []
    for item in items:
        out.append("\n[[agents]]\n" if out else "[[agents]]\n")
        out.extend(f"{toml_key(str(k))} = {toml_value(v)}\n" for k, v in item.items())
    return "".join(out)


def _header(text: str) -> str:
    """The comment lines at the top of a TOML file, kept when it is rewritten."""
    lines = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def save_skills(path: str, agent: str, skills: dict[str, int]) -> None:
    """Set one agent's `skills` in the file; the others are kept as written
    (a TOML file's own comments other than its opening ones are not)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the agents file {path}: {exc.strerror or exc}") from None
    is_json = file.suffix.lower() == ".json"
    try:
        doc = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"the agents file {path} cannot be read: {exc}") from None
    items = doc if isinstance(doc, list) else doc.get("agents") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise InputError(f"the agents file {path} has no list `agents`")
    found = [item for item in items if isinstance(item, dict) and item.get("id") == agent]
    if not found:
        raise InputError(f"no agent {agent!r} in the agents file {path}")
    found[0]["skills"] = {str(k): int(v) for k, v in skills.items()}
    if is_json:
        new = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        if isinstance(doc, dict) and set(doc) - {"agents"}:
            raise InputError(f"the agents file {path} has more than `agents`: not rewritten")
        new = agents_toml(items, _header(text))
    fd, tmp = tempfile.mkstemp(prefix=f".{file.stem}.", suffix=file.suffix or ".toml",
                               dir=str(file.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(new)
            out.flush()
            os.fsync(out.fileno())
        load_agents(tmp)  # what was written reads back as an agents file
        os.replace(tmp, file)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
