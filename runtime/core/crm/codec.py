"""How run-time values are stored in a SQLite cell and read back (SQLite CRM, `ccf crm import`).

Opens no database: values that are not text, numbers or null are written plainly and
their column's kind is noted for the caller to keep.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from typing import Any

from ccdsl import json_text
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.json_answer import number_problem as flow_number_problem
from ccdsl.runtime.core.values import MAX_VALUE_DEPTH, Duration, Record, TimeOfDay, nesting

# the kinds a column may be noted with; a column with no note is plain
KINDS = ("json", "bool", "date", "datetime", "duration", "time")
# the whole numbers SQLite stores as INTEGER
INT64 = (-2**63, 2**63 - 1)

# what a record type name or a field name may look like: the language's
# identifiers. Names are checked before they reach SQL, where they are
# also quoted, so a value never becomes part of a statement.
NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_name(name: object) -> bool:
    return isinstance(name, str) and _is_name(name)


@functools.lru_cache(maxsize=4096)
def _is_name(name: str) -> bool:
    # every call checks the same few field names: match each one once
    return bool(NAME_RE.match(name)) and len(name) <= 64


def encode(value: Any) -> tuple[Any, str | None]:
    """The cell for a value, and the kind to note for its column (None for
    a plain text or number). A number that is not finite, or a whole number
    past 64 bits, however deep in a list or map, is an ExternalError: a
    CRM failure the flow's error path takes, not a crash."""
    if value is None or isinstance(value, str):
        return value, None
    if isinstance(value, bool):  # before int: bool is an int in Python
        return int(value), "bool"
    if isinstance(value, (int, float)):
        _check_numbers(value)
        return value, None
    if isinstance(value, dt.datetime):  # before date: a datetime is a date
        return value.isoformat(), "datetime"
    if isinstance(value, dt.date):
        return value.isoformat(), "date"
    if isinstance(value, Duration):
        return value.ms, "duration"
    if isinstance(value, TimeOfDay):
        return str(value), "time"
    if isinstance(value, Record):
        # a record stored in a field is a reference to it, by id
        return encode(value.id)
    if isinstance(value, (list, tuple, dict)):
        _check_numbers(value)
        return json_text.dumps(_plain(value), ensure_ascii=False), "json"
    return str(value), None


def number_problem(value: Any, whole_hint: str = "") -> str | None:
    """Why a number in a value (a list's or a map's, however deep) cannot be
    a CRM field, or None: NaN and infinity are no numbers a flow, the call
    store or JSON can hold (worded as json_answer words them in an answer),
    and SQLite keeps whole numbers in 64 bits. `whole_hint` ends the words
    for a whole number too large: what the user can do where the number came
    from (a CSV column's type)."""
    if isinstance(value, float):
        return flow_number_problem(value)
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        return (f"{value} is too large for a number (whole numbers run from {INT64[0]} to "
                f"{INT64[1]}){whole_hint}")
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return next((p for v in value if (p := number_problem(v, whole_hint))), None)
    return None


def _check_numbers(value: Any) -> None:
    problem = number_problem(value)
    if problem:
        raise ExternalError(f"cannot store this value in the CRM: {problem}", service="crm")


def _plain(value: Any) -> Any:
    """A JSON-safe form of a list or map, for a json cell."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Record):
        return value.id
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    cell, _ = encode(value)
    return cell


def decode(cell: Any, kind: str | None) -> Any:
    """The value a cell holds, given its column's kind. A cell that does not
    parse as its column's kind (written by another tool) reads as it is."""
    if cell is None or kind is None:
        return cell
    try:
        if kind == "json":
            value = json.loads(cell)
            if nesting(value) > MAX_VALUE_DEPTH:
                return cell  # a value may not nest so deep: the text as it is
            return tuple(value) if isinstance(value, list) else value
        if kind == "bool":
            return bool(cell)
        if kind == "datetime":
            return dt.datetime.fromisoformat(cell)
        if kind == "date":
            return dt.date.fromisoformat(cell)
        if kind == "duration":
            return Duration(int(cell))
        if kind == "time":
            hours, minutes = str(cell).split(":")
            return TimeOfDay(int(hours) * 60 + int(minutes))
    except (TypeError, ValueError, RecursionError):
        # RecursionError: JSON nested past what the decoder follows; it keeps
        # no state, so reading on is safe
        return cell
    return cell


PHONE_NOISE = re.compile(r"[\s\-().]")


def normalise_phone(phone: str) -> str:
    """A phone number in E.164 form as callers' numbers arrive: spaces,
    dashes, dots and parentheses removed, the leading + kept."""
    return PHONE_NOISE.sub("", str(phone))
