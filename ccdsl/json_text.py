"""JSON text as everything ccf writes it: json.dumps that refuses NaN and Infinity, which
are not JSON, saying where the number is. Imports nothing of ccdsl; must not print."""

from __future__ import annotations

import json
import math
from typing import Any


class NotJson(ValueError):
    """A value holds a number that is not finite (NaN, Infinity): writing it would make
    text no other JSON reader takes, so nothing is written."""


def dumps(value: Any, **options: Any) -> str:
    """json.dumps(value, **options) with allow_nan=False: NotJson, naming where the
    number that is not finite is, instead of NaN or Infinity in the text."""
    try:
        return json.dumps(value, **options, allow_nan=False)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise  # a circular reference: not ours to word
        where = non_finite_at(value)
        raise NotJson(f"not written as JSON: {where or 'a number'} is not a finite number "
                      "(JSON has no NaN or Infinity)") from None


def non_finite_at(value: Any, path: str = "$") -> str | None:
    """Where in `value` a float that is not finite is (`$.rows[2].share = nan`), or None
    (one only a `default` hook makes). Lists and maps nest as deep as json.dumps allows."""
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} = {value!r}"
    if isinstance(value, dict):
        items: Any = ((f"{path}.{key}", item) for key, item in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", item) for i, item in enumerate(value))
    else:
        return None
    for where, item in items:
        found = non_finite_at(item, where)
        if found is not None:
            return found
    return None


def nulled(value: Any) -> Any:
    """`value` with each float that is not finite as None (null): for output where a
    number can have no value (a share of no calls), which says so rather than fail.
    Other values are kept as they are (the same object when nothing changed)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        items = {key: nulled(item) for key, item in value.items()}
        return value if all(items[k] is value[k] for k in value) else items
    if isinstance(value, (list, tuple)):
        kept = [nulled(item) for item in value]
        return value if all(a is b for a, b in zip(kept, value, strict=True)) else kept
    return value
