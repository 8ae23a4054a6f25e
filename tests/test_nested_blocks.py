"""The blocks nested in a statement are known in one place (compiler/symbols.py's
BODIES): the checks' walk, a sub-flow's return type and every statement walk read it,
so a new block statement missing from it fails here rather than going unchecked."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.compiler.statements import STATEMENTS
from ccdsl.compiler.symbols import BODIES

BLOCKS = [s for s in STATEMENTS if s.layout is not None]  # printed as a block of lines


def test_there_are_block_statements_to_check() -> None:
    assert {s.keyword for s in BLOCKS} >= {"if", "match", "menu", "repeat", "for"}


@pytest.mark.parametrize("entry", BLOCKS, ids=[s.rule for s in BLOCKS])
def test_every_block_statement_names_its_bodies(entry) -> None:
    assert BODIES[entry.node] is not None, \
        f"{entry.node.__name__} holds blocks: add it to compiler/symbols.py's BODIES"


@pytest.mark.parametrize("entry", [s for s in STATEMENTS if s.layout is None],
                         ids=[s.rule for s in STATEMENTS if s.layout is None])
def test_a_one_line_statement_has_no_bodies(entry) -> None:
    assert BODIES[entry.node] is None


SUBS = {
    "if": "  if n > 1:\n    return \"big\"\n  elif n > 0:\n    return 1\n  return \"none\"\n",
    "else": "  if n > 1:\n    x = 1\n  else:\n    return 1\n  return \"none\"\n",
    "match": "  match n:\n    1 -> return 1\n    2 -> return \"two\"\n  return \"none\"\n",
    "repeat": "  repeat 2:\n    return 1\n  return \"none\"\n",
    "for each": "  for each c in [1, 2]:\n    return c\n  return \"none\"\n",
}


@pytest.mark.parametrize("kind", SUBS)
def test_a_return_inside_each_block_counts_for_the_sub_type(tmp_path: Path, kind) -> None:
    # two returns of different types, one inside the block: the sub's type is then
    # unknown (any), so `x + 1` is not an error; with the block's return missed, the
    # sub would be text and `+ 1` an E300
    path = tmp_path / "demo.ccf"
    path.write_text(textwrap.dedent("""\
        flow demo

        on start:
          answer
          x = pick(2) + 1
          hangup

        sub pick(n):
        """) + SUBS[kind], encoding="utf-8")
    errors = [d for d in compile_file(str(path), lower=False).diagnostics if d.is_error]
    assert errors == []
