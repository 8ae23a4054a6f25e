"""The expression builder's short cuts (compiler/build_expr.py) give what its general
code gives: a string with no escape and no interpolation is the one the general
parts() would make, and parts(), which copies plain runs whole, gives what reading the
string a character at a time gives, on every string of the project's flows and on
strings at random."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Token, Tree
from lark.tree import Meta

from ccdsl import ast
from ccdsl.compiler import grammar
from ccdsl.compiler.build_expr import _ESCAPES, ExprBuilder, parse_expression
from ccdsl.compiler.limits import MAX_EXPR_DEPTH, interpolation_key
from ccdsl.diagnostics import diagnostic
from ccdsl.source import SourceFile, Span

ROOT = Path(__file__).resolve().parent.parent
FLOWS = sorted(p for folder in ("examples", "stdlib_flows", "tests")
               for p in (ROOT / folder).rglob("*.ccf"))


def _general(builder: ExprBuilder, tok: Token) -> ast.Str:
    raw = str(tok)[1:-1]
    sp = builder.span(tok)
    return ast.Str(raw, builder.parts(tok, raw, sp), sp)


def _char_by_char(builder: ExprBuilder, tok: Token) -> tuple:
    """parts() as it was written first: one character at a time."""
    raw = str(tok)[1:-1]
    sp = builder.span(tok)
    parts: list = []
    buf: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            if nxt in _ESCAPES:
                buf.append(_ESCAPES[nxt])
            else:
                col = sp.column + 1 + i
                builder.diags.append(diagnostic(
                    "E005", f"unknown escape `\\{nxt}` in a string",
                    Span(sp.file, sp.line, col, sp.line, col + 2),
                    help='the escapes are \\n \\t \\" \\\\ and \\$ (a literal $)'))
            i += 2
            continue
        if ch == "$" and raw.startswith("${", i):
            close = raw.find("}", i + 2)
            if close == -1:  # worded by the builder: a quote meant inside, or a `}` left out
                builder.diags.append(builder.unclosed_interpolation(raw, i, sp))
                buf.append(raw[i:])
                break
            if buf:
                parts.append("".join(buf))
                buf = []
            budget = builder.budgets.get(interpolation_key(tok), MAX_EXPR_DEPTH - 1)
            expr = parse_expression(raw[i + 2:close], builder.source, sp.line,
                                    sp.column + 1 + i + 2, builder.diags, budget)
            if expr is not None:
                parts.append(expr)
            i = close + 1
            continue
        buf.append(ch)
        i += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts)


def _assert_parts_read_by_character(source: SourceFile, tok: Token) -> None:
    ours: list = []
    theirs: list = []
    builder = ExprBuilder(source, ours)
    raw = str(tok)[1:-1]
    assert builder.parts(tok, raw, builder.span(tok)) == _char_by_char(
        ExprBuilder(source, theirs), tok)
    assert ours == theirs


def _string_token(raw: str, line: int = 3, column: int = 5) -> Token:
    text = f'"{raw}"'
    return Token("STRING", text, 0, line, column, line, column + len(text), len(text))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab $"{}\\n中é\t')), max_size=20))
def test_a_string_at_random_is_the_general_one(raw):
    source = SourceFile("t.ccf", f'x = "{raw}"\n')
    fast_diags: list = []
    general_diags: list = []
    tok = _string_token(raw)
    fast = ExprBuilder(source, fast_diags).string(tok)
    assert fast == _general(ExprBuilder(source, general_diags), tok)
    assert fast_diags == general_diags
    _assert_parts_read_by_character(source, tok)


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_string_of_every_flow_is_the_general_one(path):
    try:
        text = path.read_text(encoding="utf-8")
        tree = grammar.parse_tree(text if text.endswith("\n") else text + "\n", "start")
    except Exception:  # noqa: BLE001 - a flow that does not decode or parse builds no strings
        return
    source = SourceFile(str(path), text)
    for tok in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "STRING"):
        fast_diags: list = []
        general_diags: list = []
        assert (ExprBuilder(source, fast_diags).string(tok)
                == _general(ExprBuilder(source, general_diags), tok))
        assert fast_diags == general_diags
        _assert_parts_read_by_character(source, tok)


def test_a_tree_without_a_place_spans_the_first_character():
    source = SourceFile("t.ccf", "x\n")
    for tree in (Tree("menu_options", []), Tree("menu_options", [], Meta())):
        assert ExprBuilder(source, []).span(tree) == Span("t.ccf", 1, 1, 1, 1)
        assert type(ExprBuilder(source, []).span(tree)) is Span
