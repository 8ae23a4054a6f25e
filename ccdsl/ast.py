"""The abstract syntax tree of a .ccf file.

Every node is a frozen dataclass with a source span. Spans and comments
are left out of equality, so two trees compare equal when they mean the
same program: that is what the format -> parse round trip checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

from ccdsl.source import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---- expressions --------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    id: str
    span: Span = _span()


@dataclass(frozen=True)
class Number:
    text: str  # as written: "10", "2.5"
    span: Span = _span()

    @property
    def value(self) -> float | int:
        return float(self.text) if "." in self.text else int(self.text)


@dataclass(frozen=True)
class Str:
    """A string literal. ``raw`` is the text between the quotes, escapes
    kept; ``parts`` are the literal pieces (escapes decoded) and the
    ``${...}`` expressions, in order."""

    raw: str
    parts: tuple[str | Expr, ...]
    span: Span = _span()

    @property
    def is_plain(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def value(self) -> str:
        """The decoded text of a string without interpolations."""
        return "".join(p for p in self.parts if isinstance(p, str))


@dataclass(frozen=True)
class Duration:
    text: str  # "5s", "2m", "500ms", "1.5h"
    span: Span = _span()

    @property
    def milliseconds(self) -> int:
        units = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
        for unit in ("ms", "s", "m", "h", "d"):
            if self.text.endswith(unit):
                return round(float(self.text[: -len(unit)]) * units[unit])
        raise ValueError(self.text)


@dataclass(frozen=True)
class Time:
    text: str  # "09:00"
    span: Span = _span()

    @property
    def hour(self) -> int:
        return int(self.text.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.text.split(":")[1])


@dataclass(frozen=True)
class Date:
    text: str  # "2026-10-01"
    span: Span = _span()


@dataclass(frozen=True)
class Bool:
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class Null:
    span: Span = _span()


@dataclass(frozen=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class MapEntry:
    key: str
    quoted: bool  # written as "key": rather than key:
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class MapLit:
    entries: tuple[MapEntry, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Field:
    obj: Expr
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Arg:
    name: str | None  # None for a positional argument
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    func: Expr
    args: tuple[Arg, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Index:
    obj: Expr
    index: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Binary:
    """``op`` is one of + - * / % == != < <= > >= in and or ??"""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Cond:
    """``then if test else otherwise``"""

    then: Expr
    test: Expr
    otherwise: Expr
    span: Span = _span()


Expr = Union[Name, Number, Str, Duration, Time, Date, Bool, Null, ListLit, MapLit,
             Field, Call, Index, Unary, Binary, Cond]

# ---- options: `name value` pairs after a construct's keyword --------------------


@dataclass(frozen=True)
class RangeValue:
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True)
class EveryValue:
    interval: Expr
    span: Span = _span()


@dataclass(frozen=True)
class SourceValue:
    """``tts EXPR`` or ``file EXPR`` where a prompt is expected."""

    kind: str  # "tts" | "file"
    value: Expr
    span: Span = _span()


OptionValue = Union[Expr, RangeValue, EveryValue, SourceValue]


@dataclass(frozen=True)
class Option:
    name: str
    value: OptionValue
    span: Span = _span()


# ---- statements ----------------------------------------------------------------


@dataclass(frozen=True)
class OnError:
    action: Stmt
    span: Span = _span()


@dataclass(frozen=True)
class Answer:
    span: Span = _span()


@dataclass(frozen=True)
class Hangup:
    span: Span = _span()


@dataclass(frozen=True)
class Goto:
    target: str
    span: Span = _span()


@dataclass(frozen=True)
class Return:
    value: Expr | None
    span: Span = _span()


@dataclass(frozen=True)
class Play:
    """``play welcome``, ``play order_status(x)``, ``play "file-name"``,
    ``play tts "text"``, ``play file "path"``; ``source`` is None for a
    reference to a declared prompt (or a string naming a sound file)."""

    source: str | None  # None | "tts" | "file"
    target: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Say:
    kind: str  # digits | number | money | date | time | alpha
    value: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Assign:
    name: str
    value: Expr
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class Collect:
    name: str
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class Route:
    target: str
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class Enqueue:
    queue: str
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class Transfer:
    kind: str  # agent | number | queue
    target: Expr
    mode: str | None  # None (blind) | "attended" | "blind"
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class ThreeWay:
    kind: str  # agent | number
    target: Expr
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class RecordCall:
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class StopRecording:
    span: Span = _span()


@dataclass(frozen=True)
class Voicemail:
    target: Expr
    options: tuple[Option, ...]
    on_error: OnError | None
    span: Span = _span()


@dataclass(frozen=True)
class Wait:
    duration: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class ScreenPop:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class SetLanguage:
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Log:
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class If:
    branches: tuple[tuple[Expr, tuple[Stmt, ...]], ...]  # if, then each elif
    orelse: tuple[Stmt, ...] | None
    span: Span = _span()


@dataclass(frozen=True)
class ElsePattern:
    span: Span = _span()


Pattern = Union[Name, Number, Str, Bool, Null, ElsePattern]


@dataclass(frozen=True)
class Arm:
    patterns: tuple[Pattern, ...]
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Match:
    subject: Expr
    arms: tuple[Arm, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Menu:
    """A menu: its header options, then body items in written order (the
    ``prompt``/``retries`` options and the key arms)."""

    options: tuple[Option, ...]
    items: tuple[Option | Arm, ...]
    span: Span = _span()

    @property
    def all_options(self) -> tuple[Option, ...]:
        return self.options + tuple(i for i in self.items if isinstance(i, Option))

    @property
    def arms(self) -> tuple[Arm, ...]:
        return tuple(i for i in self.items if isinstance(i, Arm))


Stmt = Union[Answer, Hangup, Goto, Return, Play, Say, Assign, Collect, ExprStmt, Route,
             Enqueue, Transfer, ThreeWay, RecordCall, StopRecording, Voicemail, Wait,
             ScreenPop, SetLanguage, Log, If, Match, Menu]

# ---- tests beside a flow --------------------------------------------------------


@dataclass(frozen=True)
class TestAt:
    when: Str
    span: Span = _span()


@dataclass(frozen=True)
class TestCrm:
    record_type: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class TestAgent:
    name: str
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class TestCall:
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class TestPress:
    keys: Expr
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class TestSilence:
    duration: Expr
    span: Span = _span()


@dataclass(frozen=True)
class TestHangup:
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class TestExpect:
    negated: bool
    kind: str
    connector: str | None
    value: Expr | None
    span: Span = _span()


TestStmt = Union[TestAt, TestCrm, TestAgent, TestCall, TestPress, TestSilence, TestHangup,
                 TestExpect]

# ---- declarations ---------------------------------------------------------------


@dataclass(frozen=True)
class Lang:
    tag: str  # "zh-CN"
    span: Span = _span()


@dataclass(frozen=True)
class FlowDecl:
    name: str
    title: Str | None
    description: Str | None
    languages: tuple[Lang, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Use:
    path: tuple[str, ...]  # ("stdlib", "voicemail") or ("billing",)
    alias: str | None
    span: Span = _span()

    @property
    def local_name(self) -> str:
        return self.alias or self.path[-1]


@dataclass(frozen=True)
class Const:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class DayRange:
    first: str
    last: str | None
    span: Span = _span()


@dataclass(frozen=True)
class TimeRange:
    start: Time
    end: Time
    span: Span = _span()


@dataclass(frozen=True)
class DateRange:
    first: Date
    last: Date | None
    span: Span = _span()


@dataclass(frozen=True)
class HoursWeekly:
    days: tuple[DayRange, ...]
    times: tuple[TimeRange, ...]
    span: Span = _span()


@dataclass(frozen=True)
class HoursClosed:
    dates: DateRange
    label: Str | None
    span: Span = _span()


@dataclass(frozen=True)
class HoursOpen:
    dates: DateRange
    times: tuple[TimeRange, ...]
    label: Str | None
    span: Span = _span()


HoursLine = Union[HoursWeekly, HoursClosed, HoursOpen]


@dataclass(frozen=True)
class Hours:
    name: str
    tz: Str | None
    lines: tuple[HoursLine, ...]
    span: Span = _span()


@dataclass(frozen=True)
class PromptVariant:
    lang: Lang
    kind: str  # "tts" | "file"
    text: Str
    span: Span = _span()


@dataclass(frozen=True)
class Prompt:
    name: str
    params: tuple[str, ...] | None  # None when written without parentheses
    variants: tuple[PromptVariant, ...]
    span: Span = _span()


@dataclass(frozen=True)
class QueueDecl:
    name: str
    options: tuple[Option, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Rule:
    """One line of a routing rule: ``owner of customer ring 20s``,
    ``queue service priority 5 when office.open()``."""

    kind: str  # owner | last_agent | agent | skills | queue
    target: Expr
    options: tuple[Option, ...]
    guard: Expr | None
    span: Span = _span()


@dataclass(frozen=True)
class Otherwise:
    action: Stmt
    span: Span = _span()


@dataclass(frozen=True)
class Routing:
    name: str
    rules: tuple[Rule | Otherwise, ...]
    span: Span = _span()


@dataclass(frozen=True)
class TypeRef:
    name: str
    optional: bool
    span: Span = _span()


@dataclass(frozen=True)
class FieldDecl:
    name: str
    type: TypeRef
    span: Span = _span()


@dataclass(frozen=True)
class RecordDecl:
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Wrapup:
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Step:
    name: str
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Handler:
    event: tuple[str, ...]  # ("start",), ("answered", "by", "agent")
    body: tuple[Stmt, ...]
    span: Span = _span()

    @property
    def event_name(self) -> str:
        return " ".join(self.event)


@dataclass(frozen=True)
class Sub:
    name: str
    params: tuple[str, ...]
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Test:
    name: Str
    body: tuple[TestStmt, ...]
    span: Span = _span()


Item = Union[FlowDecl, Use, Const, Hours, Prompt, QueueDecl, Routing, RecordDecl, Wrapup,
             Step, Handler, Sub, Test]


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str  # including the leading '#'
    own_line: bool  # nothing but white space before it on its line


@dataclass(frozen=True)
class Module:
    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
    span: Span = _span()


# ---- walking ------------------------------------------------------------------------


def dotted(expr) -> tuple[str, ...] | None:
    """``a.b.c`` as ("a", "b", "c"); None when the chain does not start at
    a bare name."""
    parts: list[str] = []
    while isinstance(expr, Field):
        parts.append(expr.name)
        expr = expr.obj
    if not isinstance(expr, Name):
        return None
    parts.append(expr.id)
    return tuple(reversed(parts))


_SCALARS = (str, int, float, bool)
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...] | None:
    names = _CHILD_FIELDS.get(cls)
    if names is None:
        fields = getattr(cls, "__dataclass_fields__", None)
        if fields is None:
            return None
        names = tuple(n for n in fields if n not in ("span", "comments"))
        _CHILD_FIELDS[cls] = names
    return names


def walk(obj) -> Iterator[object]:
    """Every AST node under obj (a node or a tuple of nodes), depth first in
    source order. Spans, strings and numbers are not nodes."""
    pending = [obj]
    while pending:
        node = pending.pop()
        if type(node) is tuple:
            pending.extend(reversed(node))
            continue
        names = _child_fields(type(node))
        if names is None:
            continue
        yield node
        children = [getattr(node, n) for n in names]
        pending.extend(c for c in reversed(children)
                       if c is not None and not isinstance(c, _SCALARS))
