"""Every node's span ends where its own text ends: a top-level item (a `use` line, a
declaration, a test block), a prompt's variant, a menu's arm, a block statement end at the
last character of their last token, never on the newline, the blank lines, the comments or
the indentation that follow (those belong to nothing, or to what comes next)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ccdsl import ast
from ccdsl.compiler.item_parse import pieces
from ccdsl.compiler.namespan import code_end
from ccdsl.compiler.parser import parse_source
from ccdsl.source import SourceFile

ROOT = Path(__file__).resolve().parent.parent


def _clean(path: Path) -> str | None:
    text = path.read_text(encoding="utf-8", errors="replace")
    module, diags = parse_source(SourceFile(str(path), text))
    return text if module is not None and not diags else None


FLOWS = {str(p.relative_to(ROOT)): text
         for folder in ("examples", "stdlib_flows", "tests")
         for p in sorted((ROOT / folder).rglob("*.ccf"))
         if (text := _clean(p)) is not None}

# what may stand between two items: nothing, blank lines, comments, spaces
FILLERS = ("", "\n", "\n\n", "# about what follows\n", "\n# a comment\n\n", "   \n",
           "  # indented comment\n")


def _last_code(text: str, first_line: int) -> tuple[int, int]:
    """(line, column after the last character) of the last code of a piece."""
    lines = text.split("\n")
    for i in range(len(lines) - 1, -1, -1):
        end = code_end(lines[i])
        if end > 0:
            return first_line + i, end + 1
    raise AssertionError("a piece with no code")


def _check_items(path: str, text: str) -> None:
    module, diags = parse_source(SourceFile(path, text))
    assert module is not None and not diags, diags
    cut = pieces(text)
    assert len(cut) == len(module.items)
    for (first_line, piece), item in zip(cut, module.items, strict=True):
        span = item.span
        assert (span.end_line, span.end_column) == _last_code(piece, first_line), \
            (type(item).__name__, span)
    lines = text.split("\n")
    for node in ast.walk(module.items):
        span = getattr(node, "span", None)
        if span is None or span.file != path:
            continue
        line = lines[span.end_line - 1]
        before = line[:span.end_column - 1]
        assert before.strip() and not before[-1].isspace(), (type(node).__name__, span)
        assert span.end_column - 1 <= code_end(line), (type(node).__name__, span)


def test_the_project_flows_are_found() -> None:
    assert len(FLOWS) > 50
    assert any(p.startswith("stdlib_flows/") for p in FLOWS)
    assert any(p.startswith("examples/") for p in FLOWS)


@pytest.mark.parametrize("path", sorted(FLOWS))
def test_every_span_of_a_project_flow_ends_on_its_own_text(path: str) -> None:
    _check_items(path, FLOWS[path])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(FLOWS)), st.data())
def test_spans_end_on_their_own_text_whatever_stands_between_items(path, data) -> None:
    cut = pieces(FLOWS[path])
    assume(len(cut) > 1)
    out = [cut[0][1]]
    for _line, piece in cut[1:]:
        filler = data.draw(st.sampled_from(FILLERS))
        if data.draw(st.booleans()) and not out[-1].rstrip("\n").endswith("\\"):
            # a comment at the end of the item's last line
            out[-1] = out[-1].rstrip("\n") + "  # said after it\n"
        out.append(filler + piece)
    text = "".join(out)
    module, diags = parse_source(SourceFile(path, text))
    assume(module is not None and not diags)
    _check_items(path, text)


def test_a_use_line_ends_at_its_last_name() -> None:
    text = "flow f\n\nuse stdlib.survey  # why\n\n# the next\nconst x = 1\n"
    module, _ = parse_source(SourceFile("f.ccf", text))
    use = module.items[1]
    assert (use.span.line, use.span.column, use.span.end_line, use.span.end_column) == \
        (3, 1, 3, 18)


def test_a_test_block_ends_at_its_last_line() -> None:
    text = ("flow f\n\non start:\n  answer\n  hangup\n\ntest \"t\":\n  call\n"
            "  expect hangup  # done\n\n\n# next\nconst x = 1\n")
    module, _ = parse_source(SourceFile("f.ccf", text))
    test = next(i for i in module.items if isinstance(i, ast.Test))
    assert (test.span.end_line, test.span.end_column) == (9, 16)
    step = module.items[1]
    assert (step.span.end_line, step.span.end_column) == (5, 9)


def test_a_parse_cached_before_this_change_is_not_read() -> None:
    """Cached parses and results are keyed by the compiler's own text (cache_store's
    compiler_key): the files that decide where a span ends are part of it, so an entry
    holding spans made another way is never read back."""
    from ccdsl.compiler import cache_store, grammar, tree_builder

    files = {Path(p).resolve() for p in cache_store._compiler_files()}
    for module in (grammar, tree_builder):
        assert Path(module.__file__).resolve() in files
