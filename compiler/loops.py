"""The statement table's hooks for the loops: `repeat N:`, `for each X in LIST:` and `break`.

Built, checked, printed and lowered here; their entries in compiler/statements.py
point at these functions. Must not import the modules that dispatch through the
table (parser, formatter, analysis, lower_stmt): they hand themselves in.
"""

from __future__ import annotations

from ccdsl import ast
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.infer import expect, value_of
from ccdsl.compiler.lower_expr import lower_expr
from ccdsl.types import NUMBER, describe, non_null


def _op(op: str, ctx, stmt, /, **fields) -> dict:
    return {"op": op, **fields, "loc": ctx.loc(stmt.span)}


# ---- repeat N: -----------------------------------------------------------------------


def build_repeat(b, t) -> ast.Repeat:
    times, body = t.children
    return ast.Repeat(b.expr(times), b.block(body), b.span(t))


def check_repeat(w, s: ast.Repeat, env) -> list:
    expect(s.times, (NUMBER,), env, w.diags, "`repeat` takes how many times (a number)",
           "write `repeat 3:`")
    return [s.body]


def layout_repeat(p, depth: int, s: ast.Repeat, blank: str, next_line: int) -> None:
    first = s.span.line
    p.line(depth, f"repeat {format_expr(s.times)}:", first, max(first, p.last_line(s.times)),
           blank)
    p.block(depth + 1, s.body, next_line)


def lower_repeat(ctx, s: ast.Repeat, body) -> dict:
    return _op("repeat", ctx, s, times=lower_expr(ctx, s.times), body=body(ctx, s.body))


# ---- for each NAME in LIST: ------------------------------------------------------------


def build_for_each(b, t) -> ast.ForEach:
    name, items, body = t.children
    return ast.ForEach(str(name), b.expr(items), b.block(body), b.span(t))


def check_for_each(w, s: ast.ForEach, env) -> list:
    w.assigned_name(s, env)
    t = value_of(s.items, env, w.diags)
    if non_null(t).kind not in ("list", "any"):
        w.emit("E300", f"`for each` goes through a list, not {describe(t)}", s.items.span,
               help="give it a list, such as `[\"a\", \"b\"]` or a list field of a CRM record")
    elif t.nullable and t.kind != "any":
        w.emit("E300", f"`for each` goes through a list, not {describe(t)}: it may be null",
               s.items.span, help="give an empty list when it is null: `for each x in "
                                  "items ?? []:`")
    return [s.body]


def layout_for_each(p, depth: int, s: ast.ForEach, blank: str, next_line: int) -> None:
    first = s.span.line
    p.line(depth, f"for each {s.name} in {format_expr(s.items)}:", first,
           max(first, p.last_line(s.items)), blank)
    p.block(depth + 1, s.body, next_line)


def lower_for_each(ctx, s: ast.ForEach, body) -> dict:
    return _op("for_each", ctx, s, name=s.name, items=lower_expr(ctx, s.items),
               body=body(ctx, s.body))


# ---- break -------------------------------------------------------------------------------


def lower_break(ctx, s: ast.Break, body) -> dict:
    return _op("break", ctx, s)
