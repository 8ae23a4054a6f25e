"""The statement table (compiler/statements.py) covers every statement, as
ccdsl/builtins.py's registry covers every builtin: a statement class or a
grammar rule without an entry fails here, not deep in the formatter."""

from __future__ import annotations

import inspect
import re
import typing
from dataclasses import is_dataclass

from ccdsl import ast, ast_stmt
from ccdsl.compiler.grammar import grammar_text
from ccdsl.compiler.statements import BY_NODE, BY_RULE, STATEMENTS

# classes of ast_stmt.py that are parts of statements, not statements
PARTS = {ast.OnError, ast.Arm, ast.ElsePattern}
TEST_LINES = set(typing.get_args(ast.TestStmt))


def _statement_classes() -> set[type]:
    return {cls for _, cls in inspect.getmembers(ast_stmt, inspect.isclass)
            if is_dataclass(cls) and cls.__module__ == ast_stmt.__name__} - PARTS - TEST_LINES


def test_every_statement_class_has_an_entry():
    missing = sorted(c.__name__ for c in _statement_classes() if c not in BY_NODE)
    assert missing == [], f"statements without an entry in compiler/statements.py: {missing}"


def test_the_stmt_union_names_every_statement_class():
    assert set(typing.get_args(ast.Stmt)) == _statement_classes()


def test_every_statement_rule_of_the_grammar_has_an_entry():
    rules = set(re.findall(r"\b([a-z_]+_stmt)\b", grammar_text()))
    rules -= {"stmt", "simple_stmt", "test_stmt"}
    assert sorted(rules - set(BY_RULE)) == []
    assert sorted(set(BY_RULE) - rules) == [], "entries naming rules the grammar lacks"


def test_each_entry_prints_one_way_and_its_keyword_is_a_grammar_keyword():
    grammar = grammar_text()
    for entry in STATEMENTS:
        assert (entry.text is None) != (entry.layout is None), entry.node.__name__
        if entry.keyword is not None:
            assert f'"{entry.keyword}"' in grammar, entry.keyword
    assert len(BY_NODE) == len(STATEMENTS) == len(BY_RULE)
