"""How deep an IR document nests, measured without recursion: checked before its schema is.

Must not import the compiler. The limits are the compiler's, shared with it
(ccdsl/limits.py, docs/language.md "Limits"): part of the IR's contract.
In the IR, blocks are counted per step, handler, sub-flow or routing
`otherwise`, an op inside another's body (`if`, `match` and `menu` arms,
`on_error`) being one block deeper; and an expression's operations are each
operator, call, field, index, list, map, interpolated string, `not`, `-`
and conditional.
"""

from __future__ import annotations

from typing import Any

from ccdsl.limits import MAX_BLOCK_DEPTH, MAX_EXPR_DEPTH

# Lists and objects of any kind. The two limits above keep a compiled IR
# near 140 (the deepest the compiler allows is 132); this bounds what
# neither counts.
MAX_JSON_DEPTH = 256

# The keys whose list is a body: each of its items is an op (the schema's
# `body`, wherever it refers to it).
BODY_KEYS = frozenset({"body", "orelse", "on_error", "otherwise",
                       "on_timeout", "on_invalid", "on_exhausted"})
# The keys of an expression that holds others (docs/ir.md "Expressions");
# leaves (lit, var, const, builtin, ref, agent) hold none. An op has `op`
# too, but is told by where it stands: an item of a body.
OPERATION_KEYS = frozenset({"call", "field", "index", "op", "not", "neg", "if",
                            "interp", "list", "map"})


def depth_problem(doc: Any) -> str | None:
    """Why `doc` nests deeper than the compiler can write an IR, naming
    the limit and where it is passed; None when it does not.

    The IR's schema validation recurses once per level of blocks and of
    expressions, the most of any reader; within these limits it stays well
    inside Python's recursion limit (tests/test_compiler_limits.py), so
    this check comes first and walks the document with a stack of its own.
    The counts only ever add up along one path from the root, so a document
    is judged by its deepest path whatever its shape, valid or not."""
    seen: list[tuple[int, Any]] = []  # (parent entry, key) of each container: for the path
    # (node, its parent's entry in `seen`, its key, whether it is an item of
    # a body, ops and expression operations on its path, its depth)
    pending: list[tuple[Any, int, Any, bool, int, int, int]] = [(doc, -1, "", False, 0, 0, 1)]
    while pending:
        node, parent, key, in_body, ops, operations, depth = pending.pop()
        if isinstance(node, dict):
            if in_body:
                ops += 1
            elif OPERATION_KEYS.intersection(node):
                operations += 1
            children: Any = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        seen.append((parent, key))
        here = len(seen) - 1
        problem = _passed(ops, operations, depth)
        if problem is not None:
            return f"{problem}, at {_path(seen, here)}; was the IR edited by hand?"
        body = isinstance(node, list) and key in BODY_KEYS
        for child_key, child in children:
            if isinstance(child, (dict, list)):
                pending.append((child, here, child_key, body, ops, operations, depth + 1))
    return None


def _passed(ops: int, operations: int, depth: int) -> str | None:
    # an op at the top of a body is inside no block
    if ops - 1 > MAX_BLOCK_DEPTH:
        return (f"blocks nest {ops - 1} deep; the compiler nests them at most "
                f"{MAX_BLOCK_DEPTH} deep")
    if operations > MAX_EXPR_DEPTH:
        return (f"an expression nests {operations} levels deep; the compiler nests one at "
                f"most {MAX_EXPR_DEPTH} levels deep")
    if depth > MAX_JSON_DEPTH:
        return (f"lists and objects nest {depth} deep; an IR nests them at most "
                f"{MAX_JSON_DEPTH} deep")
    return None


def _path(seen: list[tuple[int, Any]], entry: int) -> str:
    """The JSON pointer of an entry, its middle left out when long."""
    keys: list[str] = []
    while entry > 0:
        entry, key = seen[entry]
        keys.append(str(key))
    keys.reverse()
    if len(keys) > 12:
        keys = [*keys[:6], "...", *keys[-5:]]
    return "/" + "/".join(keys)
