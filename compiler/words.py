"""The words of the .ccf language by kind: derived from grammar.lark, the statement table and
the builtins registry, so a new keyword needs no second list.

Read by the Pygments lexer (checked against the editors' TextMate grammar, tests/editors/),
the syntax errors' "did you mean" and the language server's completion; must not parse
flows or decide what a word means in context.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from ccdsl import builtins
from ccdsl.compiler.grammar import grammar_text
from ccdsl.compiler.statements import STATEMENTS

CONSTANTS = ("true", "false", "null")
# the operators spelt as words (`x in list` and `a if c else b` read as keywords too)
OPERATOR_WORDS = ("and", "or", "not", "in")
# the words whose statements change where the call goes next
CONTROL = ("if", "elif", "else", "match", "menu", "repeat", "for", "each", "goto", "return",
           "break", "otherwise", "when")
# the builtin values that also open a test's line (`call from "+1"`, `agent ann ...`):
# keywords only there, the call and the agent anywhere else
TEST_LINE_WORDS = ("agent", "call")


@lru_cache(maxsize=1)
def _rules() -> dict[str, list[str]]:
    """Each rule of the grammar with its alternatives, as text (the grammar read once)."""
    rules: dict[str, list[str]] = {}
    current = None
    for line in grammar_text().splitlines():
        if line.lstrip().startswith("//") or not line.strip():
            continue
        head = re.match(r"^[?!]?(\w+):\s*(.*)$", line)
        if head:
            current = head.group(1)
            rules[current] = [head.group(2)]
        elif current and line.lstrip().startswith("|"):
            rules[current].append(line.lstrip()[1:])
    return rules


@cache
def first_words(rule: str) -> tuple[str, ...]:
    """The keywords the alternatives of a grammar rule start with, in the grammar's order,
    each once: test_stmt's (`at`, `crm`, `agent`, ...), negated's (`not`)."""
    return tuple(dict.fromkeys(m.group(1) for alt in _rules()[rule]
                               if (m := re.match(r'\s*"([a-z_]+)"', alt))))


@lru_cache(maxsize=1)
def keywords() -> frozenset[str]:
    """Every word the grammar spells in quotes: a keyword wherever the parser expects it."""
    return frozenset(re.findall(r'"([a-z_][a-z0-9_]*)"', grammar_text()))


@lru_cache(maxsize=1)
def declarations() -> frozenset[str]:
    """The words that open a top-level declaration (`step`, `queue`, `on`, ...)."""
    items = [alt.strip() for alt in _rules()["item"]]
    return frozenset(w for rule in items for w in first_words(rule))


@lru_cache(maxsize=1)
def statements() -> frozenset[str]:
    """The words that name a statement, from the statement table."""
    return frozenset(s.keyword for s in STATEMENTS if s.keyword)


@lru_cache(maxsize=1)
def test_words() -> frozenset[str]:
    """The words that open a line of a `test` block (`call`, `press`, `expect`, ...)."""
    return frozenset(first_words("test_stmt"))


def builtin_values() -> tuple[str, ...]:
    return tuple(n for n in builtins.top_level_names()
                 if (b := builtins.lookup(n)) is not None and b.kind == "value")


def builtin_functions() -> tuple[str, ...]:
    return tuple(n for n in builtins.top_level_names()
                 if (b := builtins.lookup(n)) is not None and b.kind == "function")


def builtin_namespaces() -> tuple[str, ...]:
    return tuple(builtins.NAMESPACES)


@lru_cache(maxsize=1)
def kinds() -> dict[str, frozenset[str]]:
    """Every keyword in exactly one kind, the first of this order that claims it: `queue`
    and `record` are statements as well as declarations, `hangup` a test word too."""
    claims = (("constant", CONSTANTS), ("operator", OPERATOR_WORDS), ("control", CONTROL),
              ("statement", statements()), ("declaration", declarations()),
              ("test", test_words()))
    left = set(keywords())
    out = {}
    for kind, words in claims:
        out[kind] = frozenset(words) & left
        left -= out[kind]
    out["other"] = frozenset(left)
    return out
