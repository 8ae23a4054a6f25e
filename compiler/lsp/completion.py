"""Completion: statements (from the statement table), the names in scope where the cursor
is (steps after `goto`, prompts after `play`, queues, routing rules, constants, variables),
builtins, and the fields or members after a dot (`caller.`, a CRM record, a module).

The text being typed rarely parses, so the words before the cursor pick what is wanted
and the names come from the last compilation of the flow that parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types as lsp

from ccdsl import ast
from ccdsl import builtins as bi
from ccdsl.compiler.flow_files import TEST_SUFFIX
from ccdsl.compiler.infer import infer
from ccdsl.compiler.infer_env import Env
from ccdsl.compiler.lsp.completion_in_tests import complete_in_test
from ccdsl.compiler.lsp.hover import item_at
from ccdsl.compiler.lsp.index import Index, item_env
from ccdsl.compiler.statements import STATEMENTS
from ccdsl.source import Span
from ccdsl.types import describe

K = lsp.CompletionItemKind
SYMBOL_KINDS = {
    "step": K.Function, "sub-flow": K.Function, "prompt": K.Text, "queue": K.Class,
    "routing rule": K.Struct, "constant": K.Constant, "hours": K.Event, "module": K.Module,
    "record type": K.TypeParameter,
}
# what a name after a statement's keyword must be
AFTER_KEYWORD = [
    (re.compile(r"(?:^|\s|->)goto\s+\w*$"), ("step",)),
    (re.compile(r"(?:^|\s|->)play\s+\w*$"), ("prompt",)),
    (re.compile(r"(?:^|\s)prompt\s+\w*$"), ("prompt",)),
    (re.compile(r"(?:^|\s|->)route\s+\w*$"), ("routing rule",)),
    (re.compile(r"(?:^\s+|->\s*)queue\s+\w*$"), ("queue",)),
    (re.compile(r"(?:^|\s)transfer\s+queue\s+\w*$"), ("queue",)),
]
DECLARATIONS = ("flow", "use", "const", "hours", "prompt", "queue", "routing", "record",
                "wrapup", "step", "on", "sub", "test")
_DOTTED = re.compile(r"([A-Za-z_\u0080-\U0010ffff][\w.]*)\.(\w*)$")
_WORD = re.compile(r"\w*$")


@dataclass(frozen=True)
class Where:
    module_key: str
    env: Env


def complete(index: Index | None, path: str, line: int, before: str) -> list[lsp.CompletionItem]:
    """The completions at a cursor with `before` the text of its line before it."""
    found = item_at(index, path, line) if index is not None else None
    where = Where(found[0].key, item_env(index.ctx, found[0].key, found[1])) \
        if found is not None else None
    at_start = _WORD.search(before).start() == len(before) - len(before.lstrip())
    if (found is not None and isinstance(found[1], ast.Test)) or path.endswith(TEST_SUFFIX):
        in_test = complete_in_test(before, at_start and before[:1].isspace(),
                                   _test_names(where, found[1] if found else None))
        if in_test is not None:
            return in_test
    for pattern, kinds in AFTER_KEYWORD:
        if pattern.search(before):
            return _symbols(where, kinds) if where else []
    dotted = _DOTTED.search(before)
    if dotted:
        return _members(index, where, dotted.group(1)) if where else []
    if at_start and not before[:1].isspace():
        return [_keyword(k, "a declaration") for k in DECLARATIONS]
    items = _statements() if at_start else []
    if where is not None:
        items += _in_scope(where)
    return items


def _test_names(where: Where | None, test) -> dict[str, tuple[str, ...]]:
    """The names an expectation may take: the flow's by kind, and the agents the test's own
    `agent` lines declare."""
    names: dict[str, list[str]] = {}
    if where is not None:
        for name, sym in sorted(where.env.scope.symbols.items()):
            names.setdefault(sym.kind, []).append(name)
    if isinstance(test, ast.Test):
        names["agent"] = [s.name for s in test.body if isinstance(s, ast.TestAgent)]
    return {kind: tuple(found) for kind, found in names.items()}


def _keyword(word: str, detail: str) -> lsp.CompletionItem:
    return lsp.CompletionItem(word, kind=K.Keyword, detail=detail)


def _statements() -> list[lsp.CompletionItem]:
    out = {}
    for s in STATEMENTS:
        if s.keyword and s.starts_line and s.keyword not in out:
            doc = (s.node.__doc__ or "").strip().split("\n")[0]
            out[s.keyword] = lsp.CompletionItem(s.keyword, kind=K.Keyword, detail="statement",
                                                documentation=doc or None)
    return list(out.values())


def _symbols(where: Where, kinds: tuple[str, ...]) -> list[lsp.CompletionItem]:
    return [lsp.CompletionItem(name, kind=SYMBOL_KINDS.get(sym.kind), detail=sym.kind)
            for name, sym in sorted(where.env.scope.symbols.items()) if sym.kind in kinds]


def _in_scope(where: Where) -> list[lsp.CompletionItem]:
    env = where.env
    items = _symbols(where, tuple(k for k in SYMBOL_KINDS if k not in ("record type", "step")))
    names = set()
    if env.sees_call_variables:
        names |= set(env.scope.variables)
    if env.where in ("sub", "prompt"):
        names |= set(env.params)
    if env.where == "sub":
        names |= set(env.ctx.assignments(env))
    items += [lsp.CompletionItem(n, kind=K.Variable, detail="variable") for n in sorted(names)]
    for name in bi.top_level_names():
        if name == "agent" and env.where != "agent":
            continue
        b = bi.lookup(name)
        kind = K.Module if b is None else K.Function if b.kind == "function" else K.Variable
        doc = b.doc if b is not None else bi.NAMESPACES.get(name)
        items.append(lsp.CompletionItem(name, kind=kind, detail="builtin", documentation=doc))
    return items


def _chain(text: str, path: str) -> ast.Name | ast.Field:
    parts = text.split(".")
    span = Span(path, 1, 1, 1, 1)
    expr: ast.Name | ast.Field = ast.Name(parts[0], span)
    for part in parts[1:]:
        expr = ast.Field(expr, part, span)
    return expr


def _members(index: Index, where: Where, base: str) -> list[lsp.CompletionItem]:
    """What may follow `base.`: a module's sub-flows, prompts, constants, hours and queues; a
    builtin namespace's functions; a record's fields; a declaration's methods."""
    env = where.env
    if "." not in base and base in bi.NAMESPACES and env.scope.lookup(base) is None:
        return [_builtin_item(b) for b in bi.members(base)]
    t = infer(_chain(base, env.module.source.path), env, None)
    if t.kind == "module":
        scope = index.ctx.scopes[t.owner]
        return [lsp.CompletionItem(n, kind=SYMBOL_KINDS.get(s.kind), detail=s.kind)
                for n, s in sorted(scope.symbols.items())
                if s.kind in ("sub-flow", "constant", "prompt", "hours", "queue")]
    if t.kind == "record":
        record = index.ctx.records.get(t.name)
        return [lsp.CompletionItem(f.name, kind=K.Field, detail=describe(f.type),
                                   documentation=f.doc or None)
                for f in (record.fields if record else ())]
    if t.kind in bi.METHOD_RECEIVERS:
        return [_builtin_item(b) for b in bi.members(t.kind)]
    return []


def _builtin_item(b: bi.Builtin) -> lsp.CompletionItem:
    kind = K.Method if b.kind == "method" else K.Function
    return lsp.CompletionItem(b.short_name, kind=kind, detail=f"-> {describe(b.returns)}",
                              documentation=b.doc)
