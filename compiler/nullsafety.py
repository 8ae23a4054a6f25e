"""Null safety (docs/language.md "Null safety"): which operators refuse a value that may be null
(E304), and the narrowing that proves a value is not null; must not import the runtime or checks.

A value is narrowed by its path (`customer`, `customer.balance`): after
`if x != null:`, inside `x != null and ...`, after `if x == null: ... goto`,
and after `x = VALUE` where VALUE cannot be null. An assignment to `x`
forgets what was known of `x` and of every path below it.
"""

from __future__ import annotations

from collections.abc import Callable

from ccdsl import ast
from ccdsl.compiler.controlflow import body_ends, is_terminal
from ccdsl.compiler.infer_env import Env, emit, text_of
from ccdsl.compiler.symbols import nested_bodies, nested_statements, walk_statements
from ccdsl.types import Type, non_null

# the operators that fail at run time on a null operand (the runtime's
# evaluate.compare/arithmetic/negate raise a FlowError for them)
ORDERING = frozenset(("<", "<=", ">", ">="))
ARITHMETIC = frozenset(("+", "-", "*", "/", "%"))

# a default to suggest after `??`, by the kind of value that may be null
_DEFAULTS = {"number": "0", "text": '""', "duration": "0s", "list": "[]", "bool": "false"}


def may_be_null(t: Type) -> bool:
    """A value of this type may be null at run time (the null literal is
    judged by the type rules: `x > null` is a type mismatch)."""
    return t.nullable and t.kind not in ("null", "any")


def path_of(expr) -> str | None:
    """The path that names a value (`customer`, `customer.balance`), or None
    for any other expression: only these can be narrowed."""
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Field):
        base = path_of(expr.obj)
        return None if base is None else f"{base}.{expr.name}"
    return None


def narrowed(expr, env: Env, t: Type) -> Type:
    """The type of a name or field once narrowing is applied."""
    if env.narrowed and t.nullable and path_of(expr) in env.narrowed:
        return non_null(t)
    return t


def with_facts(env: Env, paths: frozenset[str]) -> Env:
    return env if not paths or paths <= env.narrowed else env.with_narrowed(env.narrowed | paths)


def forget(env: Env, names) -> Env:
    """The env after assignments to these names: nothing is known of them."""
    names = set(names)
    if not names or not env.narrowed:
        return env
    kept = frozenset(p for p in env.narrowed if p.split(".", 1)[0] not in names)
    return env if len(kept) == len(env.narrowed) else env.with_narrowed(kept)


# ---- what a condition proves ------------------------------------------------------------


def facts(test, holds: bool) -> frozenset[str]:
    """The paths that are not null when `test` evaluates to `holds`."""
    if isinstance(test, ast.Unary) and test.op == "not":
        return facts(test.operand, not holds)
    if not isinstance(test, ast.Binary):
        return frozenset()
    op = test.op
    if op == "and":
        if holds:
            return facts(test.left, True) | facts(test.right, True)
        return facts(test.left, False) & facts(test.right, False)
    if op == "or":
        if holds:
            return facts(test.left, True) & facts(test.right, True)
        return facts(test.left, False) | facts(test.right, False)
    if op in ("==", "!="):
        for side, other in ((test.left, test.right), (test.right, test.left)):
            path = path_of(side)
            if path is None:
                continue
            if isinstance(other, ast.Null):
                # `x != null` holds, or `x == null` does not
                return frozenset((path,)) if holds == (op == "!=") else frozenset()
            if op == "==" and holds and _literal(other):
                return frozenset((path,))  # equal to a value, so not null
    return frozenset()


def _literal(expr) -> bool:
    return isinstance(expr, (ast.Number, ast.Str, ast.Bool, ast.Duration, ast.Time, ast.Date))


# ---- statements -------------------------------------------------------------------------


