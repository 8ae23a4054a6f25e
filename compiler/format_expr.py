"""The canonical text of expressions and options, for the formatter and the statement table.

Must not print statements or declarations (compiler/formatter.py and the
statement table do): both of those import this module.
"""

from __future__ import annotations

from ccdsl import ast

# ---- expressions --------------------------------------------------------------

# Binding strength, low to high, as in the grammar's expression rules.
_COND, _COALESCE, _OR, _AND, _NOT, _COMPARE, _SUM, _TERM, _UNARY, _POSTFIX, _ATOM = range(11)

# op -> (its level, the level its left operand needs, its right operand needs).
# Binary operators are left-associative; comparisons are not associative, so
# both of their operands must bind tighter than a comparison.
_BINARY = {
    "??": (_COALESCE, _COALESCE, _OR),
    "or": (_OR, _OR, _AND),
    "and": (_AND, _AND, _NOT),
    "+": (_SUM, _SUM, _TERM),
    "-": (_SUM, _SUM, _TERM),
    "*": (_TERM, _TERM, _UNARY),
    "/": (_TERM, _TERM, _UNARY),
    "%": (_TERM, _TERM, _UNARY),
}
for _op in ("==", "!=", "<", "<=", ">", ">=", "in"):
    _BINARY[_op] = (_COMPARE, _SUM, _SUM)

_ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "$": "\\$"}


def quote(text: str) -> str:
    """A string literal whose decoded value is ``text`` (no interpolation)."""
    return '"' + "".join(_ESCAPE.get(ch, ch) for ch in text) + '"'


def _map_key(entry: ast.MapEntry) -> str:
    if entry.computed is not None:
        return format_expr(entry.computed)
    return quote(entry.key) if entry.quoted else entry.key


def format_expr(e: ast.Expr, min_level: int = _COND) -> str:
    """The text of an expression, parenthesised if it binds looser than
    ``min_level`` (the level its place in the enclosing expression needs)."""
    text, level = _expr(e)
    return f"({text})" if level < min_level else text


def _expr(e: ast.Expr) -> tuple[str, int]:
    if isinstance(e, ast.Name):
        return e.id, _ATOM
    if isinstance(e, (ast.Number, ast.Duration, ast.Time, ast.Date)):
        return e.text, _ATOM
    if isinstance(e, ast.Str):
        return f'"{e.raw}"', _ATOM
    if isinstance(e, ast.Bool):
        return ("true" if e.value else "false"), _ATOM
    if isinstance(e, ast.Null):
        return "null", _ATOM
    if isinstance(e, ast.ListLit):
        return "[" + ", ".join(format_expr(i) for i in e.items) + "]", _ATOM
    if isinstance(e, ast.MapLit):
        entries = (f"{_map_key(x)}: {format_expr(x.value)}" for x in e.entries)
        return "{" + ", ".join(entries) + "}", _ATOM
    if isinstance(e, ast.Field):
        return f"{format_expr(e.obj, _POSTFIX)}.{e.name}", _POSTFIX
    if isinstance(e, ast.Call):
        args = ", ".join(format_expr(a.value) if a.name is None
                         else f"{a.name}: {format_expr(a.value)}" for a in e.args)
        return f"{format_expr(e.func, _POSTFIX)}({args})", _POSTFIX
    if isinstance(e, ast.Index):
        return f"{format_expr(e.obj, _POSTFIX)}[{format_expr(e.index)}]", _POSTFIX
    if isinstance(e, ast.Unary):
        if e.op == "not":
            return f"not {format_expr(e.operand, _NOT)}", _NOT
        return f"-{format_expr(e.operand, _UNARY)}", _UNARY
    if isinstance(e, ast.Binary):
        level, left, right = _BINARY[e.op]
        return f"{format_expr(e.left, left)} {e.op} {format_expr(e.right, right)}", level
    if isinstance(e, ast.Cond):
        return (f"{format_expr(e.then, _COALESCE)} if {format_expr(e.test, _COALESCE)} "
                f"else {format_expr(e.otherwise, _COND)}"), _COND
    raise TypeError(f"not an expression: {type(e).__name__}")


def format_option_value(v: ast.OptionValue) -> str:
    if isinstance(v, ast.RangeValue):
        return f"{format_expr(v.low)}..{format_expr(v.high)}"
    if isinstance(v, ast.EveryValue):
        what = "" if v.what is None else format_expr(v.what) + " "
        return f"{what}every {format_expr(v.interval)}"
    if isinstance(v, ast.SourceValue):
        return f"{v.kind} {format_expr(v.value)}"
    return format_expr(v)


def format_options(options: tuple[ast.Option, ...]) -> str:
    return "".join(f" {o.name} {format_option_value(o.value)}" for o in options)
