"""comments.comment_start (which walks a line only from its first quote before a `#`)
finds what a walk of every character finds, and scan what it finds line by line: on
every flow of the project and on text made of the characters that matter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.ast import Comment
from ccdsl.compiler.comments import comment_start, scan


def walked(line: str) -> int:
    """comment_start as it was: every character walked."""
    in_string = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            return i
        i += 1
    return -1


ROOT = Path(__file__).resolve().parent.parent
FLOWS = sorted(p for folder in ("examples", "stdlib_flows", "tests")
               for p in (ROOT / folder).rglob("*.ccf"))


def line_by_line(text: str) -> list[Comment]:
    """The scan as it was: each line split at "\\n", every character walked."""
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        start = walked(line)
        if start >= 0:
            out.append(Comment(number, start + 1, line[start:].rstrip(),
                               line[:start].strip() == ""))
    return out


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flow(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert scan(text) == line_by_line(text)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet='#"\\\n\r\t \x1c\u2028ab', max_size=60))
def test_any_text(text: str) -> None:
    assert scan(text) == line_by_line(text)
    for line in text.split("\n"):
        assert comment_start(line) == walked(line)


def test_the_cases_that_matter() -> None:
    text = ('a "#" b # one\n'
            '"unclosed # no\n'
            '  # own line  \n'
            'x = "\\"#" # after an escaped quote\n'
            '"ends in a backslash \\\n'
            '# \u2028 not a line end\n')
    assert [(c.line, c.column, c.text, c.own_line) for c in scan(text)] == [
        (1, 9, "# one", False), (3, 3, "# own line", True),
        (4, 11, "# after an escaped quote", False), (6, 1, "# \u2028 not a line end", True)]
