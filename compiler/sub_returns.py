"""The type of the value a sub-flow gives back, from its `return` statements.

Must not report anything: `return` is checked where it stands
(compiler/statements.py); this only answers what a call to the sub-flow is.
"""

from __future__ import annotations

from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler.controlflow import body_ends
from ccdsl.compiler.infer_env import Env
from ccdsl.compiler.nullsafety import body_envs, env_after
from ccdsl.types import ANY, NULL, Type, optional, unify


def sub_return_type(ctx, key: str, sub: ast.Sub) -> Type:
    """What `sub(...)` is: the one type all its returned values fit, made
    optional when a path gives back null (`return`, `return null`, the end of
    its body, or a value such as `crm.find(...)` that may be null); ANY when
    two returns disagree (the caller is then not held to either) or one is of
    no known type (a parameter; the sub-flow's own call, when it recurses)."""

    def compute() -> Type:
        found: Type | None = None
        start = ctx.env(key, "sub", sub=sub, params=sub.params)
        for stmt, env in _returns(sub.body, start, ctx.infer):
            # typed in the env the return runs in: `return c` under `if c != null:`
            # is not null, `return c` with nothing proven may be
            t = NULL if stmt.value is None else ctx.infer(stmt.value, env, None)
            if t.kind == "any" or t.only_a_name:  # reported at the return
                return ANY
            found = t if found is None else unify(found, t)
            if found is None:
                return ANY
        if found is None:  # no value is ever given back
            return NULL
        if not body_ends(sub.body, ctx.routings(start.module)):
            return optional(found)  # falling off the end gives back null
        return found

    return ctx.cached(("sub", key, sub.name), compute)


def _returns(body, env: Env, infer) -> Iterator[tuple[ast.Return, Env]]:
    """Each `return` in `body`, nested ones included, with the env it runs in:
    what the checks' walk (compiler/analysis.py) knows there of null."""

    def value_type(expr, expr_env: Env) -> Type:
        return infer(expr, expr_env, None)

    for stmt in body:
        if isinstance(stmt, ast.Return):
            yield stmt, env
        on_error = getattr(stmt, "on_error", None)
        if on_error is not None:
            yield from _returns((on_error.action,), env, infer)
        nested, after = body_envs(stmt, env)  # as the checks' walk (compiler/analysis.py)
        for inner, inner_env in nested:
            yield from _returns(inner, inner_env, infer)
        env = env_after(stmt, env, after, value_type)
