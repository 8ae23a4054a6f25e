"""Find the comments of a .ccf file; must not parse anything else.

The grammar folds comments into line ends, so the formatter gets them from
this scanner instead: a `#` outside a string starts a comment (strings
never span lines)."""

from __future__ import annotations

from ccdsl.ast import Comment


def comment_start(line: str) -> int:
    """The index of the `#` that starts a comment on this line, or -1."""
    first = line.find("#")
    if first < 0:
        return -1
    i = line.find('"', 0, first)
    if i < 0:  # no string before the first `#`: most comments
        return first
    # the walk starts at the first quote: nothing before it opens a string
    in_string = False
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


def scan(text: str) -> list[Comment]:
    out = []
    # Split on "\n" only, as the lexer counts lines: str.splitlines() also
    # breaks at \f, \x1c, \u2028 and others, which would cut a comment short
    # and shift the line numbers of every comment after it.
    for number, line in enumerate(text.split("\n"), start=1):
        if "#" not in line:  # most lines: no need to walk them
            continue
        start = comment_start(line)
        if start >= 0:
            own = line[:start].strip() == ""
            out.append(Comment(number, start + 1, line[start:].rstrip(), own))
    return out
