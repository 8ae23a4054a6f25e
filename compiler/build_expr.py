"""Expressions, options and patterns from the lark tree to the AST, and interpolations.

Must not know statements or declarations (parser.py and the statement
table build those on top of ExprBuilder), so the lowering can parse an
option's default without importing the whole parser.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError

from ccdsl import ast
from ccdsl.compiler.grammar import parse_tree
from ccdsl.compiler.limits import (
    EXPR_HELP,
    EXPR_NOTE,
    MAX_EXPR_DEPTH,
    expression_depth,
    interpolation_key,
)
from ccdsl.compiler.quoted_interpolation import quote_in_interpolation
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "$": "$", "r": "\r"}
_new_span = tuple.__new__
_SPECIAL = re.compile(r"\\|\$\{")  # where a string's plain text stops


def parse_expression(text: str, source: SourceFile, line: int, column: int,
                     diags: list[Diagnostic], budget: int = MAX_EXPR_DEPTH - 1
                     ) -> ast.Expr | None:
    """Parse an expression found inside a string interpolation; its spans are
    shifted to where it stands in the file. It may nest `budget` levels: what
    the expression holding the string leaves (compiler/limits.py)."""
    try:
        tree, depth = _expression_tree(text)
    except (UnexpectedInput, DedentError) as exc:
        col = column
        if isinstance(exc, (UnexpectedCharacters, UnexpectedToken)) and exc.column:
            col = column + max(exc.column, 1) - 1
        elif isinstance(exc, UnexpectedEOF):
            col = column + len(text)
        diags.append(diagnostic(
            "E005", f"the interpolation `${{{text}}}` is not a valid expression",
            Span(source.path, line, col, line, col + 1),
            help="write a name, a field (`order.status`) or a call between `${` and `}`"))
        return None
    if depth > budget:
        total = depth + MAX_EXPR_DEPTH - budget
        diags.append(diagnostic(
            "E012", f"the interpolation `${{{text}}}` makes its expression nest {total} levels "
                    f"deep; an expression may nest at most {MAX_EXPR_DEPTH}",
            Span(source.path, line, column - 2, line, column + len(text) + 1),
            help=EXPR_HELP, notes=(EXPR_NOTE,)))
        return None
    return ExprBuilder(source, diags, line - 1, column - 1).expr(tree)


@lru_cache(maxsize=1024)
def _expression_tree(text: str) -> tuple[Tree, int]:
    """The lark tree of an interpolation's text and how deep it nests, worked out once
    per text: a flow interpolates the same few names (`${caller.number}`) in string
    after string, and the tree is only read (positions within the text; the builder
    shifts them)."""
    tree = parse_tree(text, "expr")
    return tree, expression_depth(tree)


class ExprBuilder:
    """Turns lark trees into AST nodes. Written as explicit methods per
    rule rather than a lark Transformer so spans can be computed from the
    tree's meta before children are replaced."""

    def __init__(self, source: SourceFile, diags: list[Diagnostic],
                 line_shift: int = 0, column_shift: int = 0,
                 budgets: dict[tuple[int, int], int] | None = None) -> None:
        self.source = source
        self.diags = diags
        self.line_shift = line_shift
        self.column_shift = column_shift
        # what each string's interpolations may nest (limits.check_nesting)
        self.budgets = budgets or {}
        self._path = source.path  # span() reads these once per node
        self._shifted = bool(line_shift or column_shift)
        # a string ended by a quote meant for a string inside `${...}`: the rest of its
        # line was read as something else, so the file is not checked further
        self.string_broken = False

    # -- spans
    def span(self, node) -> Span:
        # the parser makes one per node: the tuple is made as Span's own __new__ makes
        # it, and a tree's meta read where lark's `meta` property would make one
        if type(node) is Tree:  # most nodes, in a file (not shifted): at once
            meta = node._meta
            if meta is None or meta.empty:
                return _new_span(Span, (self._path, 1, 1, 1, 1))
            if not self._shifted:
                return _new_span(Span, (self._path, meta.line, meta.column, meta.end_line,
                                        meta.end_column))
            line, col, end_line, end_col = meta.line, meta.column, meta.end_line, meta.end_column
        elif type(node) is Token or isinstance(node, Token):
            line, col, end_line, end_col = node.line, node.column, node.end_line, node.end_column
        else:
            meta = node._meta
            if meta is None or meta.empty:
                return _new_span(Span, (self._path, 1, 1, 1, 1))
            line, col, end_line, end_col = meta.line, meta.column, meta.end_line, meta.end_column
        if self._shifted:
            # shifted spans come from a one-line interpolation
            return Span(self.source.path, line + self.line_shift, col + self.column_shift,
                        end_line + self.line_shift, end_col + self.column_shift)
        return _new_span(Span, (self._path, line, col, end_line, end_col))

    # -- options
    def option(self, t: Tree) -> ast.Option:
        name, value = t.children
        return ast.Option(str(name), self.opt_value(value), self.span(t))

    def opt_value(self, t):
        if isinstance(t, Tree):
            if t.data == "range_value":
                return ast.RangeValue(self.expr(t.children[0]), self.expr(t.children[1]),
                                      self.span(t))
            if t.data == "every_value":
                return ast.EveryValue(self.expr(t.children[0]), self.span(t))
            if t.data == "periodic_value":
                return ast.EveryValue(self.expr(t.children[1]), self.span(t),
                                      what=self.expr(t.children[0]))
            if t.data == "source_value":
                return ast.SourceValue(str(t.children[0].children[0]), self.expr(t.children[1]),
                                       self.span(t))
        return self.expr(t)

    def options(self, items) -> tuple[ast.Option, ...]:
        return tuple(self.option(o) for o in items)
    def pattern(self, p):
        if isinstance(p, Token):
            sp = self.span(p)
            if p.type == "NAME":
                return ast.Name(str(p), sp)
            if p.type == "NUMBER":
                return ast.Number(str(p), sp)
            return self.string(p)
        sp = self.span(p)
        if p.data == "neg_pattern":
            return ast.Number("-" + str(p.children[0]), sp)
        if p.data == "true":
            return ast.Bool(True, sp)
        if p.data == "false":
            return ast.Bool(False, sp)
        if p.data == "null":
            return ast.Null(sp)
        return ast.ElsePattern(sp)
    # -- expressions
    def expr(self, t):
        if isinstance(t, Token):
            return self.token_expr(t)
        return getattr(self, "e_" + t.data)(t)

    def token_expr(self, tok: Token):
        sp = self.span(tok)
        if tok.type == "NAME":
            return ast.Name(str(tok), sp)
        if tok.type == "STRING":
            return self.string(tok)
        raise ValueError(f"unexpected token {tok.type}")

    def e_name_expr(self, t):
        return ast.Name(str(t.children[0]), self.span(t))

    def e_number_lit(self, t):
        return ast.Number(str(t.children[0]), self.span(t))

    def e_string_lit(self, t):
        return self.string(t.children[0])

    def e_duration_lit(self, t):
        return ast.Duration(str(t.children[0]), self.span(t))

    def e_time_lit(self, t):
        return ast.Time(str(t.children[0]), self.span(t))

    def e_date_lit(self, t):
        return ast.Date(str(t.children[0]), self.span(t))

    def e_true(self, t):
        return ast.Bool(True, self.span(t))

    def e_false(self, t):
        return ast.Bool(False, self.span(t))

    def e_null(self, t):
        return ast.Null(self.span(t))

    def e_list_lit(self, t):
        return ast.ListLit(tuple(self.expr(c) for c in t.children if c is not None), self.span(t))

    def e_map_lit(self, t):
        entries = []
        for e in t.children:
            if e is None:
                continue
            key, value = e.children
            if key.type == "STRING":
                s = self.string(key)
                entries.append(ast.MapEntry(s.raw, True, self.expr(value), self.span(e), s)
                               if not s.is_plain else
                               ast.MapEntry(s.value, True, self.expr(value), self.span(e)))
            else:
                entries.append(ast.MapEntry(str(key), False, self.expr(value), self.span(e)))
        return ast.MapLit(tuple(entries), self.span(t))

    def e_field_expr(self, t):
        obj, name = t.children
        return ast.Field(self.expr(obj), str(name), self.span(t))

    def e_call_expr(self, t):
        func, args = t.children
        out = []
        if args is not None:
            for a in args.children:
                if a is None:
                    continue
                if isinstance(a, Tree) and a.data == "named_arg":
                    out.append(ast.Arg(str(a.children[0]), self.expr(a.children[1]),
                                       self.span(a)))
                else:
                    value = self.expr(a)
                    out.append(ast.Arg(None, value, value.span))
        return ast.Call(self.expr(func), tuple(out), self.span(t))

    def e_index_expr(self, t):
        return ast.Index(self.expr(t.children[0]), self.expr(t.children[1]), self.span(t))

    def e_neg_expr(self, t):
        return ast.Unary("-", self.expr(t.children[0]), self.span(t))

    def e_not_expr(self, t):
        return ast.Unary("not", self.expr(t.children[0]), self.span(t))

    def e_binary_expr(self, t):
        left, op, right = t.children
        return ast.Binary(str(op), self.expr(left), self.expr(right), self.span(t))

    e_compare_expr = e_binary_expr

    def e_in_expr(self, t):
        return ast.Binary("in", self.expr(t.children[0]), self.expr(t.children[1]), self.span(t))

    def e_and_expr(self, t):
        return ast.Binary("and", self.expr(t.children[0]), self.expr(t.children[1]),
                          self.span(t))

    def e_or_expr(self, t):
        return ast.Binary("or", self.expr(t.children[0]), self.expr(t.children[1]), self.span(t))

    def e_coalesce_expr(self, t):
        return ast.Binary("??", self.expr(t.children[0]), self.expr(t.children[1]), self.span(t))

    def e_cond_expr(self, t):
        then, test, otherwise = t.children
        return ast.Cond(self.expr(then), self.expr(test), self.expr(otherwise), self.span(t))

    # -- strings
    def string(self, tok: Token) -> ast.Str:
        raw = str(tok)[1:-1]
        sp = self.span(tok)
        if "\\" not in raw and "${" not in raw:
            # no escape, no interpolation: what parts() makes of it, at once
            return ast.Str(raw, (raw,) if raw else (), sp)
        return ast.Str(raw, self.parts(tok, raw, sp), sp)

    def unclosed_interpolation(self, raw: str, i: int, sp: Span) -> Diagnostic:
        """E005 for the `${` at raw[i] with no `}` in the string: a quote meant to open a
        string inside it (then the file is not read further), or a `}` left out."""
        if sp.line == sp.end_line:
            meant = quote_in_interpolation(self.source, sp.line, sp.end_column - 1)
            if meant is not None:
                self.string_broken = True
                return meant
        col = sp.column + 1 + i
        return diagnostic("E005", "`${` opens an interpolation that is never closed",
                          Span(sp.file, sp.line, col, sp.line, col + 2),
                          help="close it with `}`, or write `\\$` for a literal dollar sign")

    def parts(self, tok: Token, raw: str, sp: Span) -> tuple:
        """A string's literal pieces, escapes decoded, and its interpolations parsed."""
        parts: list = []
        buf: list[str] = []
        i = 0
        while i < len(raw):
            # the plain run up to the next backslash or `${` in one piece
            found = _SPECIAL.search(raw, i)
            if found is None:
                buf.append(raw[i:])
                break
            if found.start() > i:
                buf.append(raw[i:found.start()])
                i = found.start()
            ch = raw[i]
            if ch == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                if nxt in _ESCAPES:
                    buf.append(_ESCAPES[nxt])
                else:
                    col = sp.column + 1 + i
                    self.diags.append(diagnostic(
                        "E005", f"unknown escape `\\{nxt}` in a string",
                        Span(sp.file, sp.line, col, sp.line, col + 2),
                        help='the escapes are \\n \\t \\" \\\\ and \\$ (a literal $)'))
                i += 2
                continue
            if ch == "$" and raw.startswith("${", i):
                close = raw.find("}", i + 2)
                if close == -1:
                    self.diags.append(self.unclosed_interpolation(raw, i, sp))
                    buf.append(raw[i:])
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                inner = raw[i + 2:close]
                col = sp.column + 1 + i + 2
                budget = self.budgets.get(interpolation_key(tok), MAX_EXPR_DEPTH - 1)
                expr = parse_expression(inner, self.source, sp.line, col, self.diags, budget)
                if expr is not None:
                    parts.append(expr)
                i = close + 1
                continue
            buf.append(ch)
            i += 1
        if buf:
            parts.append("".join(buf))
        return tuple(parts)
