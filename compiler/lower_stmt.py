"""Lowering of statements and options to IR ops.

A body is a list of ops; every op is a JSON object with ``op`` (its
kind) and ``loc`` (file, line, column of the statement). Ops that can
fail carry ``on_error``: null, or the ops to run instead of failing the
call. Options are lowered to an ``options`` object; for collect, menu and
play the defaults are filled in, so the runtime never guesses.
"""

from __future__ import annotations

from functools import cache

from ccdsl import ast
from ccdsl.compiler.controlflow import MENU_PATHS
from ccdsl.compiler.lower_expr import (
    Context,
    lower_args,
    lower_expr,
    lower_name,
    resolve_module_member,
    text,
)
from ccdsl.options import options_for
from ccdsl.source import SourceFile

# ---- options ---------------------------------------------------------------------


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
    if isinstance(value, ast.EveryValue):
        return {"every": lower_expr(ctx, value.interval)}
    return lower_expr(ctx, value)


@cache
def _default(text_: str) -> ast.Expr:
    from ccdsl.compiler.parser import parse_expression

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


# ---- statements ---------------------------------------------------------------------


def lower_body(ctx: Context, body) -> list[dict]:
    return [lower_stmt(ctx, s) for s in body]


def _on_error(ctx: Context, on_error: ast.OnError | None) -> list[dict] | None:
    return None if on_error is None else [lower_stmt(ctx, on_error.action)]


def _op(op: str, ctx: Context, stmt, /, **fields) -> dict:
    return {"op": op, **fields, "loc": ctx.loc(stmt.span)}


def _target(ctx: Context, name: str) -> dict:
    node = lower_name(ctx, name)
    return node if "ref" in node else {"ref": ctx.qualify(name), "kind": "routing"}


def lower_stmt(ctx: Context, s) -> dict:
    match s:
        case ast.Answer():
            return _op("answer", ctx, s)
        case ast.Hangup():
            return _op("hangup", ctx, s)
        case ast.Goto(target=target):
            return _op("goto", ctx, s, step=ctx.qualify(target))
        case ast.Return(value=value):
            return _op("return", ctx, s,
                       value=lower_expr(ctx, value) if value is not None else None)
        case ast.Play():
            source = ({s.source: lower_expr(ctx, s.target)} if s.source
                      else lower_prompt_source(ctx, s.target))
            return _op("play", ctx, s, source=source,
                       options=lower_option_map(ctx, "play", s.options))
        case ast.Say():
            return _op("say", ctx, s, kind=s.kind, value=lower_expr(ctx, s.value),
                       options=lower_option_map(ctx, "say", s.options))
        case ast.Assign():
            return _op("assign", ctx, s, name=s.name, value=lower_expr(ctx, s.value),
                       on_error=_on_error(ctx, s.on_error))
        case ast.Collect():
            return _op("collect", ctx, s, name=s.name,
                       options=lower_option_map(ctx, "collect", s.options),
                       on_error=_on_error(ctx, s.on_error))
        case ast.ExprStmt():
            return _op("eval", ctx, s, expr=lower_expr(ctx, s.expr),
                       on_error=_on_error(ctx, s.on_error))
        case ast.Route():
            return _op("route", ctx, s, target=_target(ctx, s.target),
                       options=lower_option_map(ctx, "route", s.options),
                       on_error=_on_error(ctx, s.on_error))
        case ast.Enqueue():
            return _op("queue", ctx, s, queue=ctx.qualify(s.queue),
                       options=lower_option_map(ctx, "queue statement", s.options),
                       on_error=_on_error(ctx, s.on_error))
        case ast.Transfer():
            return _op("transfer", ctx, s, kind=s.kind, target=lower_expr(ctx, s.target),
                       mode=s.mode or "blind",
                       options=lower_option_map(ctx, "transfer", s.options),
                       on_error=_on_error(ctx, s.on_error))
        case ast.ThreeWay():
            return _op("three_way", ctx, s, kind=s.kind, target=lower_expr(ctx, s.target),
                       options=lower_option_map(ctx, "three_way", s.options),
                       on_error=_on_error(ctx, s.on_error))
        case ast.RecordCall():
            return _op("record_start", ctx, s, options=lower_option_map(ctx, "record", s.options))
        case ast.StopRecording():
            return _op("record_stop", ctx, s)
        case ast.Voicemail():
            return _op("voicemail", ctx, s, target=lower_expr(ctx, s.target),
                       options=lower_option_map(ctx, "voicemail", s.options),
                       on_error=_on_error(ctx, s.on_error))
        case ast.Wait():
            return _op("wait", ctx, s, duration=lower_expr(ctx, s.duration),
                       options=lower_option_map(ctx, "wait", s.options))
        case ast.ScreenPop():
            return _op("screen_pop", ctx, s, items=[lower_expr(ctx, i) for i in s.items])
        case ast.SetLanguage():
            return _op("set_language", ctx, s, value=lower_expr(ctx, s.value))
        case ast.Log():
            return _op("log", ctx, s, value=lower_expr(ctx, s.value))
        case ast.If():
            return _op("if", ctx, s,
                       branches=[{"test": lower_expr(ctx, test), "body": lower_body(ctx, body)}
                                 for test, body in s.branches],
                       orelse=lower_body(ctx, s.orelse) if s.orelse is not None else None)
        case ast.Match():
            return _match(ctx, s)
        case ast.Menu():
            return _menu(ctx, s)
    raise TypeError(f"not a statement: {type(s).__name__}")


def _match(ctx: Context, s: ast.Match) -> dict:
    arms, orelse = [], None
    for arm in s.arms:
        body = lower_body(ctx, arm.body)
        patterns = [p for p in arm.patterns if not isinstance(p, ast.ElsePattern)]
        if len(patterns) < len(arm.patterns):
            orelse = body
        if patterns:
            arms.append({"patterns": [lower_expr(ctx, p) for p in patterns], "body": body,
                         "loc": ctx.loc(arm.span)})
    return _op("match", ctx, s, subject=lower_expr(ctx, s.subject), arms=arms, orelse=orelse)


def menu_key(p) -> str | None:
    """The key a menu pattern stands for: "0".."9", "*" or "#"."""
    if isinstance(p, ast.Number):
        return p.text
    if isinstance(p, ast.Str):
        return p.value
    return None


def _menu(ctx: Context, s: ast.Menu) -> dict:
    keys: dict[str, dict] = {}
    events: dict[str, list[dict] | None] = {e: None for e in MENU_PATHS}
    for arm in s.arms:
        body = lower_body(ctx, arm.body)
        for p in arm.patterns:
            key = menu_key(p)
            if key is not None:
                keys[key] = {"body": body, "loc": ctx.loc(arm.span)}
            elif isinstance(p, ast.Name) and p.id in events:
                events[p.id] = body
    return _op("menu", ctx, s, options=lower_option_map(ctx, "menu", s.all_options),
               keys=dict(sorted(keys.items())), **{f"on_{e}": b for e, b in events.items()})
