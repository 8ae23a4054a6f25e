"""Lowering of expressions to IR data trees; must not import the runtime.

The runtime evaluates these trees node by node; nothing is ever source
text to evaluate. Each name is classified here, once, using the module's
scope and the builtins registry, so the runtime never resolves names.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccdsl import ast
from ccdsl import builtins as registry
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.symbols import Scope

# declaration kinds as the IR names them in a {"ref": ..., "kind": ...} node
REF_KINDS = {
    "hours": "hours",
    "prompt": "prompt",
    "queue": "queue",
    "routing rule": "routing",
    "record type": "record",
    "step": "step",
    "sub-flow": "sub",
}


@dataclass(frozen=True)
class Context:
    """Where an expression stands: its module, and the names that are
    local there (a sub-flow's params and locals, a prompt's params, a
    test's agents). ``call_vars`` is False inside sub-flows and prompts,
    whose only variables are their own locals."""

    program: Program
    scopes: dict[str, Scope]
    module: LoadedModule
    files: dict[str, str]  # source path -> the file name locations show
    locals: frozenset[str] = frozenset()
    call_vars: bool = True
    agents: frozenset[str] = frozenset()

    @property
    def scope(self) -> Scope:
        return self.scopes[self.module.key]

    def qualify(self, name: str, module: LoadedModule | None = None) -> str:
        return qualified(self.program, module or self.module, name)

    def with_locals(self, names, *, call_vars: bool, agents=frozenset()) -> Context:
        return Context(self.program, self.scopes, self.module, self.files, frozenset(names),
                       call_vars, frozenset(agents))

    def loc(self, span) -> dict:
        """Where an op came from, so runtime traces point at .ccf lines."""
        return {"file": self.files.get(span.file, span.file), "line": span.line,
                "column": span.column}


def qualified(program: Program, module: LoadedModule, name: str) -> str:
    """The IR name of a declaration: bare in the entry flow, prefixed by
    the module name ("stdlib.voicemail.leave") in a used module."""
    return name if module.key == program.entry else f"{module.name}.{name}"


def lit(value, type_: str) -> dict:
    return {"lit": value, "type": type_}


def text(value: str) -> dict:
    return lit(value, "text")


# ---- names -----------------------------------------------------------------------


def _module_prefixes(ctx: Context) -> dict[tuple[str, ...], str]:
    """Every way this module can spell a used module: its full path
    (``stdlib.voicemail``) and its local name (``voicemail`` or the alias)."""
    out: dict[tuple[str, ...], str] = {}
    for item in ctx.module.module.items:
        if isinstance(item, ast.Use) and item.local_name in ctx.module.imports:
            key = ctx.module.imports[item.local_name]
            out[item.path] = key
            out[(item.local_name,)] = key
    return out


def resolve_module_member(ctx: Context, expr: ast.Expr) -> tuple[dict, int] | None:
    """A reference into a used module (``stdlib.voicemail.leave``): the IR
    node for the declaration and how many trailing field names remain."""
    parts = ast.dotted(expr)
    if parts is None or is_local(ctx, parts[0]):
        return None
    prefixes = _module_prefixes(ctx)
    for size in range(len(parts) - 1, 0, -1):
        key = prefixes.get(parts[:size])
        if key is None:
            continue
        target = ctx.program.modules[key]
        symbol = ctx.scopes[key].lookup(parts[size])
        if symbol is None:
            return None
        return _symbol_node(ctx, symbol.kind, parts[size], target), len(parts) - size - 1
    return None


def is_local(ctx: Context, name: str) -> bool:
    if name in ctx.locals:
        return True
    return ctx.call_vars and name in ctx.scope.variables


def _symbol_node(ctx: Context, kind: str, name: str, module: LoadedModule) -> dict:
    q = ctx.qualify(name, module)
    if kind == "constant":
        return {"const": q}
    return {"ref": q, "kind": REF_KINDS[kind]}


def lower_name(ctx: Context, name: str) -> dict:
    if is_local(ctx, name):
        return {"var": name}
    symbol = ctx.scope.lookup(name)
    if symbol is not None and (symbol.kind in REF_KINDS or symbol.kind == "constant"):
        return _symbol_node(ctx, symbol.kind, name, ctx.module)
    if name in ctx.agents:
        return {"agent": name}
    if _value_or_function(name):
        return {"builtin": name}
    # the checks reject any other name before lowering runs
    return {"var": name}


def _value_or_function(name: str) -> bool:
    # methods (`hours.open`) are reached through their receiver, not by name
    builtin = registry.lookup(name)
    return builtin is not None and builtin.kind != "method"


def _builtin_chain(ctx: Context, expr: ast.Expr) -> tuple[str, int] | None:
    """The longest registered builtin a field chain names
    (``crm.customer``, ``caller.number``) and how many names follow it."""
    parts = ast.dotted(expr)
    if parts is None or is_local(ctx, parts[0]) or ctx.scope.lookup(parts[0]) is not None:
        return None
    for size in range(len(parts), 0, -1):
        if _value_or_function(".".join(parts[:size])):
            return ".".join(parts[:size]), len(parts) - size
    return None


def _with_fields(node: dict, expr: ast.Expr, count: int) -> dict:
    """Wrap ``node`` in the last ``count`` field accesses of ``expr``."""
    names: list[str] = []
    while count:
        names.append(expr.name)
        expr = expr.obj
        count -= 1
    for name in reversed(names):
        node = {"field": node, "name": name}
    return node


# ---- expressions -----------------------------------------------------------------


def lower_expr(ctx: Context, expr: ast.Expr) -> dict:
    match expr:
        case ast.Name(id=name):
            return lower_name(ctx, name)
        case ast.Number():
            return lit(expr.value, "number")
        case ast.Str():
            return lower_str(ctx, expr)
        case ast.Duration():
            return lit(expr.milliseconds, "duration")
        case ast.Time():
            return lit(expr.hour * 60 + expr.minute, "time")
        case ast.Date(text=value):
            return lit(value, "date")
        case ast.Bool(value=value):
            return lit(value, "bool")
        case ast.Null():
            return lit(None, "null")
        case ast.ListLit(items=items):
            return {"list": [lower_expr(ctx, i) for i in items]}
        case ast.MapLit(entries=entries):
            node = {"map": {e.key: lower_expr(ctx, e.value) for e in entries if not e.computed}}
            computed = [{"key": lower_expr(ctx, e.computed), "value": lower_expr(ctx, e.value)}
                        for e in entries if e.computed]
            return {**node, "keys": computed} if computed else node
        case ast.Field():
            return lower_field(ctx, expr)
        case ast.Call():
            return lower_call(ctx, expr)
        case ast.Index(obj=obj, index=index):
            return {"index": lower_expr(ctx, obj), "key": lower_expr(ctx, index)}
        case ast.Unary(op="not", operand=operand):
            return {"not": lower_expr(ctx, operand)}
        case ast.Unary(operand=operand):
            return {"neg": lower_expr(ctx, operand)}
        case ast.Binary(op=op, left=left, right=right):
            return {"op": op, "left": lower_expr(ctx, left), "right": lower_expr(ctx, right)}
        case ast.Cond(then=then, test=test, otherwise=otherwise):
            return {"if": lower_expr(ctx, test), "then": lower_expr(ctx, then),
                    "else": lower_expr(ctx, otherwise)}
    raise TypeError(f"not an expression: {type(expr).__name__}")


def lower_str(ctx: Context, s: ast.Str) -> dict:
    """A plain string is a text literal; one with ``${}`` is an ``interp``
    node whose parts are text literals and expressions, in order."""
    if s.is_plain:
        return text(s.value)
    return {"interp": [text(p) if isinstance(p, str) else lower_expr(ctx, p)
                       for p in s.parts]}


def lower_field(ctx: Context, expr: ast.Field) -> dict:
    member = resolve_module_member(ctx, expr)
    if member is not None:
        node, rest = member
        return _with_fields(node, expr, rest)
    chain = _builtin_chain(ctx, expr)
    if chain is not None:
        name, rest = chain
        return _with_fields({"builtin": name}, expr, rest)
    return {"field": lower_expr(ctx, expr.obj), "name": expr.name}


def lower_args(ctx: Context, args) -> tuple[list, dict]:
    positional = [lower_expr(ctx, a.value) for a in args if a.name is None]
    named = {a.name: lower_expr(ctx, a.value) for a in args if a.name is not None}
    return positional, dict(sorted(named.items()))


def lower_call(ctx: Context, expr: ast.Call) -> dict:
    """The callee is a builtin (``{"builtin": "crm.customer"}``), a
    sub-flow (``{"ref": ..., "kind": "sub"}``) or a method of a value
    (``{"method": "open", "of": <expr>}``, as in ``office.open()``)."""
    args, kwargs = lower_args(ctx, expr.args)
    func = expr.func
    callee = lower_expr(ctx, func)
    if "field" in callee and isinstance(func, ast.Field):
        callee = {"method": callee["name"], "of": callee["field"]}
    return {"call": callee, "args": args, "kwargs": kwargs}
