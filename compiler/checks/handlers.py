"""What each handler may do (E208): statements that cannot work in `on hangup` or
`on answered by agent`; must not import the runtime.

`on hangup` runs after the caller has gone: a statement that talks to the
caller's line (the runtime's `rt.line()`) would end the handler there, so the
statements after it would never run. `on answered by agent` runs while the
agent's line is being connected: it may not end or divert the call (the
runtime ignores a statement that tries, runtime/core/ops/agents.py), and on
Asterisk the line belongs to Queue() or Dial() then, so a statement that uses
it fails (docs/asterisk.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ccdsl import ast
from ccdsl.compiler.namespan import head_span
from ccdsl.compiler.program import Program
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


def check(program: Program, scopes: dict[str, Scope], analysis) -> Iterable[Diagnostic]:
    sources = program.sources()
    for loaded in program.modules.values():
        for item in loaded.module.items:
            if isinstance(item, ast.Handler) and item.event_name in RULES:
                yield from _handler(item, sources)


def _handler(handler: ast.Handler, sources) -> Iterator[Diagnostic]:
    refused, why, help = RULES[handler.event_name]
    for stmt in walk_statements(handler.body):
        keyword = refused.get(type(stmt))
        if keyword is None:
            continue
        message = why.format(kw=keyword)
        if handler.event_name == "hangup" and keyword == "goto":
            message = "`on hangup` runs after the call has ended, so it cannot `goto` a step " \
                      "(the handler would stop there)"
        yield diagnostic("E208", message,
                         head_span(stmt.span, sources), help=help)
