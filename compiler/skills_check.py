"""The checker's reading of a `skills` value (queues, routing lines, agents in tests);
must not import the runtime; it is handed infer's value_of, as computed_keys is."""

from __future__ import annotations

from collections.abc import Callable

from ccdsl import ast
from ccdsl.compiler import computed_keys
from ccdsl.compiler.infer_env import Env, emit, text_of
from ccdsl.types import MAP, NUMBER, TEXT, accepts, describe, list_of


def check_skills(value, env: Env, diags, value_of: Callable) -> None:
    """A skills value: `[general, tech]` (bare names are skill names, not
    variables), `{tech: 3}` (minimum levels) or an expression giving a list
    of texts."""
    if isinstance(value, ast.ListLit):
        for item in value.items:
            if isinstance(item, ast.Name):
                continue
            t = value_of(item, env, diags)
            if not accepts(TEXT, t):
                emit(diags, "E300", f"a skill is a name or a text, not {describe(t)}",
                      item.span)
        return
    if isinstance(value, ast.MapLit):
        computed_keys.check_keys(value, env, diags, value_of)
        for entry in value.entries:
            t = value_of(entry.value, env, diags)
            if not accepts(NUMBER, t):
                emit(diags, "E300", f"a skill level is a number, not {describe(t)}",
                      entry.value.span)
        return
    t = value_of(value, env, diags)
    if not (accepts(list_of(TEXT), t) or accepts(MAP, t)):
        emit(diags, "E300", f"skills are a list like `[general, tech]` or levels like "
              f"`{{tech: 3}}`, not {describe(t)}", value.span)
    elif t.kind == "map" and t.item is not None and not accepts(NUMBER, t.item):
        emit(diags, "E300", f"skill levels are numbers, but the values of `{text_of(value, env)}`"
              f" are {describe(t.item)}", value.span)
