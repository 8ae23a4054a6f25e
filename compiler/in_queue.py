"""The caller's time in queue at compile time: a queue's `messages`, its `press` keys, `callback`.

Checks (E209 keys, E210 `callback` outside a key block, E310 messages) and lowers them; the
statement walk is the analysis' own. Must not import the runtime, the parser or the analysis.
"""

from __future__ import annotations

from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler.infer import expect, infer
from ccdsl.compiler.namespan import head_span
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.types import DURATION

# the keys app_queue can exit on: one DTMF digit, an extension of the queue's `context`
QUEUE_KEYS = frozenset("0123456789*#")
# app_queue keeps at most this many periodic announcements (MAX_PERIODIC_ANNOUNCEMENTS)
MAX_MESSAGES = 10


def check_messages(w, option: ast.Option, env) -> None:
    """`messages [p1, p2] every D`: prompts without parameters (Asterisk
    plays them from queues.conf, so nothing of the call can be in them)."""
    value = option.value
    if not isinstance(value, ast.EveryValue) or value.what is None:
        w.emit("E300", f"the option `{option.name}` takes prompts and how often: "
                       "`messages [still_busy, offer_callback] every 60s`",
               getattr(value, "span", option.span))
        return
    expect(value.interval, (DURATION,), env, w.diags,
           f"the option `{option.name}` repeats every duration", None)
    items = value.what.items if isinstance(value.what, ast.ListLit) else (value.what,)
    if len(items) > MAX_MESSAGES:
        w.emit("E310", f"a queue plays at most {MAX_MESSAGES} messages in turn, not "
                       f"{len(items)}", value.what.span,
               help="Asterisk's app_queue keeps at most ten periodic announcements")
    for item in items:
        _message(w, item, env)


def _message(w, item, env) -> None:
    why = None
    if not isinstance(item, (ast.Name, ast.Field)):
        why = "is not the name of a prompt"
    else:
        t = infer(item, env, w.diags)
        if t.kind == "any":
            return  # an unknown name: already reported
        if t.kind != "prompt":
            why = "is not a prompt"
        else:
            prompt = w.ctx.scopes[t.owner].lookup(t.name).node
            if prompt.params:
                why = "takes arguments, and a queue's message is the same for every caller"
    if why is not None:
        w.emit("E310", f"a queue's message must be a declared prompt without parameters; "
                       f"this {why}", item.span,
               help="declare a prompt (`prompt still_busy:` with a line per language) and "
                    "name it in `messages [...]`")


def check_callback(w, s: ast.Callback, env) -> None:
    if env.where != "queue_key":
        w.emit("E210", "`callback` outside a queue's `press` block",
               head_span(s.span, w.ctx.sources),
               help="write it under a key of the queue's declaration (`press 2:`), where the "
                    "caller's place in that queue is known; before queueing, offer a call-back "
                    "with stdlib.callback.offer(...)")
    w.options(s.options, "callback", env, s.span)


def key_problems(module: ast.Module) -> Iterator[Diagnostic]:
    """E209: a `press` key that is not one DTMF key, or is given twice."""
    for item in module.items:
        if not isinstance(item, ast.QueueDecl):
            continue
        seen: dict[str, ast.QueueKey] = {}
        for press in item.keys:
            if press.key not in QUEUE_KEYS or len(press.key) != 1:
                yield diagnostic(
                    "E209", f"queue `{item.name}`: `press {press.key}` is not one key",
                    _first_line(press.span, len("press ") + len(press.key)),
                    help="a waiting caller leaves the queue with one key: 0-9, \"*\" or \"#\"")
            elif press.key in seen:
                yield diagnostic(
                    "E209", f"queue `{item.name}`: the key {press.key} is given twice",
                    _first_line(press.span, len("press ") + len(press.key)),
                    help="keep one of them",
                    notes=(f"it is first given at line {seen[press.key].span.line}",))
            else:
                seen[press.key] = press


def _first_line(span, width: int):
    return type(span)(span.file, span.line, span.column, span.line, span.column + width)


# ---- lowering ---------------------------------------------------------------------------


def lower_keys(ctx, decl: ast.QueueDecl, lower_body) -> dict:
    """{key: {"body": ops, "loc": ...}}: what runs when a waiting caller presses it."""
    return {press.key: {"body": lower_body(ctx, press.body), "loc": ctx.loc(press.span)}
            for press in decl.keys}
