"""Lowering of statements to IR ops, through the statement table; must not import the runtime.

A body is a list of ops; every op is a JSON object with ``op`` (its kind)
and ``loc`` (file, line, column of the statement). Ops that can fail carry
``on_error``: null, or the ops to run instead of failing the call. Each
statement's op is written by its entry in compiler/statements.py.
"""

from __future__ import annotations

from ccdsl.compiler.lower_expr import Context
from ccdsl.compiler.statements import BY_NODE


def lower_body(ctx: Context, body) -> list[dict]:
    return [lower_stmt(ctx, s) for s in body]


def lower_stmt(ctx: Context, s) -> dict:
    entry = BY_NODE.get(type(s))
    if entry is None:
        raise TypeError(f"not a statement: {type(s).__name__}")
    return entry.lower(ctx, s, lower_body)
