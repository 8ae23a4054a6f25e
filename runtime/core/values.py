"""Run-time values of the language, mapped onto Python values; small immutable classes for the rest.

Imports nothing of the runtime: every other module builds on it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

# How deep lists, maps and records may hold one another in a value. An
# expression nests at most 32 levels, but variables can wrap a list in a
# list without end (`b = [a]`, `c = [b]`, ...), and a CRM or an HTTP answer
# can nest as it likes; reading, comparing and encoding a value recurses
# once per level, so a value nested deeper never reaches them.
MAX_VALUE_DEPTH = 64

# The longest duration, as a timedelta holds it (999999999 days): a longer one
# could not be waited for, nor added to a datetime, so arithmetic that makes one
# is a flow error where it is made, not an internal error where it is used.
MAX_DURATION_MS = dt.timedelta.max // dt.timedelta(milliseconds=1)


@dataclass(frozen=True, order=True)
class Duration:
    ms: int

    def __str__(self) -> str:
        ms = self.ms
        for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
            if ms and ms % size == 0:
                return f"{ms // size}{unit}"
        return f"{ms}ms"


@dataclass(frozen=True, order=True)
class TimeOfDay:
    minutes: int  # since midnight, 0..1440

    def __str__(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}"


@dataclass(frozen=True)
class Record:
    """A CRM record (customer, order, agent, ...) or a builtin fact record
    (caller, call). Fields not present read as null."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict, hash=False)

    def get(self, name: str) -> Any:
        return self.fields.get(name)

    @property
    def id(self) -> Any:
        return self.fields.get("id")


@dataclass(frozen=True)
class Ref:
    """A declaration used as a value: `office` (hours), `service` (queue)."""

    kind: str  # hours | prompt | queue | routing | record | step | sub
    name: str  # qualified name in the IR


def to_text(value: Any) -> str:
    """How a value reads inside `${...}` and in `say`/`log`: a text as it
    is, null as nothing, anything else as the language writes it (`spell`)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return spell(value)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quoted(text: str) -> str:
    """A text as a string literal of the language (`"say \\"hi\\""`)."""
    body = "".join(_ESCAPES.get(ch, ch) for ch in text).replace("${", "\\${")
    return f'"{body}"'


def spell(value: Any) -> str:
    """A value as the language writes it, for logs, traces and messages:
    null, true, 3, "text", 30s, 09:30, 2026-03-01, [1, 2], {a: 1, "b-c": 2};
    a record by its name or id."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Record):
        return str(value.fields.get("name") or value.fields.get("id") or value.kind)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(spell(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{map_key(k)}: {spell(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def map_key(key: Any) -> str:
    """A key of a map as a map literal writes it: `a`, or `"b-c"` quoted."""
    return key if isinstance(key, str) and _WORD.fullmatch(key) else spell(key)


def to_json(value: Any) -> Any:
    """A JSON-safe form of a value, for events and the call store."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Duration):
        return {"duration_ms": value.ms}
    if isinstance(value, TimeOfDay):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Record):
        return {"kind": value.kind, **{k: to_json(v) for k, v in value.fields.items()}}
    if isinstance(value, Ref):
        return {"ref": value.name, "kind": value.kind}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return str(value)


def nesting(value: Any, most: int = MAX_VALUE_DEPTH) -> int:
    """How many levels of lists, maps and records `value` holds (0 for a
    scalar), measured without recursion; past `most` it stops, at most + 1."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (list, tuple)):
            children: Any = item
        elif isinstance(item, dict):
            children = item.values()
        elif isinstance(item, Record):
            children = item.fields.values()
        else:
            continue
        if depth > most:
            return most + 1
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children
                       if isinstance(child, (list, tuple, dict, Record)))
    return deepest
