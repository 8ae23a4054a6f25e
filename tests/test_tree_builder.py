"""The fused tree builder (compiler/tree_builder.py) builds lark's own trees: same shape,
same tokens, every position field the same, on every flow of the project and on
expressions written at random."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import strategies as gen
from hypothesis import given, settings

from ccdsl.compiler import grammar
from ccdsl.compiler.format_expr import format_expr
from ccdsl.compiler.formatter import format_module
from ccdsl.compiler.grammar import _TEXT, lark_parser, lark_tables_parser

ROOT = Path(__file__).resolve().parent.parent
FLOWS = sorted(p for folder in ("examples", "stdlib_flows", "tests")
               for p in (ROOT / folder).rglob("*.ccf"))


def _shape(node, out: list) -> list:
    """Every node in order: a tree's rule, child count and meta; a token's text,
    type and place."""
    stack = [node]
    while stack:
        n = stack.pop()
        if hasattr(n, "data"):
            meta = n._meta.__dict__ if n._meta is not None else {"empty": True}
            out.append(("tree", n.data, len(n.children), sorted(meta.items())))
            stack.extend(reversed(n.children))
        elif n is None:
            out.append(None)
        else:
            out.append(("token", str(n), n.type, n.line, n.column, n.end_line, n.end_column,
                        n.start_pos, n.end_pos))
    return out


def _parsed(parser, text: str, start: str):
    token = _TEXT.set(text)  # the keyword-as-name hook reads the text
    try:
        return _shape(parser.parse(text, start=start), [])
    except Exception as exc:  # a syntax error: both must fail alike
        return ("error", type(exc).__name__, str(exc))
    finally:
        _TEXT.reset(token)


@pytest.fixture(scope="module")
def lark_own():
    return lark_tables_parser()


def test_the_project_flows_are_found():
    assert len(FLOWS) > 100


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flow_parses_to_larks_tree(lark_own, path):
    text = path.read_text(encoding="utf-8", errors="replace")
    text = text if text.endswith("\n") else text + "\n"
    ours = _parsed(lark_parser(), text, "start")
    assert ours == _parsed(lark_own, text, "start")
    for inner in set(re.findall(r"\$\{([^}]*)\}", text)):  # interpolations parse alone
        assert _parsed(lark_parser(), inner, "expr") == _parsed(lark_own, inner, "expr")


@settings(max_examples=100, deadline=None)
@given(gen.modules)
def test_random_flows_parse_to_larks_tree(lark_own, module):
    text = format_module(module)
    assert _parsed(lark_parser(), text, "start") == _parsed(lark_own, text, "start")


@settings(max_examples=100, deadline=None)
@given(gen.exprs)
def test_random_expressions_parse_to_larks_tree(lark_own, expr):
    text = format_expr(expr)
    assert _parsed(lark_parser(), text, "expr") == _parsed(lark_own, text, "expr")


def test_the_installed_parser_is_the_fused_one(lark_own):
    # a guard that the comparison above compares two different builders
    rule = next(iter(lark_own.parser.parser.parser.callbacks))
    ours = lark_parser().parser.parser.parser.callbacks[rule]
    assert ours.__module__ == "ccdsl.compiler.tree_builder"
    assert lark_own.parser.parser.parser.callbacks[rule].__module__ != ours.__module__
    assert grammar.lark_parser() is lark_parser()
