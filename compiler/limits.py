"""How deep blocks, expressions and list types may nest; the first two checked on lark's tree.

Must stay iterative and build no AST: the tree builder, the checks, the
lowering, the formatter and the IR's schema validation all recurse once per
level, so they only ever see what passed here (docs/language.md, "Limits").
The numbers are ccdsl/limits.py's, which the runtime reads too.
"""

from __future__ import annotations

from lark import Token, Tree

from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.limits import MAX_BLOCK_DEPTH, MAX_EXPR_DEPTH
from ccdsl.source import SourceFile, Span
from ccdsl.types import ANY, Type, list_of

# The lark rules of one level of an expression each (build_expr.py's
# `e_RULE` methods, less the leaves below; a test keeps the two in step).
OPERATIONS = frozenset({
    "cond_expr", "coalesce_expr", "or_expr", "and_expr", "not_expr", "compare_expr",
    "in_expr", "binary_expr", "neg_expr", "field_expr", "call_expr", "index_expr",
    "list_lit", "map_lit",
})
LEAVES = frozenset({
    "name_expr", "number_lit", "string_lit", "duration_lit", "time_lit", "date_lit",
    "true", "false", "null",
})
# the rules whose `block` child nests one level deeper than they stand
_OPENS_BLOCK = frozenset({"if_stmt", "elif_clause", "else_clause", "arm_block", "repeat_stmt",
                          "for_each_stmt"})

EXPR_NOTE = ("each operator, call, field, index, list and map is one level, and a chain "
             "`a or b or c` nests one level per operator")
EXPR_HELP = "give parts of it names (`is_vip = ...`), or test several values with `in [...]`"


def interpolation_key(token: Token) -> tuple[int, int]:
    """How check_nesting's budgets name a string token."""
    return token.line, token.column


def check_nesting(tree: Tree, source: SourceFile
                  ) -> tuple[list[Diagnostic], dict[tuple[int, int], int]]:
    """Every block and expression of a parsed file that nests too deep, and
    for each string the depth its interpolations may still take (by
    interpolation_key; strings not listed may take MAX_EXPR_DEPTH - 1)."""
    diags: list[Diagnostic] = []
    budgets: dict[tuple[int, int], int] = {}
    # (tree, blocks it is inside, expression depth, index of its expression in roots)
    pending: list[tuple[Tree, int, int, int]] = [(tree, 0, 0, -1)]
    roots: list[list] = []  # [outermost operation, deepest level inside it]
    while pending:
        node, blocks, depth, root = pending.pop()
        if node.data in OPERATIONS:
            depth += 1
            if root < 0:
                roots.append([node, 0])
                root = len(roots) - 1
            roots[root][1] = max(roots[root][1], depth)
        elif node.data in ("block", "on_error"):
            blocks += 1
        for child in reversed(node.children):
            if isinstance(child, Tree):
                opener = _opener(node, child) if blocks > MAX_BLOCK_DEPTH else None
                if opener is not None:
                    diags.append(_too_many_blocks(opener, source))
                    continue  # what is deeper still is the same mistake
                pending.append((child, blocks, depth, root))
            elif isinstance(child, Token):  # a token is met at its tree: the same depth
                if child.type == "STRING" and "${" in child:
                    budgets[interpolation_key(child)] = MAX_EXPR_DEPTH - depth - 1
                    if root >= 0:
                        roots[root][1] = max(roots[root][1], depth + 1)
            # else a placeholder of an optional part
    for node, deepest in roots:
        if deepest > MAX_EXPR_DEPTH:
            meta = node.meta
            diags.append(diagnostic(
                "E012", f"this expression nests {deepest} levels deep; an expression may "
                        f"nest at most {MAX_EXPR_DEPTH}",
                Span(source.path, meta.line, meta.column, meta.end_line, meta.end_column),
                help=EXPR_HELP, notes=(EXPR_NOTE,)))
    return diags, budgets


def expression_depth(tree: Tree) -> int:
    """How many levels deep an expression's tree nests (0 for a leaf)."""
    deepest = 0
    pending: list[tuple[object, int]] = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        if not isinstance(node, Tree):
            continue
        if node.data in OPERATIONS:
            depth += 1
            deepest = max(deepest, depth)
        pending.extend((child, depth) for child in node.children)
    return deepest


def _opener(node: Tree, child) -> Tree | None:
    """What opens a block if `child` of `node` is one: the statement or arm
    for a `block`, the `on error ->` itself for its action."""
    if not isinstance(child, Tree):
        return None
    if child.data == "on_error":
        return child
    return node if child.data == "block" and node.data in _OPENS_BLOCK else None


def _too_many_blocks(node: Tree, source: SourceFile) -> Diagnostic:
    # the header line of the statement or arm that opens the block too many
    line, column = node.meta.line, node.meta.column
    end = max(len(source.line_text(line).rstrip()) + 1, column + 1)
    what = {"if_stmt": "`if`", "elif_clause": "`elif`", "else_clause": "`else`",
            "on_error": "`on error ->`", "repeat_stmt": "`repeat`",
            "for_each_stmt": "`for each`"}.get(node.data, "this arm")
    return diagnostic(
        "E011", f"{what} opens a block nested {MAX_BLOCK_DEPTH + 1} deep; blocks may nest at "
                f"most {MAX_BLOCK_DEPTH} deep in a step, handler or sub-flow",
        Span(source.path, line, column, line, end),
        help="move the inner part into a step of its own (`goto`) or a sub-flow",
        notes=("`if`, `elif`, `else`, `on error ->`, `repeat`, `for each` and the arms of "
               "`match` and `menu` each open a block",))


def list_type(item: Type) -> Type:
    """A list of `item`, or of `any` when that nests lists deeper than an
    expression may: a list of lists can nest further through a chain of
    variables (`b = [a]`, `c = [b]`, ...), and types are compared and
    described by recursion."""
    depth, inner = 1, item
    while inner.kind == "list" and inner.item is not None:
        depth, inner = depth + 1, inner.item
    return list_of(item if depth <= MAX_EXPR_DEPTH else ANY)
