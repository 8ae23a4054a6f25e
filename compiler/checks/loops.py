"""Loops the compiler can judge from the text: a `break` outside a loop (E311)
and a `repeat` count that is no whole number from 1 to MAX_LOOP_ROUNDS (E508).

The other rules of loops live where their kind of rule does: the termination
rule in compiler/controlflow.py, the types of a loop's values in compiler/loops.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler.namespan import Sources, head_span
from ccdsl.compiler.program import Program
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.limits import MAX_LOOP_ROUNDS


def check(program: Program, scopes, analysis) -> Iterator[Diagnostic]:
    sources = program.sources()
    for loaded in program.modules.values():
        for item in loaded.module.items:
            if isinstance(item, (ast.Step, ast.Handler, ast.Sub)):
                yield from _body(item.body, False, sources)
            elif isinstance(item, ast.Routing):
                for rule in item.rules:
                    if isinstance(rule, ast.Otherwise):
                        yield from _body((rule.action,), False, sources)


def _body(body, in_loop: bool, sources: Sources) -> Iterator[Diagnostic]:
    # blocks nest at most MAX_BLOCK_DEPTH deep: the recursion is bounded
    for stmt in body:
        if isinstance(stmt, ast.Break) and not in_loop:
            yield diagnostic(
                "E311", "`break` outside a loop", head_span(stmt.span, sources),
                help="`break` leaves a `repeat` or `for each` early; to leave a step write "
                     "`goto STEP` or `hangup`")
        if isinstance(stmt, ast.Repeat):
            yield from _count(stmt)
        on_error = getattr(stmt, "on_error", None)
        if on_error is not None:
            yield from _body((on_error.action,), in_loop, sources)
        for nested in _nested(stmt):
            yield from _body(nested, in_loop or isinstance(stmt, (ast.Repeat, ast.ForEach)),
                             sources)


def _nested(stmt) -> list[tuple]:
    if isinstance(stmt, ast.If):
        return [b for _, b in stmt.branches] + ([stmt.orelse] if stmt.orelse else [])
    if isinstance(stmt, (ast.Match, ast.Menu)):
        return [arm.body for arm in stmt.arms]
    if isinstance(stmt, (ast.Repeat, ast.ForEach)):
        return [stmt.body]
    return []


def _count(stmt: ast.Repeat) -> Iterator[Diagnostic]:
    times = stmt.times
    negative = (isinstance(times, ast.Unary) and times.op == "-"
                and isinstance(times.operand, ast.Number))
    if not isinstance(times, ast.Number) and not negative:
        return  # known at run time, where the same limits hold
    value = -times.operand.value if negative else times.value
    if isinstance(value, int) and 1 <= value <= MAX_LOOP_ROUNDS:
        return
    yield diagnostic(
        "E508", f"`repeat {_text(times)}`: a loop runs a whole number of times from 1 to "
                f"{MAX_LOOP_ROUNDS}", times.span,
        help="write how many times the body runs, such as `repeat 3:`",
        notes=(f"a loop of more than {MAX_LOOP_ROUNDS} rounds is stopped at run time: a caller "
               "cannot sit through it",))


def _text(expr) -> str:
    if isinstance(expr, ast.Number):
        return expr.text
    return f"-{expr.operand.text}"
