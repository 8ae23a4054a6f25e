"""Properties of `ccf test -k`: any selector, written out as an expression, parses back
to the same selection; and on a real run the selected and the deselected tests are all
the tests, and the JSON totals count the JUnit report's testcases."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ccf_cli import ccf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_test_cli_ci import FLOW, MODULE, NAMES, TESTS

from ccdsl.runtime.testing.selection import KEYWORDS, And, Not, Or, Phrase, matches, parse

WORDS = sorted({word for name in NAMES for word in name.split()} | {"desk", "ccf", "::", "x"})


def phrase_text(draw_text) -> st.SearchStrategy[str]:
    return draw_text.filter(lambda t: t.strip() and not ('"' in t and "'" in t))


TEXT = phrase_text(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                           min_size=1, max_size=12))
NAME_TEXT = phrase_text(st.one_of(st.sampled_from(WORDS),
                                  st.lists(st.sampled_from(WORDS), min_size=2, max_size=3)
                                  .map(" ".join)))


def selectors(texts: st.SearchStrategy[str]):
    leaves = texts.map(Phrase)
    return st.recursive(leaves, lambda inner: st.one_of(
        inner.map(Not), st.tuples(inner, inner).map(lambda p: And(*p)),
        st.tuples(inner, inner).map(lambda p: Or(*p))), max_leaves=6)


def written(selector) -> str:
    """The selector as a -k expression: every operator bracketed, a phrase bare
    only when it is one plain word."""
    match selector:
        case Phrase(text):
            plain = text.split() == [text] and text not in KEYWORDS \
                and not set(text) & set("()'\"")
            if plain:
                return text
            quote = "'" if '"' in text else '"'
            return f"{quote}{text}{quote}"
        case Not(operand):
            return f"not ({written(operand)})"
        case And(left, right):
            return f"({written(left)}) and ({written(right)})"
        case Or(left, right):
            return f"({written(left)}) or ({written(right)})"
    raise TypeError(selector)


@given(selectors(TEXT | NAME_TEXT), st.lists(TEXT | NAME_TEXT, max_size=4).map("::".join))
def test_a_written_selector_parses_back_to_the_same_selection(selector, test_id: str) -> None:
    assert matches(parse(written(selector)), test_id) == matches(selector, test_id)


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("desk")
    (folder / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (folder / "desk.test.ccf").write_text(TESTS, encoding="utf-8")
    (folder / "helpers.ccf").write_text(MODULE, encoding="utf-8")
    return folder


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(selector=selectors(NAME_TEXT), fail_fast=st.booleans())
def test_selected_and_deselected_are_all_tests_and_json_counts_the_junit_cases(
        desk: Path, selector, fail_fast: bool) -> None:
    expression = written(selector)
    junit = desk / "junit.xml"
    junit.unlink(missing_ok=True)
    cwd = os.getcwd()
    os.chdir(desk)
    try:
        result = ccf("test", ".", "-k", expression, "-f", "json", "--junit", str(junit),
                     *(["-x"] if fail_fast else []))
    finally:
        os.chdir(cwd)
    wanted = [name for name in NAMES if matches(selector, f"desk.test.ccf::{name}")]
    if not wanted:
        assert result.exit_code == 2
        assert "selects none of the 5 tests" in result.stderr
        assert not junit.exists()
        return
    document = json.loads(result.stdout)
    totals = document["totals"]
    tests = document["tests"]
    assert len(tests) == len(NAMES)
    assert totals["tests"] + totals["deselected"] == len(NAMES)
    assert [t["name"] for t in tests if t["outcome"] != "deselected"] == wanted
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert totals["tests"] == len(cases)
    assert [c.get("name") for c in cases] == wanted
