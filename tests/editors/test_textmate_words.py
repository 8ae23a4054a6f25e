"""The TextMate grammar's word lists against the language's own: grammar.lark's keywords,
the statement table, the builtins registry (through ccdsl.compiler.words). A keyword
added to the language and not to the editors' grammar fails here."""

from __future__ import annotations

import json
import re

from ccdsl.compiler import words
from ccdsl.compiler.statements import STATEMENTS
from tests.editors.conftest import GRAMMAR

# the TextMate scope of each kind of keyword
SCOPES = {
    "constant": "constant.language.ccf",
    "operator": "keyword.operator.logical.ccf",
    "control": "keyword.control.ccf",
    "statement": "keyword.other.statement.ccf",
    "declaration": "storage.type.declaration.ccf",
    "test": "keyword.other.test.ccf",
    "other": "keyword.other.ccf",
}


def grammar() -> dict:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


def alternatives(regex: str) -> set[str]:
    """The words of the first `(?:a|b|c)` or `(a|b|c)` group of a pattern."""
    found = re.search(r"\((?:\?:)?([a-z_]+(?:\|[a-z_]+)*)\)", regex)
    assert found, regex
    return set(found.group(1).split("|"))


def test_every_keyword_of_the_language_has_its_kind_in_the_grammar():
    patterns = grammar()["repository"]["keywords"]["patterns"]
    by_scope = {p["name"]: alternatives(p["match"]) for p in patterns}
    assert set(by_scope) == set(SCOPES.values())
    for kind, listed in words.kinds().items():
        assert by_scope[SCOPES[kind]] == set(listed) - set(words.TEST_LINE_WORDS), kind
    # `call` and `agent` are keywords only where they open a test's line
    opening = grammar()["repository"]["statement-line"]["patterns"][0]
    assert opening["match"].startswith("^") and alternatives(opening["match"]) == set(
        words.TEST_LINE_WORDS) and opening["captures"]["2"]["name"] == SCOPES["test"]
    assert set().union(*by_scope.values(), words.TEST_LINE_WORDS) == set(words.keywords())


def test_every_statement_word_is_a_statement_or_control_keyword():
    patterns = grammar()["repository"]["keywords"]["patterns"]
    by_scope = {p["name"]: alternatives(p["match"]) for p in patterns}
    coloured = by_scope["keyword.other.statement.ccf"] | by_scope["keyword.control.ccf"]
    assert {s.keyword for s in STATEMENTS if s.keyword} <= coloured


def test_the_declarations_at_the_start_of_a_line_are_the_grammars():
    patterns = grammar()["repository"]["declarations"]["patterns"]
    listed = set().union(*(alternatives(p["match"]) for p in patterns))
    assert listed == set(words.declarations())


def test_builtins_are_the_registrys():
    patterns = {p.get("name") or p["captures"]["1"]["name"]: alternatives(p["match"])
                for p in grammar()["repository"]["builtins"]["patterns"]}
    assert patterns == {
        "variable.language.builtin.ccf": set(words.builtin_values()),
        "support.function.builtin.ccf": set(words.builtin_functions()),
        "support.class.builtin.ccf": set(words.builtin_namespaces()),
    }


def test_the_fixed_kinds_are_keywords_of_the_grammar():
    # a word dropped from grammar.lark must leave these lists too
    for fixed in (words.CONSTANTS, words.OPERATOR_WORDS, words.CONTROL):
        assert set(fixed) <= set(words.keywords())
