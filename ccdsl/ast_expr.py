"""The AST's expressions and option values; imports only the core's spans.

Every node is a frozen dataclass with a source span left out of equality
(see ccdsl/ast.py, which re-exports these).
"""

from __future__ import annotations

from dataclasses import field

from ccdsl.ast_node import node
from ccdsl.source import NO_SPAN, Span


def span_field() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---- expressions --------------------------------------------------------------


@node
class Name:
    id: str
    span: Span = span_field()


@node
class Number:
    text: str  # as written: "10", "2.5"
    span: Span = span_field()

    @property
    def value(self) -> float | int:
        return float(self.text) if "." in self.text else int(self.text)


@node
class Str:
    """A string literal. ``raw`` is the text between the quotes, escapes
    kept; ``parts`` are the literal pieces (escapes decoded) and the
    ``${...}`` expressions, in order."""

    raw: str
    parts: tuple[str | Expr, ...]
    span: Span = span_field()

    @property
    def is_plain(self) -> bool:
        return all(isinstance(p, str) for p in self.parts)

    @property
    def value(self) -> str:
        """The decoded text of a string without interpolations."""
        return "".join(p for p in self.parts if isinstance(p, str))


@node
class Duration:
    text: str  # "5s", "2m", "500ms", "1.5h"
    span: Span = span_field()

    @property
    def milliseconds(self) -> int:
        units = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
        for unit in ("ms", "s", "m", "h", "d"):
            if self.text.endswith(unit):
                return round(float(self.text[: -len(unit)]) * units[unit])
        raise ValueError(self.text)


@node
class Time:
    text: str  # "09:00"
    span: Span = span_field()

    @property
    def hour(self) -> int:
        return int(self.text.split(":")[0])

    @property
    def minute(self) -> int:
        return int(self.text.split(":")[1])


@node
class Date:
    text: str  # "2026-10-01"
    span: Span = span_field()


@node
class Bool:
    value: bool
    span: Span = span_field()


@node
class Null:
    span: Span = span_field()


@node
class ListLit:
    items: tuple[Expr, ...]
    span: Span = span_field()


@node
class MapEntry:
    key: str  # for a computed key, the string's raw text
    quoted: bool  # written as "key": rather than key:
    value: Expr
    span: Span = span_field()
    computed: Str | None = None  # a quoted key with `${...}` in it, evaluated per call


@node
class MapLit:
    entries: tuple[MapEntry, ...]
    span: Span = span_field()


@node
class Field:
    obj: Expr
    name: str
    span: Span = span_field()


@node
class Arg:
    name: str | None  # None for a positional argument
    value: Expr
    span: Span = span_field()


@node
class Call:
    func: Expr
    args: tuple[Arg, ...]
    span: Span = span_field()


@node
class Index:
    obj: Expr
    index: Expr
    span: Span = span_field()


@node
class Unary:
    op: str  # "-" or "not"
    operand: Expr
    span: Span = span_field()


@node
class Binary:
    """``op`` is one of + - * / % == != < <= > >= in and or ??"""

    op: str
    left: Expr
    right: Expr
    span: Span = span_field()


@node
class Cond:
    """``then if test else otherwise``"""

    then: Expr
    test: Expr
    otherwise: Expr
    span: Span = span_field()


Expr = (
    Name | Number | Str | Duration | Time | Date | Bool | Null | ListLit | MapLit | Field |
    Call | Index | Unary | Binary | Cond
)

# ---- options: `name value` pairs after a construct's keyword --------------------


@node
class RangeValue:
    low: Expr
    high: Expr
    span: Span = span_field()


@node
class EveryValue:
    interval: Expr
    span: Span = span_field()
    what: Expr | None = None  # `messages [a, b] every 60s`: what is played that often


@node
class SourceValue:
    """``tts EXPR`` or ``file EXPR`` where a prompt is expected."""

    kind: str  # "tts" | "file"
    value: Expr
    span: Span = span_field()


OptionValue = Expr | RangeValue | EveryValue | SourceValue


@node
class Option:
    name: str
    value: OptionValue
    span: Span = span_field()
