"""A misspelt first word of a test block's line gets "did you mean" and the list of what a
test's line may start with: every word the grammar starts a test line with, in its order."""

from __future__ import annotations

import pytest

from ccdsl.compiler.parser import parse_source
from ccdsl.compiler.words import first_words
from ccdsl.source import SourceFile

FLOW = """flow demo:
  languages en-US

on start:
  answer
  hangup

test "the caller presses 1":
  call from "+8613900000000"
  {line}
  expect hangup
"""


def _error(line: str):
    module, diags = parse_source(SourceFile("demo.ccf", FLOW.format(line=line)))
    assert module is None
    (diag,) = diags
    return diag


@pytest.mark.parametrize(("line", "meant"), [
    ('pres "1"', "press"), ("expct hangup", "expect"), ("hangpu", "hangup"),
    ('silense 3s', "silence"), ('speek "yes"', "speak"), ('htp crm "https://x"', "http"),
])
def test_a_misspelt_test_word_gets_did_you_mean(line: str, meant: str) -> None:
    diag = _error(line)
    assert diag.code == "E001"
    assert diag.message == f"unknown test statement `{line.split()[0]}`"
    assert diag.help.startswith(f"did you mean `{meant}`?")
    assert (diag.span.line, diag.span.column) == (10, 3)


def test_the_hint_lists_each_test_word_once_in_the_grammars_order() -> None:
    listed = _error("zzz 1").help.split("a test's lines start with: ")[1].split(", ")
    assert listed == ["at", "crm", "agent", "call", "press", "silence", "speak", "hangup",
                      "expect", "http"]
    assert tuple(listed) == first_words("test_stmt")
