"""Completion inside a test block: its statements, the kinds of expectation after `expect`, and
the flow's names an expectation of that kind takes (`expect played ` -> the prompts).

The words come from the grammar (compiler/words.py: test_stmt's first words, `negated`'s) and
from the checker's table of expectation kinds (compiler/checks/tests.py), never from a list
of its own.
Must not compile anything: the caller hands it the names in scope.
"""

from __future__ import annotations

import re

from lsprotocol import types as lsp

from ccdsl.compiler.checks.tests import EXPECT_KINDS
from ccdsl.compiler.words import first_words

K = lsp.CompletionItemKind
_EXPECT = re.compile(r"^\s+expect\s+(.*)$")


def complete_in_test(before: str, at_start: bool,
                     names: dict[str, tuple[str, ...]]) -> list[lsp.CompletionItem] | None:
    """The completions on a line of a test block, or None when this is no place of a
    test's own (an expression: the caller offers what is in scope). ``names`` maps a
    declaration kind (prompt, queue, step) to the flow's names of it."""
    expect = _EXPECT.match(before)
    if expect is None:
        if at_start:
            return [lsp.CompletionItem(w, kind=K.Keyword, detail="test statement")
                    for w in first_words("test_stmt")]
        return None
    rest = expect.group(1)
    # the words written before the one being typed
    done = rest.split() if rest[-1:].isspace() or not rest else rest.split()[:-1]
    negated = bool(done) and done[0] in first_words("negated")
    if negated:
        done = done[1:]
    if not done:
        items = [lsp.CompletionItem(k, kind=K.EnumMember, detail="expectation")
                 for k in EXPECT_KINDS]
        if not negated:
            items += [lsp.CompletionItem(n, kind=K.Keyword, detail="negation")
                      for n in first_words("negated")]
        return items
    kind = EXPECT_KINDS.get(done[0])
    if kind is None:
        return []
    if not kind.names:
        return None  # a value: what is in scope
    if done[1:] in ([], [kind.connector]):
        return [lsp.CompletionItem(n, kind=K.Reference, detail=decl)
                for decl in kind.names for n in names.get(decl, ())]
    return []
