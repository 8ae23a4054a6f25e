"""The checker's reading of a `skills` value (queues, routing lines, agents in tests);
must not import the runtime; it is handed infer's value_of, as computed_keys is."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ccdsl import ast
from ccdsl import builtins as bi
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


def skill_names(node) -> Iterator[ast.Name]:
    """The bare names of the skills lists under node (a queue's or a test agent's `skills`
    option, a routing `skills` line, a builtin's skills argument): skill words, which the
    agents file uses too, not references to a declaration of the same name."""
    for n in ast.walk(node):
        if isinstance(n, ast.Option) and n.name == "skills":
            yield from _bare(n.value)
        elif isinstance(n, ast.Rule) and n.kind == "skills":
            yield from _bare(n.target)
        elif isinstance(n, ast.Call):
            found = bi.lookup(".".join(ast.dotted(n.func) or ()))
            params = found.params if found is not None else ()
            for i, arg in enumerate(n.args):
                named = next((p for p in params if p.name == arg.name), None)
                param = named if arg.name is not None else \
                    (params[i] if i < len(params) else None)
                if param is not None and param.form == "skills":
                    yield from _bare(arg.value)


def _bare(value) -> Iterator[ast.Name]:
    if isinstance(value, ast.ListLit):
        yield from (item for item in value.items if isinstance(item, ast.Name))
