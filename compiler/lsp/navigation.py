"""Go to definition and find references: steps, prompts, queues, routing rules, constants,
sub-flows, variables, `use`d modules and the standard library's flows, across the files
of the workspace.

Must not compile anything itself: documents.py hands in the indexes.
"""

from __future__ import annotations

import os

from ccdsl.compiler.lsp.documents import Documents
from ccdsl.compiler.lsp.index import Index, Occurrence, Target
from ccdsl.source import Span


def target_name(target: Target) -> str:
    """The word every occurrence of a target is written as (a module's file name)."""
    if target[0] == "module":
        return os.path.basename(target[1])[:-4]
    return target[-1].rsplit(".", 1)[-1]


def definition(index: Index, path: str, line: int, column: int) -> list[Span]:
    occurrence = index.at(path, line, column)
    if occurrence is None:
        return []
    target = occurrence.target
    if target[0] == "module":  # the module is its file
        return [Span(target[1], 1, 1, 1, 1)]
    found = index.definition(target)
    return [found.span] if found is not None else []


def references(documents: Documents, index: Index, path: str, line: int, column: int,
               include_declaration: bool) -> list[Occurrence]:
    """Every occurrence of the thing under the cursor, in every flow of the workspace
    that names it (a variable's are in its own flow only)."""
    occurrence = index.at(path, line, column)
    if occurrence is None:
        return []
    return occurrences_of(documents, index, occurrence.target, path, include_declaration)


def occurrences_of(documents: Documents, index: Index, target: Target, path: str,
                   include_declaration: bool = True) -> list[Occurrence]:
    indexes = [index] if target[0] == "var" else \
        [index, *documents.indexes_naming(target_name(target), path)]
    seen: dict[Span, Occurrence] = {}
    for each in indexes:
        for found in each.of(target):
            if include_declaration or not found.is_def:
                seen.setdefault(found.span, found)
    return sorted(seen.values(), key=lambda o: o.span)
