"""The AST's statements and the lines of test blocks; imports only the core.

Each statement class has one entry in the compiler's statement table
(compiler/statements.py); tests/test_statements.py fails when one has none.
"""

from __future__ import annotations

from functools import cached_property

from ccdsl.ast_expr import (
    Bool,
    Expr,
    Name,
    Null,
    Number,
    Option,
    Str,
    span_field,
)
from ccdsl.ast_node import node
from ccdsl.source import Span

# ---- statements ----------------------------------------------------------------


@node
class OnError:
    action: Stmt
    span: Span = span_field()


@node
class Answer:
    span: Span = span_field()


@node
class Hangup:
    span: Span = span_field()


@node
class Goto:
    target: str
    span: Span = span_field()


@node
class Return:
    value: Expr | None
    span: Span = span_field()


@node
class Play:
    """``play welcome``, ``play order_status(x)``, ``play "file-name"``,
    ``play tts "text"``, ``play file "path"``; ``source`` is None for a
    reference to a declared prompt (or a string naming a sound file)."""

    source: str | None  # None | "tts" | "file"
    target: Expr
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class Say:
    kind: str  # digits | number | money | date | time | alpha
    value: Expr
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class Assign:
    name: str
    value: Expr
    on_error: OnError | None
    span: Span = span_field()


@node
class Collect:
    name: str
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = span_field()


@node
class ExprStmt:
    expr: Expr
    on_error: OnError | None
    span: Span = span_field()


@node
class Route:
    target: str  # the name written, or "" when `value` is another expression
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = span_field()
    value: Expr | None = None  # `route rules[tier]`: a routing rule or queue as a value


@node
class Enqueue:
    queue: str  # the name written, or "" when `value` is another expression
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = span_field()
    value: Expr | None = None  # `queue by_choice[choice] ?? general`: a queue as a value


@node
class Transfer:
    kind: str  # agent | number | queue
    target: Expr
    mode: str | None  # None (blind) | "attended" | "blind"
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = span_field()


@node
class ThreeWay:
    kind: str  # agent | number
    target: Expr
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = span_field()


@node
class RecordCall:
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class StopRecording:
    span: Span = span_field()


@node
class PauseRecording:
    """``pause recording``: the recording goes on, silent, until resumed."""

    span: Span = span_field()


@node
class ResumeRecording:
    """``resume recording``: a paused recording hears the call again."""

    span: Span = span_field()


@node
class Voicemail:
    target: Expr
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = span_field()


@node
class Wait:
    duration: Expr
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class ScreenPop:
    items: tuple[Expr, ...]
    span: Span = span_field()


@node
class SetLanguage:
    value: Expr
    span: Span = span_field()


@node
class Callback:
    """``callback number EXPR reason EXPR``: in a queue's key block, books a
    call-back that keeps the caller's place in that queue."""

    options: tuple[Option, ...]
    span: Span = span_field()


@node
class Log:
    value: Expr
    span: Span = span_field()


@node
class If:
    branches: tuple[tuple[Expr, tuple[Stmt, ...]], ...]  # if, then each elif
    orelse: tuple[Stmt, ...] | None
    span: Span = span_field()


@node
class ElsePattern:
    span: Span = span_field()


Pattern = Name | Number | Str | Bool | Null | ElsePattern


@node
class Arm:
    patterns: tuple[Pattern, ...]
    body: tuple[Stmt, ...]
    span: Span = span_field()


@node
class Match:
    subject: Expr
    arms: tuple[Arm, ...]
    span: Span = span_field()


@node
class Menu:
    """A menu: its header options, then body items in written order (the
    ``prompt``/``retries`` options and the key arms)."""

    options: tuple[Option, ...]
    items: tuple[Option | Arm, ...]
    span: Span = span_field()

    # worked out once a node: the checks and the lowering ask again and again
    @cached_property
    def all_options(self) -> tuple[Option, ...]:
        return self.options + tuple(i for i in self.items if isinstance(i, Option))

    @cached_property
    def arms(self) -> tuple[Arm, ...]:
        return tuple(i for i in self.items if isinstance(i, Arm))


@node
class Repeat:
    """``repeat N:``: the body N times (N a whole number, evaluated once)."""

    times: Expr
    body: tuple[Stmt, ...]
    span: Span = span_field()


@node
class ForEach:
    """``for each NAME in LIST:``: the body once per item, NAME set to it."""

    name: str
    items: Expr
    body: tuple[Stmt, ...]
    span: Span = span_field()


@node
class Break:
    """``break``: leave the innermost `repeat` or `for each`."""

    span: Span = span_field()


Stmt = (
    Answer | Hangup | Goto | Return | Play | Say | Assign | Collect | ExprStmt | Route |
    Enqueue | Transfer | ThreeWay | RecordCall | StopRecording | Voicemail | Wait | ScreenPop |
    SetLanguage | Log | If | Match | Menu | Repeat | ForEach | Break | PauseRecording |
    ResumeRecording | Callback
)

# ---- tests beside a flow --------------------------------------------------------


@node
class TestAt:
    when: Str
    span: Span = span_field()


@node
class TestCrm:
    record_type: str
    value: Expr
    span: Span = span_field()


@node
class TestAgent:
    name: str
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class TestCall:
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class TestPress:
    keys: Expr
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class TestSilence:
    duration: Expr
    span: Span = span_field()


@node
class TestSpeak:
    """``speak 20s``: the caller talks into voicemail that long, then presses #."""

    duration: Expr
    span: Span = span_field()


@node
class TestHangup:
    options: tuple[Option, ...]
    span: Span = span_field()


@node
class TestExpect:
    negated: bool
    kind: str
    connector: str | None
    value: Expr | None
    span: Span = span_field()
    via: str | None = None  # `expect routed via owner to zhang`
    options: tuple[Option, ...] = ()  # `expect queue service priority 10`


@node
class TestCrmFault:
    """`crm fails`, `crm times out`, `crm slow 3s`, each optionally `for TYPE`."""

    fault: str  # fails | times_out | slow
    after: Expr | None  # slow: how long the CRM takes to answer
    record_type: str | None
    span: Span = span_field()


@node
class TestHttp:
    """`http get "https://x/y" status 503 body {...}`: the answer to a request."""

    method: str
    url: Expr
    options: tuple[Option, ...]
    span: Span = span_field()


TestStmt = (
    TestAt | TestCrm | TestAgent | TestCall | TestPress | TestSilence | TestSpeak |
    TestHangup | TestExpect | TestCrmFault | TestHttp
)
