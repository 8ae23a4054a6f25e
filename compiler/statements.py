"""The table of statements: for each, how it is built, printed, checked and lowered.

One entry per statement (STATEMENTS); the parser, the formatter, the shared
analysis, the lowering and the syntax-error messages dispatch through it,
so a new statement is a grammar rule, an AST class and one entry here.
Must not import the runtime, nor the modules that dispatch through it
(parser, formatter, analysis, lower_stmt): they hand themselves in as the
first argument of each hook instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ccdsl import ast
from ccdsl.compiler import loops
from ccdsl.compiler import queue_values as qv
from ccdsl.compiler.controlflow import MENU_PATHS
from ccdsl.compiler.format_expr import format_expr, format_option_value, format_options
from ccdsl.compiler.in_queue import check_callback
from ccdsl.compiler.infer import condition, expect, value_of
from ccdsl.compiler.infer_env import visible_names
from ccdsl.compiler.lower_expr import lower_expr
from ccdsl.compiler.lower_options import lower_option_map, lower_prompt_source
from ccdsl.compiler.namespan import head_span
from ccdsl.diagnostics import did_you_mean
from ccdsl.types import DURATION, TEXT, record


@dataclass(frozen=True)
class Statement:
    node: type  # its AST class (ccdsl.ast)
    rule: str  # its rule in grammar.lark
    keyword: str | None  # the word that names it; None for `x = ...` and a bare expression
    build: Callable  # (builder, lark tree) -> node; the builder is parser._Builder
    check: Callable  # (walker, node, env); the walker walks the blocks (symbols.BODIES)
    lower: Callable  # (lowering context, node, lower_body) -> IR op
    text: Callable | None = None  # node -> its one line; None for a block statement
    layout: Callable | None = None  # (printer, depth, node, blank, next_line), for a block
    starts_line: bool = True  # the keyword is the first word of the line
    on_error: bool = False  # may end with `on error -> STATEMENT`
    suggest: bool = True  # offered for a misspelt bare word (`hangpu`)


# ---- helpers the entries share --------------------------------------------------------


def _on_error_text(handler: ast.OnError | None) -> str:
    return "" if handler is None else f" on error -> {format_simple(handler.action)}"


def _lower_on_error(ctx, handler: ast.OnError | None, body) -> list[dict] | None:
    return None if handler is None else body(ctx, (handler.action,))


def _op(op: str, ctx, stmt, /, **fields) -> dict:
    return {"op": op, **fields, "loc": ctx.loc(stmt.span)}


def _nothing(w, s, env) -> None:
    return None


# ---- one-line statements ---------------------------------------------------------------


def _check_return(w, s: ast.Return, env) -> None:
    if env.where != "sub":
        w.emit("E111", "`return` outside a sub-flow", head_span(s.span, w.ctx.sources),
               help="a step ends with `goto STEP`, `hangup` or `transfer`; only a "
                    "`sub` returns to where it was called")
    if s.value is not None:
        value_of(s.value, env, w.diags)


def _build_play(b, t):
    target, *options = t.children
    if target.data == "play_source":
        kind, value = target.children
        return ast.Play(str(kind.children[0]), b.expr(value), b.options(options), b.span(t))
    return ast.Play(None, b.expr(target.children[0]), b.options(options), b.span(t))


def _text_play(s: ast.Play) -> str:
    source = f"{s.source} " if s.source else ""
    return f"play {source}{format_expr(s.target)}{format_options(s.options)}"


def _lower_play(ctx, s: ast.Play, body) -> dict:
    source = ({s.source: lower_expr(ctx, s.target)} if s.source
              else lower_prompt_source(ctx, s.target))
    return _op("play", ctx, s, source=source, options=lower_option_map(ctx, "play", s.options))


def _check_assign(w, s: ast.Assign, env) -> None:
    w.assigned_name(s, env)
    w.value_type = value_of(s.value, env, w.diags)  # null safety asks it again


def _check_collect(w, s: ast.Collect, env) -> None:
    w.assigned_name(s, env)
    w.options(s.options, "collect", env, s.span)


def _check_expr_stmt(w, s: ast.ExprStmt, env) -> None:
    if isinstance(s.expr, ast.Name) and s.expr.id not in set(visible_names(env)):
        close = did_you_mean(s.expr.id, STATEMENT_WORDS)
        w.emit("E100", f"unknown name `{s.expr.id}`", s.expr.span,
               help=close and close.replace("`?", "` (the statement)?"))
    else:
        value_of(s.expr, env, w.diags)


def _build_transfer(b, t):
    kind, target, mode, *options, on_error = t.children
    return ast.Transfer(str(kind), b.expr(target),
                        str(mode.children[0]) if mode is not None else None,
                        b.options(options), b.on_error(on_error), b.span(t))


def _check_route(w, s: ast.Route, env) -> None:
    if qv.names_a_value(s.target, env) or not s.target:
        qv.check_value(w, qv.target_expr(w, s.target, s.value, s.span, "route"), env, "route")
        w.options(s.options, "route", env, s.span)
    else:
        w.route(s, env)


def _check_enqueue(w, s: ast.Enqueue, env) -> None:
    if qv.names_a_value(s.queue, env) or not s.queue:
        qv.check_value(w, qv.target_expr(w, s.queue, s.value, s.span, "queue"), env, "queue")
    else:
        w.named_queue(s.queue, s.span, env, "queue")
    w.options(s.options, "queue statement", env, s.span)


def _check_transfer(w, s: ast.Transfer, env) -> None:
    w.transfer(s.kind, s.target, s.span, env, "transfer")
    w.options(s.options, "transfer queue" if s.kind == "queue" else "transfer", env, s.span)


def _text_transfer(s: ast.Transfer) -> str:
    mode = f" {s.mode}" if s.mode else ""
    return (f"transfer {s.kind} {format_expr(s.target)}{mode}"
            f"{format_options(s.options)}{_on_error_text(s.on_error)}")


def _check_three_way(w, s: ast.ThreeWay, env) -> None:
    w.transfer(s.kind, s.target, s.span, env, "three_way")
    w.options(s.options, "three_way", env, s.span)


def _check_voicemail(w, s: ast.Voicemail, env) -> None:
    expect(s.target, (TEXT, record("agent")), env, w.diags,
           "`voicemail for` takes a mailbox or agent id (text) or an agent",
           lambda t: "for the account owner write `voicemail for crm.owner(customer)`"
           if t.kind == "record" and t.name == "customer" else None)
    w.options(s.options, "voicemail", env, s.span)


def _check_wait(w, s: ast.Wait, env) -> None:
    expect(s.duration, (DURATION,), env, w.diags, "`wait` takes a duration", "write `wait 5s`")
    w.options(s.options, "wait", env, s.span)


def _check_values(w, s: ast.ScreenPop, env) -> None:
    for item in s.items:
        value_of(item, env, w.diags)


def _check_value(w, s: ast.Log, env) -> None:
    value_of(s.value, env, w.diags)


def _check_language(w, s: ast.SetLanguage, env) -> None:
    expect(s.value, (TEXT,), env, w.diags, "`language` takes a language tag (text)",
           "write `language \"en-US\"`")


# ---- block statements ------------------------------------------------------------------


def _build_if(b, t):
    cond, body, *rest = t.children
    branches = [(b.expr(cond), b.block(body))]
    orelse = None
    for clause in rest:
        if clause is None:
            continue
        if clause.data == "elif_clause":
            branches.append((b.expr(clause.children[0]), b.block(clause.children[1])))
        else:
            orelse = b.block(clause.children[0])
    return ast.If(tuple(branches), orelse, b.span(t))


def _check_if(w, s: ast.If, env) -> None:
    for i, (test, _) in enumerate(s.branches):
        condition(test, env, w.diags, "`if`" if i == 0 else "`elif`")


def _layout_if(p, depth: int, s: ast.If, blank: str, next_line: int) -> None:
    headers = []
    for i, (test, _body) in enumerate(s.branches):
        word = "if" if i == 0 else "elif"
        line = s.span.line if i == 0 else test.span.line
        headers.append((f"{word} {format_expr(test)}:", line, max(line, p.last_line(test))))
    if s.orelse is not None:
        previous_end = p.last_line(s.branches[-1])
        line = p.else_line(previous_end, s.orelse[0].span.line if s.orelse else p.END)
        headers.append(("else:", line, line))
    bodies = [body for _test, body in s.branches]
    if s.orelse is not None:
        bodies.append(s.orelse)
    for i, ((text, first, last), body) in enumerate(zip(headers, bodies, strict=True)):
        after = headers[i + 1][1] if i + 1 < len(headers) else next_line
        p.line(depth, text, first, last, blank if i == 0 else "none")
        p.block(depth + 1, body, after)


def _lower_if(ctx, s: ast.If, body) -> dict:
    return _op("if", ctx, s,
               branches=[{"test": lower_expr(ctx, test), "body": body(ctx, b)}
                         for test, b in s.branches],
               orelse=body(ctx, s.orelse) if s.orelse is not None else None)


def _check_match(w, s: ast.Match, env) -> None:
    subject = value_of(s.subject, env, w.diags)
    for arm in s.arms:
        w.match_patterns(arm, subject, s.subject, env)


def _layout_match(p, depth: int, s: ast.Match, blank: str, next_line: int) -> None:
    first = s.span.line
    p.line(depth, f"match {format_expr(s.subject)}:", first,
           max(first, p.last_line(s.subject)), blank)
    _layout_items(p, depth + 1, s.arms, next_line)


def _lower_match(ctx, s: ast.Match, body) -> dict:
    arms, orelse = [], None
    for arm in s.arms:
        lowered = body(ctx, arm.body)
        patterns = [x for x in arm.patterns if not isinstance(x, ast.ElsePattern)]
        if len(patterns) < len(arm.patterns):
            orelse = lowered
        if patterns:
            arms.append({"patterns": [lower_expr(ctx, x) for x in patterns], "body": lowered,
                         "loc": ctx.loc(arm.span)})
    return _op("match", ctx, s, subject=lower_expr(ctx, s.subject), arms=arms, orelse=orelse)


def _build_menu(b, t):
    header, *body = t.children
    items = tuple(b.option(c) if c.data == "option" else b.arm(c) for c in body)
    return ast.Menu(b.options(header.children), items, b.span(t))


def _check_menu(w, s: ast.Menu, env) -> None:
    w.options(s.all_options, "menu", env, s.span)


def _layout_menu(p, depth: int, s: ast.Menu, blank: str, next_line: int) -> None:
    first = s.span.line
    p.line(depth, "menu" + format_options(s.options) + ":", first,
           max(first, p.last_line(s.options)), blank)
    _layout_items(p, depth + 1, s.items, next_line)


def menu_key(p) -> str | None:
    """The key a menu pattern stands for: "0".."9", "*" or "#"."""
    if isinstance(p, ast.Number):
        return p.text
    if isinstance(p, ast.Str):
        return p.value
    return None


def _lower_menu(ctx, s: ast.Menu, body) -> dict:
    keys: dict[str, dict] = {}
    events: dict[str, list[dict] | None] = {e: None for e in MENU_PATHS}
    for arm in s.arms:
        lowered = body(ctx, arm.body)
        for p in arm.patterns:
            key = menu_key(p)
            if key is not None:
                keys[key] = {"body": lowered, "loc": ctx.loc(arm.span)}
            elif isinstance(p, ast.Name) and p.id in events:
                events[p.id] = lowered
    return _op("menu", ctx, s, options=lower_option_map(ctx, "menu", s.all_options),
               keys=dict(sorted(keys.items())), **{f"on_{e}": b for e, b in events.items()})


def _layout_items(p, depth: int, items, next_line: int) -> None:
    """The lines of a menu or match: options and arms."""
    for i, item in enumerate(items):
        after = items[i + 1].span.line if i + 1 < len(items) else next_line
        blank = "none" if i == 0 else "keep"
        first = item.span.line
        if isinstance(item, ast.Option):
            p.line(depth, f"{item.name} {format_option_value(item.value)}", first,
                   max(first, p.last_line(item)), blank)
        else:
            _layout_arm(p, depth, item, blank, after)
    if items:
        p.close_block(depth, items[0].span.column, next_line)


def _layout_arm(p, depth: int, arm: ast.Arm, blank: str, next_line: int) -> None:
    keys = ", ".join("else" if isinstance(x, ast.ElsePattern) else format_expr(x)
                     for x in arm.patterns)
    first = arm.span.line
    end = max(first, p.last_line(arm))
    if (len(arm.body) == 1 and isinstance(arm.body[0], ONE_LINE)
            and not p.has_comments(first + 1, end)):
        p.line(depth, f"{keys} -> {format_simple(arm.body[0])}", first, end, blank)
        return
    p.line(depth, f"{keys}:", first, max(first, p.last_line(arm.patterns)), blank)
    p.block(depth + 1, arm.body, next_line)


# ---- the table ---------------------------------------------------------------------------


def _words(node: type, rule: str, keyword: str, op: str, text: str) -> Statement:
    """A statement of fixed words and nothing else (`answer`, `pause recording`): an op
    with no fields."""
    return Statement(node, rule, keyword, build=lambda b, t: node(b.span(t)), check=_nothing,
                     lower=lambda ctx, s, body: _op(op, ctx, s), text=lambda s: text)


S = Statement
STATEMENTS: tuple[Statement, ...] = (
    _words(ast.Answer, "answer_stmt", "answer", "answer", "answer"),
    _words(ast.Hangup, "hangup_stmt", "hangup", "hangup", "hangup"),
    S(ast.Goto, "goto_stmt", "goto",
      build=lambda b, t: ast.Goto(str(t.children[0]), b.span(t)),
      check=lambda w, s, env: w.goto(s, env),
      lower=lambda ctx, s, body: _op("goto", ctx, s, step=ctx.qualify(s.target)),
      text=lambda s: f"goto {s.target}"),
    S(ast.Return, "return_stmt", "return",
      build=lambda b, t: ast.Return(b.expr(t.children[0]) if t.children[0] is not None
                                    else None, b.span(t)),
      check=_check_return,
      lower=lambda ctx, s, body: _op("return", ctx, s, value=lower_expr(ctx, s.value)
                                     if s.value is not None else None),
      text=lambda s: "return" if s.value is None else f"return {format_expr(s.value)}"),
    S(ast.Play, "play_stmt", "play",
      build=_build_play,
      check=lambda w, s, env: w.play(s, env),
      lower=_lower_play,
      text=_text_play),
    S(ast.Say, "say_stmt", "say",
      build=lambda b, t: ast.Say(str(t.children[0]), b.expr(t.children[1]),
                                 b.options(t.children[2:]), b.span(t)),
      check=lambda w, s, env: w.say(s, env),
      lower=lambda ctx, s, body: _op("say", ctx, s, kind=s.kind, value=lower_expr(ctx, s.value),
                                     options=lower_option_map(ctx, "say", s.options)),
      text=lambda s: f"say {s.kind} {format_expr(s.value)}{format_options(s.options)}"),
    S(ast.Assign, "assign_stmt", None,
      build=lambda b, t: ast.Assign(str(t.children[0]), b.expr(t.children[1]),
                                    b.on_error(t.children[2]), b.span(t)),
      check=_check_assign,
      lower=lambda ctx, s, body: _op("assign", ctx, s, name=s.name,
                                     value=lower_expr(ctx, s.value),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: f"{s.name} = {format_expr(s.value)}{_on_error_text(s.on_error)}",
      on_error=True),
    S(ast.Collect, "collect_stmt", "collect",
      build=lambda b, t: ast.Collect(str(t.children[0]), b.options(t.children[1:-1]),
                                     b.on_error(t.children[-1]), b.span(t)),
      check=_check_collect,
      lower=lambda ctx, s, body: _op("collect", ctx, s, name=s.name,
                                     options=lower_option_map(ctx, "collect", s.options),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: (f"{s.name} = collect{format_options(s.options)}"
                      f"{_on_error_text(s.on_error)}"),
      starts_line=False, on_error=True),
    S(ast.ExprStmt, "expr_stmt", None,
      build=lambda b, t: ast.ExprStmt(b.expr(t.children[0]), b.on_error(t.children[1]),
                                      b.span(t)),
      check=_check_expr_stmt,
      lower=lambda ctx, s, body: _op("eval", ctx, s, expr=lower_expr(ctx, s.expr),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: f"{format_expr(s.expr)}{_on_error_text(s.on_error)}",
      on_error=True),
    S(ast.Route, "route_stmt", "route",
      build=lambda b, t: qv.build(ast.Route, b, t),
      check=_check_route,
      lower=lambda ctx, s, body: _op("route", ctx, s,
                                     target=qv.lower_route_target(ctx, s.target, s.value),
                                     options=lower_option_map(ctx, "route", s.options),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: (f"route {qv.target_text(s.target, s.value)}{format_options(s.options)}"
                      f"{_on_error_text(s.on_error)}"),
      on_error=True),
    S(ast.Enqueue, "queue_stmt", "queue",
      build=lambda b, t: qv.build(ast.Enqueue, b, t),
      check=_check_enqueue,
      lower=lambda ctx, s, body: _op("queue", ctx, s,
                                     **qv.lower_queue_fields(ctx, s.queue, s.value),
                                     options=lower_option_map(ctx, "queue statement", s.options),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: (f"queue {qv.target_text(s.queue, s.value)}{format_options(s.options)}"
                      f"{_on_error_text(s.on_error)}"),
      on_error=True),
    S(ast.Transfer, "transfer_stmt", "transfer",
      build=_build_transfer,
      check=_check_transfer,
      lower=lambda ctx, s, body: _op("transfer", ctx, s, kind=s.kind,
                                     target=lower_expr(ctx, s.target), mode=s.mode or "blind",
                                     options=lower_option_map(ctx, "transfer", s.options),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=_text_transfer,
      on_error=True),
    S(ast.ThreeWay, "three_way_stmt", "three_way",
      build=lambda b, t: ast.ThreeWay(str(t.children[0]), b.expr(t.children[1]),
                                      b.options(t.children[2:-1]), b.on_error(t.children[-1]),
                                      b.span(t)),
      check=_check_three_way,
      lower=lambda ctx, s, body: _op("three_way", ctx, s, kind=s.kind,
                                     target=lower_expr(ctx, s.target),
                                     options=lower_option_map(ctx, "three_way", s.options),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: (f"three_way {s.kind} {format_expr(s.target)}"
                      f"{format_options(s.options)}{_on_error_text(s.on_error)}"),
      on_error=True),
    S(ast.RecordCall, "record_stmt", "record",
      build=lambda b, t: ast.RecordCall(b.options(t.children), b.span(t)),
      check=lambda w, s, env: w.options(s.options, "record", env, s.span),
      lower=lambda ctx, s, body: _op("record_start", ctx, s,
                                     options=lower_option_map(ctx, "record", s.options)),
      text=lambda s: f"record call{format_options(s.options)}"),
    _words(ast.StopRecording, "stop_recording_stmt", "stop", "record_stop", "stop recording"),
    _words(ast.PauseRecording, "pause_recording_stmt", "pause", "record_pause", "pause recording"),
    _words(ast.ResumeRecording, "resume_recording_stmt", "resume", "record_resume",
           "resume recording"),
    S(ast.Voicemail, "voicemail_stmt", "voicemail",
      build=lambda b, t: ast.Voicemail(b.expr(t.children[0]), b.options(t.children[1:-1]),
                                       b.on_error(t.children[-1]), b.span(t)),
      check=_check_voicemail,
      lower=lambda ctx, s, body: _op("voicemail", ctx, s, target=lower_expr(ctx, s.target),
                                     options=lower_option_map(ctx, "voicemail", s.options),
                                     on_error=_lower_on_error(ctx, s.on_error, body)),
      text=lambda s: (f"voicemail for {format_expr(s.target)}"
                      f"{format_options(s.options)}{_on_error_text(s.on_error)}"),
      on_error=True),
    S(ast.Wait, "wait_stmt", "wait",
      build=lambda b, t: ast.Wait(b.expr(t.children[0]), b.options(t.children[1:]), b.span(t)),
      check=_check_wait,
      lower=lambda ctx, s, body: _op("wait", ctx, s, duration=lower_expr(ctx, s.duration),
                                     options=lower_option_map(ctx, "wait", s.options)),
      text=lambda s: f"wait {format_expr(s.duration)}{format_options(s.options)}"),
    S(ast.ScreenPop, "screen_pop_stmt", "screen_pop",
      build=lambda b, t: ast.ScreenPop(tuple(b.expr(c) for c in t.children), b.span(t)),
      check=_check_values,
      lower=lambda ctx, s, body: _op("screen_pop", ctx, s,
                                     items=[lower_expr(ctx, i) for i in s.items]),
      text=lambda s: "screen_pop " + ", ".join(format_expr(i) for i in s.items)),
    S(ast.SetLanguage, "language_stmt", "language",
      build=lambda b, t: ast.SetLanguage(b.expr(t.children[0]), b.span(t)),
      check=_check_language,
      lower=lambda ctx, s, body: _op("set_language", ctx, s, value=lower_expr(ctx, s.value)),
      text=lambda s: f"language {format_expr(s.value)}"),
    S(ast.Callback, "callback_stmt", "callback",
      build=lambda b, t: ast.Callback(b.options(t.children), b.span(t)),
      check=check_callback,
      lower=lambda ctx, s, body: _op("callback", ctx, s,
                                     options=lower_option_map(ctx, "callback", s.options)),
      text=lambda s: f"callback{format_options(s.options)}"),
    S(ast.Log, "log_stmt", "log",
      build=lambda b, t: ast.Log(b.expr(t.children[0]), b.span(t)),
      check=_check_value,
      lower=lambda ctx, s, body: _op("log", ctx, s, value=lower_expr(ctx, s.value)),
      text=lambda s: f"log {format_expr(s.value)}"),
    S(ast.If, "if_stmt", "if",
      build=_build_if, check=_check_if, lower=_lower_if, layout=_layout_if,
      # never offered for a misspelt bare word: the list before this table lacked it
      suggest=False),
    S(ast.Match, "match_stmt", "match",
      build=lambda b, t: ast.Match(b.expr(t.children[0]),
                                   tuple(b.arm(a) for a in t.children[1:]), b.span(t)),
      check=_check_match, lower=_lower_match, layout=_layout_match),
    S(ast.Menu, "menu_stmt", "menu",
      build=_build_menu, check=_check_menu, lower=_lower_menu, layout=_layout_menu),
    S(ast.Repeat, "repeat_stmt", "repeat",
      build=loops.build_repeat, check=loops.check_repeat, lower=loops.lower_repeat,
      layout=loops.layout_repeat),
    S(ast.ForEach, "for_each_stmt", "for",
      build=loops.build_for_each, check=loops.check_for_each, lower=loops.lower_for_each,
      layout=loops.layout_for_each),
    S(ast.Break, "break_stmt", "break",
      build=lambda b, t: ast.Break(b.span(t)),
      check=loops.check_break,
      lower=loops.lower_break,
      text=lambda s: "break"),
)
del S

BY_NODE: dict[type, Statement] = {s.node: s for s in STATEMENTS}
BY_RULE: dict[str, Statement] = {s.rule: s for s in STATEMENTS}
# statements printed on one line (an arm may hold one after `->`)
ONE_LINE: tuple[type, ...] = tuple(s.node for s in STATEMENTS if s.text is not None)
# statements that may end with `on error -> ...`
CAN_HAVE_ON_ERROR: tuple[type, ...] = tuple(s.node for s in STATEMENTS if s.on_error)
STATEMENT_WORDS: tuple[str, ...] = tuple(s.keyword for s in STATEMENTS
                                         if s.keyword and s.suggest)
# the grammar's terminals that can open a statement line (lark names a
# keyword's terminal after its text in capitals)
STATEMENT_START: frozenset[str] = frozenset(s.keyword.upper() for s in STATEMENTS
                                            if s.keyword and s.starts_line)


def format_simple(s) -> str:
    """The one-line text of a simple statement (everything but if, match, menu)."""
    entry = BY_NODE.get(type(s))
    if entry is None or entry.text is None:
        raise TypeError(f"not a simple statement: {type(s).__name__}")
    return entry.text(s)
