"""The abstract syntax tree of a .ccf file; imports nothing of ours but the core.

Every node is a frozen dataclass with a source span. Spans and comments
are left out of equality, so two trees compare equal when they mean the
same program: that is what the format -> parse round trip checks.
Expressions live in ast_expr.py, statements in ast_stmt.py; this module
holds the declarations and re-exports all three, so `ast.X` names any node.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import field
from operator import attrgetter
from typing import Union

# Every node of ast_expr.py and ast_stmt.py is re-exported, so `ast.X` names
# any node and a new statement class needs no line here.
from ccdsl.ast_expr import *  # noqa: F403
from ccdsl.ast_expr import Date, Expr, Field, Name, Option, Str, Time, span_field
from ccdsl.ast_node import node
from ccdsl.ast_stmt import *  # noqa: F403
from ccdsl.ast_stmt import Stmt, TestStmt
from ccdsl.source import Span

# ---- declarations ---------------------------------------------------------------


@node
class Lang:
    tag: str  # "zh-CN"
    span: Span = span_field()


@node
class FlowDecl:
    name: str
    title: Str | None
    description: Str | None
    languages: tuple[Lang, ...]
    span: Span = span_field()


@node
class Use:
    path: tuple[str, ...]  # ("stdlib", "voicemail") or ("billing",)
    alias: str | None
    span: Span = span_field()

    @property
    def local_name(self) -> str:
        return self.alias or self.path[-1]


@node
class Const:
    name: str
    value: Expr
    span: Span = span_field()


@node
class DayRange:
    first: str
    last: str | None
    span: Span = span_field()


@node
class TimeRange:
    start: Time
    end: Time
    span: Span = span_field()


@node
class DateRange:
    first: Date
    last: Date | None
    span: Span = span_field()


@node
class HoursWeekly:
    days: tuple[DayRange, ...]
    times: tuple[TimeRange, ...]
    span: Span = span_field()


@node
class HoursClosed:
    dates: DateRange
    label: Str | None
    span: Span = span_field()


@node
class HoursOpen:
    dates: DateRange
    times: tuple[TimeRange, ...]
    label: Str | None
    span: Span = span_field()


HoursLine = Union[HoursWeekly, HoursClosed, HoursOpen]


@node
class Hours:
    name: str
    tz: Str | None
    lines: tuple[HoursLine, ...]
    span: Span = span_field()


@node
class PromptVariant:
    lang: Lang
    kind: str  # "tts" | "file"
    text: Str
    span: Span = span_field()


@node
class Prompt:
    name: str
    params: tuple[str, ...] | None  # None when written without parentheses
    variants: tuple[PromptVariant, ...]
    span: Span = span_field()


@node
class QueueKey:
    """``press 2:`` in a queue's block: the key a waiting caller may press to
    leave the queue, and the statements that run then."""

    key: str  # one of 0-9 * #
    body: tuple[Stmt, ...]
    span: Span = span_field()


@node
class QueueDecl:
    name: str
    options: tuple[Option, ...]
    span: Span = span_field()
    keys: tuple[QueueKey, ...] = ()  # the in-queue keys, in the block form only


@node
class Rule:
    """One line of a routing rule: ``owner of customer ring 20s``,
    ``queue service priority 5 when office.open()``."""

    kind: str  # owner | last_agent | agent | skills | queue
    target: Expr
    options: tuple[Option, ...]
    guard: Expr | None
    span: Span = span_field()


@node
class Otherwise:
    action: Stmt
    span: Span = span_field()


@node
class Routing:
    name: str
    rules: tuple[Rule | Otherwise, ...]
    span: Span = span_field()


@node
class TypeRef:
    name: str
    optional: bool
    span: Span = span_field()


@node
class FieldDecl:
    name: str
    type: TypeRef
    span: Span = span_field()


@node
class RecordDecl:
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span = span_field()


@node
class Wrapup:
    fields: tuple[FieldDecl, ...]
    span: Span = span_field()


@node
class Step:
    name: str
    body: tuple[Stmt, ...]
    span: Span = span_field()


@node
class Handler:
    event: tuple[str, ...]  # ("start",), ("answered", "by", "agent")
    body: tuple[Stmt, ...]
    span: Span = span_field()

    @property
    def event_name(self) -> str:
        return " ".join(self.event)


@node
class Sub:
    name: str
    params: tuple[str, ...]
    body: tuple[Stmt, ...]
    span: Span = span_field()


@node
class Test:
    name: Str
    body: tuple[TestStmt, ...]
    span: Span = span_field()


Item = Union[FlowDecl, Use, Const, Hours, Prompt, QueueDecl, Routing, RecordDecl, Wrapup,
             Step, Handler, Sub, Test]


@node
class Comment:
    line: int
    column: int
    text: str  # including the leading '#'
    own_line: bool  # nothing but white space before it on its line


@node
class Module:
    path: str
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False)
    span: Span = span_field()


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


# fields declared to hold only text, numbers or flags: never walked into
_SCALAR_FIELDS = frozenset(("str", "str | None", "int", "bool", "tuple[str, ...]",
                            "tuple[str, ...] | None"))
_LEAF = object()  # the getter of a node class without fields that may hold nodes
# each node class's fields that may hold nodes, last first, read with one attrgetter;
# None for what is not a node
_CHILDREN: dict[type, object] = {}


def _children_getter(cls: type) -> object:
    fields = getattr(cls, "__dataclass_fields__", None)
    names = None if fields is None else \
        [n for n, f in fields.items() if n not in ("span", "comments")
         and f.type not in _SCALAR_FIELDS]
    if names is None:
        getter = None
    elif not names:
        getter = _LEAF
    elif len(names) == 1:
        one = attrgetter(names[0])
        getter = lambda node: (one(node),)  # noqa: E731
    else:
        getter = attrgetter(*reversed(names))
    _CHILDREN[cls] = getter
    return getter


def walk(obj) -> Iterator[object]:
    """Every AST node under obj (a node or a tuple of nodes), depth first in
    source order. Spans, strings and numbers are not nodes."""
    # the hottest loop of the checks: one dict look-up per object and one attrgetter
    # call per node that may hold nodes (bench/compile.py). Children are pushed last
    # first, a tuple's items too, so popping gives source order; what is not a node
    # (a string of a Str's parts) is popped and passed over.
    pending = [obj]
    pop, push, extend = pending.pop, pending.append, pending.extend
    getters = _CHILDREN
    leaf = _LEAF
    while pending:
        node = pop()
        cls = type(node)
        if cls is tuple:
            extend(node[::-1])
            continue
        try:
            getter = getters[cls]
        except KeyError:
            getter = _children_getter(cls)
        if getter is None:
            continue
        yield node
        if getter is leaf:
            continue
        for child in getter(node):
            if type(child) is tuple:
                extend(child[::-1])
            elif child is not None:
                push(child)


class ClassTable(dict):
    """What to do with a node, by its class: `table[type(node)]` gives the value of the
    first (classes, value) pair the node is an instance of, or None, as an isinstance
    chain in that order would; one dict look-up a node instead of a chain."""

    def __init__(self, pairs: tuple[tuple[type | tuple[type, ...], object], ...]) -> None:
        super().__init__()
        self._pairs = pairs

    def __missing__(self, cls: type) -> object:
        value = next((v for classes, v in self._pairs if issubclass(cls, classes)), None)
        self[cls] = value
        return value
