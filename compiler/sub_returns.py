"""The type of the value a sub-flow gives back, from its `return` statements.

Must not report anything: `return` is checked where it stands
(compiler/statements.py); this only answers what a call to the sub-flow is.
"""

from __future__ import annotations

from ccdsl import ast
from ccdsl.compiler.controlflow import body_ends
from ccdsl.compiler.nullsafety import path_of
from ccdsl.types import ANY, NULL, Type, non_null, optional, unify


def sub_return_type(ctx, key: str, sub: ast.Sub) -> Type:
    """What `sub(...)` is: the one type all its returned values fit, made
    optional when a path gives back null (`return`, `return null`, the end of
    its body, or a value such as `crm.find(...)` that may be null); ANY when
    two returns disagree (the caller is then not held to either) or one is of
    no known type (a parameter; the sub-flow's own call, when it recurses)."""

    def compute() -> Type:
        env = ctx.env(key, "sub", sub=sub, params=sub.params)
        found: Type | None = None
        for stmt in env.scope.statements(sub.body):
            if not isinstance(stmt, ast.Return):
                continue
            t = NULL if stmt.value is None else ctx.infer(stmt.value, env, None)
            if t.kind == "any" or t.only_a_name:  # reported at the return
                return ANY
            if path_of(stmt.value) is not None:
                # `return c.name` under `if c != null:`: the path may be narrowed there,
                # which only the checks' walk of the body knows; a null it may still be
                # is not held against the caller
                t = non_null(t)
            found = t if found is None else unify(found, t)
            if found is None:
                return ANY
        if found is None:  # no value is ever given back
            return NULL
        if not body_ends(sub.body, ctx.routings(env.module)):
            return optional(found)  # falling off the end gives back null
        return found

    return ctx.cached(("sub", key, sub.name), compute)
