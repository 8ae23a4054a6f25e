"""What each handler may do (E208): statements that cannot work in `on hangup` or
`on answered by agent`; must not import the runtime.

`on hangup` runs after the caller has gone: a statement that talks to the
caller's line (the runtime's `rt.line()`) would end the handler there, so the
statements after it would never run. `on answered by agent` runs while the
agent's line is being connected: it may not end or divert the call (the
runtime ignores a statement that tries, runtime/core/ops/agents.py), and on
Asterisk the line belongs to Queue() or Dial() then, so a statement that uses
it fails (docs/asterisk.md). A sub-flow the handler calls runs there too: its
statements are followed through every call (compiler/sub_calls.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ccdsl import ast
from ccdsl.compiler.namespan import head_span
from ccdsl.compiler.program import Program
from ccdsl.compiler.sub_calls import calls_in, reached_through
from ccdsl.compiler.symbols import Scope, walk_statements
from ccdsl.diagnostics import Diagnostic, diagnostic

# the statements that need the caller on the line, by AST class, as a flow writes them
CALLER_LINE = {
    ast.Answer: "answer", ast.Play: "play", ast.Say: "say", ast.Collect: "collect",
    ast.Menu: "menu", ast.Wait: "wait", ast.RecordCall: "record call",
    ast.StopRecording: "stop recording", ast.Voicemail: "voicemail", ast.Enqueue: "queue",
    ast.Route: "route", ast.Transfer: "transfer", ast.ThreeWay: "three_way",
}
# the statements that end or divert the call
DIVERTING = {
    ast.Goto: "goto", ast.Hangup: "hangup", ast.Transfer: "transfer", ast.Route: "route",
    ast.Enqueue: "queue", ast.Voicemail: "voicemail",
}

# handler -> (the refused statements, why, what it may do instead)
RULES = {
    "hangup": ({**CALLER_LINE, ast.Goto: "goto"},
               "`on hangup` runs after the caller has hung up, so `{kw}` cannot reach them "
               "(the handler would stop there)",
               "`on hangup` may log, update the CRM and set variables; play or route the "
               "caller before the call ends"),
    "answered by agent": ({**CALLER_LINE, **DIVERTING},
                          "`on answered by agent` runs while the agent is being connected: "
                          "it cannot use the caller's line or end or divert the call, so "
                          "`{kw}` there would fail or be ignored",
                          "`on answered by agent` may pop the screen, log, update the CRM and "
                          "set variables; the call goes on after the `queue` or `route` that "
                          "reached the agent"),
}

# the same, when a sub-flow the handler calls runs the statement
THROUGH_SUB = {
    "hangup": "`on hangup` runs after the caller has hung up, and the sub-flow `{sub}` it "
              "calls runs `{kw}`, which cannot reach them (the handler would stop there)",
    "answered by agent": "`on answered by agent` runs while the agent is being connected, "
                         "and the sub-flow `{sub}` it calls runs `{kw}`, which would fail or "
                         "be ignored there",
}


def check(program: Program, scopes: dict[str, Scope], analysis) -> Iterable[Diagnostic]:
    sources = program.sources()
    for loaded in program.modules.values():
        for item in loaded.module.items:
            if isinstance(item, ast.Handler) and item.event_name in RULES:
                yield from _handler(item, sources)
                yield from _through_subs(program, loaded.key, item)


def _message(handler: ast.Handler, keyword: str) -> str:
    if handler.event_name == "hangup" and keyword == "goto":
        return "`on hangup` runs after the call has ended, so it cannot `goto` a step " \
               "(the handler would stop there)"
    return RULES[handler.event_name][1].format(kw=keyword)


def _handler(handler: ast.Handler, sources) -> Iterator[Diagnostic]:
    refused, _, help = RULES[handler.event_name]
    for stmt in walk_statements(handler.body):
        keyword = refused.get(type(stmt))
        if keyword is None:
            continue
        yield diagnostic("E208", _message(handler, keyword),
                         head_span(stmt.span, sources), help=help)


def _through_subs(program: Program, key: str, handler: ast.Handler) -> Iterator[Diagnostic]:
    """A call in the handler to a sub-flow that runs a refused statement,
    however deep: reported at the call, the note names the statement."""
    refused, _, help = RULES[handler.event_name]
    for call in calls_in(handler.body):
        reached = reached_through(program, key, call, refused)
        if reached is None:
            continue
        keyword = refused[type(reached.stmt)]
        through = " -> ".join(f"`{name}`" for name in reached.chain)
        where = reached.stmt.span
        yield diagnostic(
            "E208", THROUGH_SUB[handler.event_name].format(sub=reached.chain[0], kw=keyword),
            call.span, help=help,
            notes=(f"`{keyword}` is at line {where.line} of {reached.module}, "
                   f"reached through {through}",))
