"""Source files and spans: where every diagnostic and IR op points back to.

Must import nothing of ccdsl: every other module stands on it."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple


class Span(NamedTuple):
    """A range in a source file. Lines and columns are 1-based; the end
    column is exclusive (one past the last character), as in lark.

    A named tuple rather than a dataclass: the parser makes one per node and
    tuple construction is several times cheaper than a frozen dataclass."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.file, self.line, self.column, other.end_line, other.end_column)

    def location(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.column}


NO_SPAN = Span("<none>", 1, 1, 1, 1)


@dataclass(frozen=True)
class SourceFile:
    """The text of one .ccf file, with a line index for quoting lines."""

    path: str
    text: str
    _line_starts: tuple[int, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        starts, find = [0], self.text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        object.__setattr__(self, "_line_starts", tuple(starts))

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a character offset."""
        index = bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(max(end, start))
        return Span(self.path, line, col, end_line, end_col)
