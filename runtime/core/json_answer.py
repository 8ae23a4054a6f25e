"""A JSON answer from a peer (an HTTP CRM's, `http.get`'s and `http.post`'s) read as a value a
flow can hold, and why not. Pure: reads the bytes it is given, never the network, never raises
for what a peer sent."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from ccdsl.runtime.core.values import MAX_VALUE_DEPTH

NOT_JSON = "a body that is not JSON"
TOO_DEEP = f"JSON nested more than {MAX_VALUE_DEPTH} levels deep"
# a flow's numbers end where floats do: past it arithmetic is a flow error, a literal E509
LARGEST = sys.float_info.max


def number_problem(value: Any) -> str | None:
    """Why a number in `value`, bare or however deep in its lists and maps, is none a flow
    can hold, or None: NaN is no number, infinity none either, and a whole number past the
    largest float is too large to meet one (in `x * 1.5`, in a comparison)."""
    return _walk(value, None)[1]


def _walk(value: Any, most: int | None) -> tuple[bool, str | None]:
    """One walk over `value` (without recursion: a peer chooses the depth): whether it
    nests lists and maps more than `most` levels deep (the walk ends there), and the
    first number in it a flow cannot hold (number_problem's words), or None."""
    found = None
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list, tuple)):
            if most is not None and depth > most:
                return True, found
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif found is None:
            found = _scalar_problem(item)
    return False, found


def _scalar_problem(item: Any) -> str | None:
    if isinstance(item, float):
        if math.isnan(item):
            return "NaN is not a finite number"
        if math.isinf(item):
            return "a number too large (past about 1.8e308) is not a finite number"
    elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > LARGEST:
        return (f"a whole number of {len(str(abs(item)))} digits is too large (numbers "
                "run up to about 1.8e308)")
    return None


def read_json(content: bytes) -> tuple[Any, str | None]:
    """The JSON value of an answer's body and None; or None and why it is no value a
    flow can hold: NOT_JSON, TOO_DEEP, or "a number a flow cannot hold: ..."
    (number_problem; NaN and Infinity, which Python's decoder takes, are among them)."""
    try:
        value = json.loads(content)
    except RecursionError:
        # the decoder's only word for nesting it cannot follow; it keeps no state
        return None, TOO_DEEP
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, NOT_JSON
    except ValueError:  # the decoder's int() past sys.get_int_max_str_digits(): JSON still
        return None, (f"a number a flow cannot hold: a whole number of more than "
                      f"{sys.get_int_max_str_digits()} digits is too large (numbers run up "
                      "to about 1.8e308)")
    too_deep, problem = _walk(value, MAX_VALUE_DEPTH)
    if too_deep:  # the depth is said first, whatever number lies in it
        return None, TOO_DEEP
    if problem is not None:
        return None, f"a number a flow cannot hold: {problem}"
    return value, None
