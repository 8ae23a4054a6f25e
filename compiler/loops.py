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
from ccdsl.compiler.namespan import head_span
from ccdsl.limits import MAX_LOOP_ROUNDS
from ccdsl.types import NUMBER, describe, non_null


def _op(op: str, ctx, stmt, /, **fields) -> dict:
    return {"op": op, **fields, "loc": ctx.loc(stmt.span)}


# ---- repeat N: -----------------------------------------------------------------------


def build_repeat(b, t) -> ast.Repeat:
    times, body = t.children
    return ast.Repeat(b.expr(times), b.block(body), b.span(t))


def check_repeat(w, s: ast.Repeat, env) -> None:
    expect(s.times, (NUMBER,), env, w.diags, "`repeat` takes how many times (a number)",
           "write `repeat 3:`")
    _count(w, s.times)


def _count(w, times) -> None:
    """E508: a count written in the flow that is no whole number from 1 to MAX_LOOP_ROUNDS."""
    negative = (isinstance(times, ast.Unary) and times.op == "-"
                and isinstance(times.operand, ast.Number))
    if not isinstance(times, ast.Number) and not negative:
        return  # known at run time, where the same limits hold
    value = -times.operand.value if negative else times.value
    if isinstance(value, int) and 1 <= value <= MAX_LOOP_ROUNDS:
        return
    text = f"-{times.operand.text}" if negative else times.text
    w.emit("E508", f"`repeat {text}`: a loop runs a whole number of times from 1 to "
                   f"{MAX_LOOP_ROUNDS}", times.span,
           help="write how many times the body runs, such as `repeat 3:`",
           notes=(f"a loop of more than {MAX_LOOP_ROUNDS} rounds is stopped at run time: a "
                  "caller cannot sit through it",))


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


def check_for_each(w, s: ast.ForEach, env) -> None:
    w.assigned_name(s, env)
    t = value_of(s.items, env, w.diags)
    if non_null(t).kind not in ("list", "any"):
        w.emit("E300", f"`for each` goes through a list, not {describe(t)}", s.items.span,
               help="give it a list, such as `[\"a\", \"b\"]` or a list field of a CRM record")
    elif t.nullable and t.kind != "any":
        w.emit("E300", f"`for each` goes through a list, not {describe(t)}: it may be null",
               s.items.span, help="give an empty list when it is null: `for each x in "
                                  "items ?? []:`")


def layout_for_each(p, depth: int, s: ast.ForEach, blank: str, next_line: int) -> None:
    first = s.span.line
    p.line(depth, f"for each {s.name} in {format_expr(s.items)}:", first,
           max(first, p.last_line(s.items)), blank)
    p.block(depth + 1, s.body, next_line)


def lower_for_each(ctx, s: ast.ForEach, body) -> dict:
    return _op("for_each", ctx, s, name=s.name, items=lower_expr(ctx, s.items),
               body=body(ctx, s.body))


# ---- break -------------------------------------------------------------------------------


def check_break(w, s: ast.Break, env) -> None:
    """E311: the walker counts the loops around the statement it checks."""
    if not w.loops:
        w.emit("E311", "`break` outside a loop", head_span(s.span, w.ctx.sources),
               help="`break` leaves a `repeat` or `for each` early; to leave a step write "
                    "`goto STEP` or `hangup`")


def lower_break(ctx, s: ast.Break, body) -> dict:
    return _op("break", ctx, s)
