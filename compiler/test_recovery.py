"""A syntax error inside one top-level `test` block costs only that block: the file is
parsed again with the block blanked out (line numbers kept), as often as it takes.

Must not check or lower; an error in the flow itself still fails the whole file.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from ccdsl import ast
from ccdsl.compiler.parser import parse_source
from ccdsl.diagnostics import Diagnostic
from ccdsl.source import SourceFile, Span

# a test block opens at column 0; its name is read from the header even when
# the header itself is what does not parse
_HEADER = re.compile(r'test(?=[\s"])\s*(?:"((?:[^"\\\n]|\\.)*)"?)?')


@dataclass(frozen=True)
class _Block:
    first: int  # 1-based lines, inclusive
    last: int
    name: str


def _blocks(lines: list[str]) -> list[_Block]:
    """The top-level test blocks: a header at column 0, then every line up to
    the next line at column 0 that is not a comment (trailing blanks left out)."""
    out: list[_Block] = []
    current: tuple[int, str] | None = None
    last_body = 0
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.startswith("#"):
            continue
        if text[0] in " \t":
            last_body = number
            continue
        if current is not None:
            out.append(_Block(current[0], last_body, current[1]))
            current = None
        match = _HEADER.match(text)
        if match:
            current = (number, match.group(1) if match.group(1) is not None
                       else text[4:].strip().rstrip(":"))
            last_body = number
    if current is not None:
        out.append(_Block(current[0], last_body, current[1]))
    return out


def _holding(blocks: list[_Block], diag: Diagnostic, lines: list[str],
             line_count: int) -> _Block | None:
    """The test block a syntax error lies in. An error at the very start of a
    line at column 0 is the previous lines' (an unclosed bracket running into
    it, or a header with no lines under it): the block, if any, that the last
    line before it with code is in. An error past the end of the file belongs
    to the block the file ends with."""
    line = diag.span.line
    if diag.span.column == 1 and line <= len(lines) and lines[line - 1][:1] not in (" ", "\t"):
        line = next((n for n in range(line - 1, 0, -1)
                     if lines[n - 1].strip() and not lines[n - 1].startswith("#")), 0)
    for block in blocks:
        if block.first <= line <= block.last:
            return block
    if blocks and line > line_count and blocks[-1].last == line_count:
        return blocks[-1]
    return None


def _inside(diag: Diagnostic, block: _Block, path: str, lines) -> Diagnostic:
    """An error found past the end of its block (at the next line at column 0) is
    placed at the end of the block's last line, where what is missing would go:
    `ccf test` tells which test failed by where its errors are."""
    if block.first <= diag.span.line <= block.last:
        return diag
    end = len(lines[block.last - 1].rstrip()) + 1
    return dataclasses.replace(diag, span=Span(path, block.last, end, block.last, end))


def _stub(block: _Block, path: str, lines) -> ast.Test:
    """The broken block as a test with no lines: it keeps its name and place."""
    end = lines[block.last - 1]
    span = Span(path, block.first, 1, block.last, len(end) + 1)
    name_span = Span(path, block.first, 1, block.first, len(lines[block.first - 1]) + 1)
    return ast.Test(ast.Str(block.name, (block.name,), name_span), (), span)


def parse_recovering(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic],
                                                  tuple[ast.Test, ...]]:
    """Parse a file; on a syntax error inside top-level test blocks, the module
    without them, every such block's diagnostic, and the blocks as tests with
    no lines (their names and spans, in file order). Otherwise as parse_source."""
    module, diags = parse_source(source)
    if module is not None:
        return module, diags, ()
    original = tuple(source.text.split("\n"))
    lines = list(original)  # blanked block by block
    blocks = _blocks(lines)
    line_count = len(lines) - (1 if source.text.endswith("\n") else 0)
    broken: list[_Block] = []
    reported: list[Diagnostic] = []
    attempt = diags
    while True:
        errors = [d for d in attempt if d.is_error]
        if not errors:
            break
        block = _holding(blocks, errors[0], lines, line_count)
        if block is None or block in broken or (broken and block.first < broken[-1].first):
            # the flow's own error, or one blanking did not move forward
            return None, diags, ()
        broken.append(block)
        reported.extend(_inside(d, block, source.path, original) for d in errors)
        for number in range(block.first, block.last + 1):
            lines[number - 1] = ""
        module, attempt = parse_source(SourceFile(source.path, "\n".join(lines)))
        if module is not None:
            break
    if module is None:
        return None, diags, ()
    # the blanked file's own warnings (its escapes) still count
    module = ast.Module(source.path, module.items, module.comments, module.span)
    return module, reported + attempt, tuple(_stub(b, source.path, original) for b in broken)