def if_envs(stmt: ast.If, env: Env) -> tuple[list[Env], Env]:
    """The env of each body of an `if` (branches, then the else) and the
    env after it: what every body that can fall through proves."""
    routings = env.ctx.routings(env.module)
    bodies: list[Env] = []
    after: list[frozenset[str]] = []
    failed: frozenset[str] = frozenset()  # facts of the tests that were false so far
    for test, body in stmt.branches:
        entry = with_facts(env, failed | facts(test, True))
        bodies.append(entry)
        if not body_ends(body, routings):
            after.append(_left_after(body, entry))
        failed = failed | facts(test, False)
    if stmt.orelse is not None:
        entry = with_facts(env, failed)
        bodies.append(entry)
        if not body_ends(stmt.orelse, routings):
            after.append(_left_after(stmt.orelse, entry))
    else:
        after.append(with_facts(env, failed).narrowed)
    known = frozenset.intersection(*after) if after else env.narrowed
    return bodies, forget(env.with_narrowed(known), _assigned(stmt))


def body_envs(stmt, env: Env) -> tuple[list[tuple[tuple, Env]], Env | None]:
    """Each block nested in a statement (symbols.nested_bodies) with the env it runs in,
    and the env after an `if` (None after any other statement): the checks' walk and a
    sub-flow's return type (sub_returns) read the blocks alike."""
    bodies = nested_bodies(stmt)
    if isinstance(stmt, ast.If):
        envs, after = if_envs(stmt, env)
        return list(zip(bodies, envs, strict=True)), after
    return [(body, env) for body in bodies], None


def _left_after(body, entry: Env) -> frozenset[str]:
    return forget(entry, _assigned_in(body)).narrowed


def env_after(stmt, env: Env, after_if: Env | None,
              value_type: Callable[[object, Env], Type]) -> Env:
    """The env for the statements after `stmt`."""
    if after_if is not None:
        return after_if
    if env.narrowed:  # else nothing to forget: skip walking the statement's bodies
        env = forget(env, _assigned(stmt))
    if isinstance(stmt, ast.Assign):
        on_error = stmt.on_error
        safe = on_error is None or is_terminal(on_error.action, env.ctx.routings(env.module))
        if safe and not value_type(stmt.value, env).nullable:
            return with_facts(env, frozenset((stmt.name,)))
    return env


def _assigned(stmt) -> set[str]:
    if not nested_statements(stmt):  # most statements: nothing to walk
        return {stmt.name} if isinstance(stmt, (ast.Assign, ast.Collect)) else set()
    return _assigned_in((stmt,))


def _assigned_in(body) -> set[str]:
    names = set()
    for s in walk_statements(body):
        if isinstance(s, (ast.Assign, ast.Collect)):
            names.add(s.name)
        on_error = getattr(s, "on_error", None)
        if on_error is not None and isinstance(on_error.action, (ast.Assign, ast.Collect)):
            names.add(on_error.action.name)
    return names


# ---- the rule -----------------------------------------------------------------------------


def check_operands(e: ast.Binary, left: Type, right: Type, env: Env, diags) -> bool:
    """E304 when an ordering comparison or arithmetic has an operand that
    may be null; True when one was reported."""
    for side, t in ((e.left, left), (e.right, right)):
        if may_be_null(t):
            lhs, rhs = text_of(e.left, env), text_of(e.right, env)
            report(side, t, f"`{e.op}`", env, diags,
                   lambda fixed, s=side, lhs=lhs, rhs=rhs:
                   f"{fixed if s is e.left else lhs} {e.op} {fixed if s is e.right else rhs}")
            return True
    return False


def report(side, t: Type, what: str, env: Env, diags,
           fix: Callable[[str], str] = lambda fixed: fixed) -> None:
    """E304 on `side`, with the expression rewritten with a default as help."""
    text = text_of(side, env)
    fixed = f"({text} ?? {_DEFAULTS.get(t.kind, '...')})"
    emit(diags, "E304", f"{what} needs a value, but `{text}` may be null ({t})", side.span,
         help=f"give a default: `{fix(fixed)}`, or test `{text} != null` first "
              "(with `if`, or before `and`)")
