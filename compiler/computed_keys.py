"""The keys of a map literal written with `${...}` (`{"${call.language}": 5}`): how they are
typed; must not import the runtime or the checks.

A computed key is evaluated on each call; it must give text. A key that is
one interpolation (`"${x}"`) is the value of `x` itself, so a number or a
value that may be null there is refused as it would fail at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from ccdsl import ast
from ccdsl.compiler import nullsafety
from ccdsl.compiler.infer_env import Env, emit
from ccdsl.types import TEXT, Type, accepts, describe, map_of, unify


def check_keys(e: ast.MapLit, env: Env, diags, value_of: Callable) -> None:
    for entry in e.entries:
        if entry.computed is None:
            continue
        parts = [p for p in entry.computed.parts if not isinstance(p, str)]
        types = [value_of(p, env, diags) for p in parts]
        if len(entry.computed.parts) != 1:
            continue  # text around it: every part becomes text
        t: Type = types[0]
        if not accepts(TEXT, t):
            emit(diags, "E300", f"a map key is text, not {describe(t)}", entry.computed.span,
                 help="interpolate it inside other text, or give it as text")
        elif nullsafety.may_be_null(t):
            nullsafety.report(parts[0], t, "a map key", env, diags,
                              lambda fixed: f'"${{{fixed}}}"')


def map_type(e: ast.MapLit, env: Env, diags, value_of: Callable) -> Type:
    """The type of a map literal: its values are checked, and its computed keys; a map
    whose values share one type has it as its item type (`{"1": cardiology}` holds queues)."""
    item: Type | None = None
    for i, entry in enumerate(e.entries):
        t = value_of(entry.value, env, diags)
        item = t if i == 0 else item and unify(item, t)
    check_keys(e, env, diags, value_of)
    return map_of(item)
