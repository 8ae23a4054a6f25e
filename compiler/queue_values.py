"""Queues and routing rules as values in the `queue` and `route` statements: build, check, lower.

Must not import the runtime or the modules that dispatch through the statement table
(parser, analysis, lower_stmt): they hand themselves in. `queue NAME` of a declared
queue lowers as before (`"queue": NAME`); any other expression lowers to `"value"`.
"""

from __future__ import annotations

from ccdsl import ast
from ccdsl.articles import article
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.infer import value_of
from ccdsl.compiler.infer_env import Env, text_of
from ccdsl.compiler.lower_expr import is_local, lower_expr, lower_name
from ccdsl.compiler.namespan import word_span
from ccdsl.types import describe, non_null

# what each statement takes, as the type kinds of its values
TAKES = {"queue": ("queue",), "route": ("routing", "queue")}


def build(node: type, b, t):
    """An ast.Route or ast.Enqueue: the name written (or "" for another
    expression), the options, the error path and the expression."""
    expr = b.expr(t.children[0])
    name = expr.id if isinstance(expr, ast.Name) else ""
    if isinstance(expr, ast.Bool | ast.Null):  # a declaration may be named `true` or `null`
        name = "null" if isinstance(expr, ast.Null) else str(expr.value).lower()
    # a bare name is kept as the name alone, as before values: one tree per text
    return node(name, b.options(t.children[1:-1]), b.on_error(t.children[-1]), b.span(t),
                value=None if name else expr)


def target_expr(w, name: str, value: ast.Expr | None, span, keyword: str) -> ast.Expr:
    """The expression a statement names its queue or rule by: `value`, or
    the bare name written (spanning that word)."""
    if value is not None:
        return value
    return ast.Name(name, word_span(span, name, w.ctx.sources, skip=len(keyword)))


def target_text(name: str, value: ast.Expr | None) -> str:
    return format_expr(value) if value is not None else name


def names_a_value(name: str, env: Env) -> bool:
    """Whether a bare name is a variable or a constant (a value to check),
    rather than a declaration (checked by name, as before values)."""
    if not name or env.is_local(name):
        return bool(name)
    sym = env.scope.lookup(name)
    if sym is not None:
        return sym.kind == "constant"
    return env.sees_call_variables and name in env.scope.variables


def check_value(w, expr: ast.Expr, env: Env, keyword: str) -> None:
    """A queue (or, after `route`, a routing rule) given as a value: its
    type must be one of those (E300), and not possibly null (E308)."""
    t = value_of(expr, env, w.diags)
    kinds = TAKES[keyword]
    base = non_null(t)
    text = text_of(expr, env)
    wanted = " or ".join(article(k if k == "queue" else "routing rule") for k in kinds)
    if base.kind == "any":
        return
    if base.kind not in kinds:
        w.emit("E300", f"`{keyword}` takes {wanted}, not {describe(t)}", expr.span,
               help=_not_a_queue_help(keyword, base.kind, text, _fallback(env, "queue")))
        return
    if t.nullable:
        fallback = _fallback(env, base.kind)
        w.emit("E308", f"`{text}` may be null, and `{keyword}` needs "
               f"{wanted}", expr.span,
               help=f"give a default with `??`: `{keyword} {text} ?? {fallback}`")


def _not_a_queue_help(keyword: str, kind: str, text: str, fallback: str) -> str:
    if kind == "text":
        return (f"turn a queue's name into the queue with `queues.named({text})`, which is "
                f"null when no queue has that name: `{keyword} queues.named({text}) ?? "
                f"{fallback}`")
    return "name a declared queue, or a variable or map entry that holds one"


def _fallback(env: Env, kind: str) -> str:
    """A declared queue (or routing rule) to suggest as the default."""
    wanted = "routing rule" if kind == "routing" else "queue"
    for name, sym in env.scope.symbols.items():
        if sym.kind == wanted:
            return name
    return "NAME"


# ---- lowering ------------------------------------------------------------------------


def lower_queue_fields(ctx, name: str, value: ast.Expr | None) -> dict:
    """`{"queue": NAME}` for a declared queue named as before; else
    `{"value": EXPR}`, the queue computed at run time."""
    if value is None or isinstance(value, ast.Name):
        node = lower_name(ctx, name or value.id)
        if "ref" in node:
            return {"queue": node["ref"]}
        return {"value": node}
    return {"value": lower_expr(ctx, value)}


def lower_route_target(ctx, name: str, value: ast.Expr | None) -> dict:
    """A declared routing rule or queue as its reference (as before
    values); a variable, constant or other expression as that expression."""
    if value is None or isinstance(value, ast.Name):
        name = name or value.id
        node = lower_name(ctx, name)
        if "ref" in node:
            return node
        if "var" in node and not is_local(ctx, name):
            return {"ref": ctx.qualify(name), "kind": "routing"}  # the checks reject it
        return node
    return lower_expr(ctx, value)
