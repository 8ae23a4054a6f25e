"""`ccf test -k`: a keyword expression, parsed (never evaluated as Python) and matched
against a test's id `FILE::NAME`. Knows nothing of flows or of running tests.

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | "(" or ")" | phrase
    phrase     := (word | "quoted words" | 'quoted words')+

A phrase matches when it is a case-insensitive substring of the id; words side by side
make one phrase (`-k "known caller"`), and quotes let a phrase hold `and`, `or`, `not`
or a bracket (`-k '"not found"'`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

KEYWORDS = ("and", "or", "not")


class KeywordError(ValueError):
    """A -k expression that does not parse; the message says where and why."""


@dataclass(frozen=True)
class Phrase:
    text: str


@dataclass(frozen=True)
class Not:
    operand: Selector


@dataclass(frozen=True)
class And:
    left: Selector
    right: Selector


@dataclass(frozen=True)
class Or:
    left: Selector
    right: Selector


@dataclass(frozen=True)
class Everything:
    """An empty -k, as pytest takes it: no filter at all."""


Selector = Phrase | Not | And | Or | Everything


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "quoted", "(", ")", or a keyword
    text: str
    column: int  # 1-based, in the expression


def tokens(expression: str) -> list[Token]:
    out: list[Token] = []
    i = 0
    while i < len(expression):
        ch = expression[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(Token(ch, ch, i + 1))
            i += 1
        elif ch in "\"'":
            end = expression.find(ch, i + 1)
            if end < 0:
                raise KeywordError(f"the quote at column {i + 1} is never closed")
            if end == i + 1:
                raise KeywordError(f"an empty phrase {ch}{ch} at column {i + 1}")
            out.append(Token("quoted", expression[i + 1:end], i + 1))
            i = end + 1
        else:
            start = i
            while i < len(expression) and not expression[i].isspace() \
                    and expression[i] not in "()\"'":
                i += 1
            word = expression[start:i]
            out.append(Token(word if word in KEYWORDS else "word", word, start + 1))
    return out


def parse(expression: str) -> Selector:
    """The selector of a -k expression, or KeywordError."""
    toks = tokens(expression)
    if not toks:
        return Everything()
    parser = _Parser(toks)
    selector = parser.or_()
    if parser.at < len(toks):
        tok = toks[parser.at]
        raise KeywordError(f"unexpected `{tok.text}` at column {tok.column}")
    return selector


class _Parser:
    def __init__(self, toks: list[Token]) -> None:
        self.toks = toks
        self.at = 0

    def _peek(self) -> Token | None:
        return self.toks[self.at] if self.at < len(self.toks) else None

    def _take(self, kind: str) -> bool:
        tok = self._peek()
        if tok is not None and tok.kind == kind:
            self.at += 1
            return True
        return False

    def or_(self) -> Selector:
        left = self.and_()
        while self._take("or"):
            left = Or(left, self.and_())
        return left

    def and_(self) -> Selector:
        left = self.not_()
        while self._take("and"):
            left = And(left, self.not_())
        return left

    def not_(self) -> Selector:
        if self._take("not"):
            return Not(self.not_())
        tok = self._peek()
        if tok is None:
            before = self.toks[self.at - 1]
            raise KeywordError(f"a name is missing after `{before.text}` at column "
                               f"{before.column}")
        if self._take("("):
            inner = self.or_()
            if not self._take(")"):
                raise KeywordError(f"the bracket at column {tok.column} is never closed")
            return inner
        words = []
        while (tok := self._peek()) is not None and tok.kind in ("word", "quoted"):
            words.append(tok.text)
            self.at += 1
        if not words:
            raise KeywordError(f"expected a name at column {tok.column}, found `{tok.text}`")
        return Phrase(" ".join(words))


def _folded(text: str) -> str:
    """Text as -k compares it: in any case, and one `é` however it was composed (an
    editor may save a name's accents apart, a terminal types them joined). NFC at the
    end keeps a letter and the same letter with an accent apart."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())


def matches(selector: Selector, test_id: str) -> bool:
    """Whether the test whose id is `FILE::NAME` is selected."""
    match selector:
        case Everything():
            return True
        case Phrase(text):
            return _folded(text) in _folded(test_id)
        case Not(operand):
            return not matches(operand, test_id)
        case And(left, right):
            return matches(left, test_id) and matches(right, test_id)
        case Or(left, right):
            return matches(left, test_id) or matches(right, test_id)
    raise TypeError(f"not a selector: {selector!r}")
