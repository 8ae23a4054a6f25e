"""Lowering of options to IR: every option of a construct by name, defaults filled in.

Must not lower statements (lower_stmt.py and the statement table do). For
collect, menu and play the defaults are filled in here, so the runtime never
guesses.
"""

from __future__ import annotations

from functools import cache

from ccdsl import ast
from ccdsl.compiler.build_expr import parse_expression
from ccdsl.compiler.lower_expr import (
    Context,
    lower_args,
    lower_expr,
    resolve_module_member,
    text,
)
from ccdsl.options import options_for
from ccdsl.source import SourceFile


def lower_skills(ctx: Context, expr: ast.Expr) -> dict:
    """In a skills list (or map) a bare name is a skill, not a variable."""
    if isinstance(expr, ast.ListLit):
        return {"list": [text(i.id) if isinstance(i, ast.Name) else lower_expr(ctx, i)
                         for i in expr.items]}
    if isinstance(expr, ast.Name):
        return {"list": [text(expr.id)]}
    return lower_expr(ctx, expr)


def lower_prompt_source(ctx: Context, value) -> dict:
    """What to play: a declared prompt with its arguments by parameter
    name, speech (``tts``) or a sound file (``file``; a plain string
    names a file too)."""
    if isinstance(value, ast.SourceValue):
        return {value.kind: lower_expr(ctx, value.value)}
    target, args = (value.func, value.args) if isinstance(value, ast.Call) else (value, ())
    prompt = _prompt_decl(ctx, target)
    if prompt is not None:
        name, decl = prompt
        params = decl.params or ()
        positional, named = lower_args(ctx, args)
        bound = dict(zip(params, positional, strict=False)) | named
        return {"prompt": name, "args": dict(sorted(bound.items()))}
    return {"file": lower_expr(ctx, value)}


def _prompt_decl(ctx: Context, target: ast.Expr) -> tuple[str, ast.Prompt] | None:
    # a prompt name wins over a variable of the same name where a prompt
    # is expected: `play saved` plays the prompt even if `saved` is set
    if isinstance(target, ast.Name):
        symbol = ctx.scope.lookup(target.id)
        if symbol is not None and symbol.kind == "prompt":
            return ctx.qualify(target.id), symbol.node
        return None
    member = resolve_module_member(ctx, target)
    if member is not None and member[1] == 0 and member[0].get("kind") == "prompt":
        name = member[0]["ref"]
        module_name, _, decl_name = name.rpartition(".")
        module = next(m for m in ctx.program.modules.values() if m.name == module_name)
        return name, ctx.scopes[module.key].lookup(decl_name).node
    return None


def lower_option_value(ctx: Context, form: str, value) -> dict:
    """An option's value by its form in ccdsl/options.py."""
    if form == "skills":
        return lower_skills(ctx, value)
    if form == "prompt":
        return lower_prompt_source(ctx, value)
    if form == "count":
        if isinstance(value, ast.RangeValue):
            return {"min": lower_expr(ctx, value.low), "max": lower_expr(ctx, value.high)}
        exact = lower_expr(ctx, value)
        return {"min": exact, "max": exact}
    if form == "step" and isinstance(value, ast.Name):
        return {"ref": ctx.qualify(value.id), "kind": "step"}
    if form == "messages" and isinstance(value, ast.EveryValue) and value.what is not None:
        items = value.what.items if isinstance(value.what, ast.ListLit) else (value.what,)
        return {"prompts": [lower_expr(ctx, item) for item in items],
                "every": lower_expr(ctx, value.interval)}
    if isinstance(value, ast.EveryValue):
        return {"every": lower_expr(ctx, value.interval)}
    return lower_expr(ctx, value)


@cache
def _default(text_: str) -> ast.Expr:
    diags: list = []
    expr = parse_expression(text_, SourceFile("<default>", text_), 1, 1, diags)
    if expr is None or diags:
        raise ValueError(f"ccdsl/options.py has a default that is not an expression: {text_}")
    return expr


# Options of these constructs override the declared queue's for one call,
# so an option not written stays null ("as the queue declares"), never the
# construct's default.
OVERRIDES = frozenset({"queue statement", "route", "routing queue"})


def lower_option_map(ctx: Context, construct: str, options) -> dict:
    """Every option of a construct, by name: the value written, else the
    default from ccdsl/options.py, else null. The runtime applies no
    defaults of its own."""
    specs = {spec.name: spec for spec in options_for(construct)}
    given = {o.name: o.value for o in options}
    out: dict[str, dict | None] = {}
    for name in sorted(set(specs) | set(given)):
        spec = specs.get(name)
        form = spec.form if spec else "value"
        if name in given:
            out[name] = lower_option_value(ctx, form, given[name])
        elif spec.default is not None and construct not in OVERRIDES:
            out[name] = lower_option_value(ctx, form, _default(spec.default))
        else:
            out[name] = None
    return out
