"""A `format_date` pattern written in the flow that stands for nothing (E312).

The pattern letters are ccdsl/date_patterns.py's, read by the runtime too; a
pattern computed at run time fails there, with the same message.
"""

from __future__ import annotations

from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler.program import Program
from ccdsl.date_patterns import NAMED, TOKENS, PatternError, parse
from ccdsl.diagnostics import Diagnostic, diagnostic


def check(program: Program, scopes, analysis) -> Iterator[Diagnostic]:
    for loaded in program.modules.values():
        for node in ast.walk(loaded.module.items):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "format_date":
                yield from _pattern(node)


def _pattern(call: ast.Call) -> Iterator[Diagnostic]:
    positional = [a for a in call.args if a.name is None]
    named = [a for a in call.args if a.name == "pattern"]
    arg = named[0] if named else (positional[1] if len(positional) > 1 else None)
    if arg is None or not isinstance(arg.value, ast.Str) or not arg.value.is_plain:
        return
    pattern = arg.value.value
    if pattern in NAMED:
        return
    try:
        parse(pattern)
    except PatternError as err:
        yield diagnostic(
            "E312", f"the date pattern \"{arg.value.raw}\": {err}", arg.value.span,
            help="the pattern letters are " + ", ".join(TOKENS) + "; put other letters "
                 "between `[` and `]`, or use a named pattern: " + ", ".join(NAMED),
            notes=("such as \"YYYY-MM-DD\", \"HH:mm\", \"dddd D MMMM\" or \"YYYY年M月D日\"",))
