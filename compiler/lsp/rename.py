"""Rename: every occurrence of a step, prompt, queue, routing rule, constant, sub-flow,
hours, variable or module alias across the workspace, in one workspace edit.

Refuses (RenameError) a new name that is no name of the language or is a keyword, and
anything declared in the standard library (its files are ccf's own).
"""

from __future__ import annotations

import re
from functools import cache

from ccdsl.compiler.flow_files import stdlib_dir
from ccdsl.compiler.grammar import grammar_text
from ccdsl.compiler.lsp.documents import Documents
from ccdsl.compiler.lsp.index import Index
from ccdsl.compiler.lsp.navigation import occurrences_of
from ccdsl.source import Span

NAME = re.compile(r"[^\W\d]\w*")


class RenameError(ValueError):
    """Why a rename cannot be done, in a sentence for the editor to show."""


@cache
def keywords() -> frozenset[str]:
    """Every quoted word of the grammar (as compiler/grammar.py finds its keywords)."""
    return frozenset(re.findall(r'"([a-z_][a-z0-9_]*)"', grammar_text()))


def check_new_name(new_name: str) -> None:
    if not NAME.fullmatch(new_name):
        raise RenameError(f"`{new_name}` is not a name: a name is a letter or `_`, then "
                          "letters, digits or `_`")
    if new_name in keywords():
        raise RenameError(f"`{new_name}` is a keyword of the language; choose another name")


def rename_spans(documents: Documents, index: Index, path: str, line: int, column: int,
                 new_name: str) -> list[Span]:
    """The spans to rewrite as new_name."""
    check_new_name(new_name)
    occurrence = index.at(path, line, column)
    if occurrence is None:
        raise RenameError("there is no step, prompt, queue, routing rule, constant, "
                          "sub-flow or variable here to rename")
    target = occurrence.target
    if target[0] == "field":
        raise RenameError("a record's field is named by the CRM's data: rename it there, "
                          "then in the record type and where it is read")
    if target[0] in ("builtin", "module"):
        raise RenameError("a builtin or a module cannot be renamed here"
                          + (" (rename its file)" if target[0] == "module" else ""))
    if target[1].startswith(stdlib_dir()):
        raise RenameError("this is declared in ccf's standard library, which is not yours "
                          "to rename")
    return [o.span for o in occurrences_of(documents, index, target, path)]
