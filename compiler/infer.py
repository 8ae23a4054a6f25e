"""Name resolution and type inference for expressions; must not import the runtime or the checks.

``infer(expr, env, diags)`` returns the type of an expression in a scope
(compiler/infer_env.py) and appends what is wrong with it to ``diags``
(pass None to ask for the type only).

Names are looked up in this order: sub-flow locals, the module's
declarations (record types excepted: they name types, not values), call
variables, builtins, and the first part of a `use`d module path
(`stdlib` in `stdlib.voicemail.leave()`).
"""

from __future__ import annotations

from collections.abc import Callable

from ccdsl import ast, date_patterns
from ccdsl import builtins as bi
from ccdsl.articles import article
from ccdsl.compiler import computed_keys, skills_check
from ccdsl.compiler import nullsafety as ns
from ccdsl.compiler.infer_env import (
    Context,
    Env,
    arg_name_span,
    arith_help,
    bool_help,
    compare_help,
    compare_message,
    count,
    emit,
    ref_help,
    signature_help,
    text_of,
    unknown_name,
    uses,
)
from ccdsl.compiler.limits import list_type
from ccdsl.compiler.namespan import snippet
from ccdsl.compiler.program import Program
from ccdsl.compiler.sub_returns import sub_return_type
from ccdsl.compiler.symbols import Scope, Symbol
from ccdsl.diagnostics import did_you_mean
from ccdsl.source import Span
from ccdsl.types import (
    ANY,
    BOOL,
    DATE,
    DURATION,
    NUMBER,
    TEXT,
    TIME,
    VALUE_FIELDS,
    FieldType,
    RecordType,
    Type,
    accepts,
    accepts_any,
    arithmetic,
    comparable,
    describe,
    kind_words,
    list_of,
    non_null,
    optional,
    record,
    unify,
)


# Where an expression stands. Call variables are visible in the first four.
def new_context(program: Program, scopes: dict[str, Scope]) -> Context:
    """The context of one program's inference."""
    return Context(program, scopes, infer)


# ---- names ----------------------------------------------------------------------------


def symbol_type(sym: Symbol, env: Env, diags: list | None) -> Type:
    if sym.kind == "constant":
        if diags is not None:
            env.ctx.reads.add(("const", sym.module, sym.name))
        return env.ctx.constant_type(sym.module, sym.node)
    if sym.kind == "module":
        target = env.ctx.module_by_key(env.ctx.program.modules[sym.module].imports[sym.name])
        return Type("module", target.name, owner=target.key)
    kinds = {"hours": "hours", "queue": "queue", "prompt": "prompt", "step": "step",
             "routing rule": "routing", "sub-flow": "sub"}
    return Type(kinds.get(sym.kind, "any"), sym.name, owner=sym.module)


def resolve(name: str, env: Env, diags: list | None) -> Type | None:
    """The type of a bare name, or None when nothing of that name is visible."""
    if env.is_local(name):
        if diags is not None:
            env.ctx.reads.add(("var", env.module.key, env.sub, name))
        return ANY if env.where == "prompt" else env.ctx.variable_type(env, name)
    sym = env.scope.lookup(name)
    if sym is not None and sym.kind != "record type":
        return symbol_type(sym, env, diags)
    if env.sees_call_variables and name in env.scope.variables:
        if diags is not None:
            env.ctx.reads.add(("var", env.module.key, "", name))
        return env.ctx.variable_type(env, name)
    b = bi.lookup(name)
    if b is not None and b.namespace is None and b.kind != "method":
        if b.only_in == "answered by agent" and env.where != "agent":
            return None
        return b.returns if b.kind == "value" else Type("function", b.name)
    if name in bi.NAMESPACES:
        return Type("builtins", name)
    for use in uses(env.module):
        if len(use.path) > 1 and use.path[0] == name:
            return Type("namespace", name, owner=env.module.key)
    return None


# ---- expressions ------------------------------------------------------------------------


def value_of(expr, env: Env, diags: list | None) -> Type:
    """The type of an expression used as a value: a reference to a
    declaration (a step, a queue, a prompt...) there is a mistake."""
    t = infer(expr, env, diags)
    if t.only_a_name:
        text = text_of(expr, env, t.name)
        emit(diags, "E102", f"`{text}` is {article(kind_words(t))}, not a value", expr.span,
              help=ref_help(t, text))
        return ANY
    return t


def infer(expr, env: Env, diags: list | None) -> Type:
    """The type of an expression; references to declarations are returned
    as their reference kinds (see ccdsl.types.REF_KINDS)."""
    method = _INFER.get(type(expr))
    return method(expr, env, diags) if method else ANY


def _name(e: ast.Name, env: Env, diags) -> Type:
    t = resolve(e.id, env, diags)
    if t is None:
        unknown_name(e, env, diags)
        return ANY
    return ns.narrowed(e, env, t)


def _str(e: ast.Str, env: Env, diags) -> Type:
    for part in e.parts:
        if not isinstance(part, str):
            value_of(part, env, diags)
    return TEXT


def _list(e: ast.ListLit, env: Env, diags) -> Type:
    item_type: Type | None = None
    for item in e.items:
        t = value_of(item, env, diags)
        if item_type is None:
            item_type = t
            continue
        joined = unify(item_type, t)
        if joined is None:
            emit(diags, "E300", f"a list holds values of one type, but this item is "
                  f"{describe(t)} and the ones before it are {describe(item_type)}", item.span)
            return list_of(ANY)
        item_type = joined
    return list_type(item_type or ANY)


def _map(e: ast.MapLit, env: Env, diags) -> Type:
    return computed_keys.map_type(e, env, diags, value_of)


def _field(e: ast.Field, env: Env, diags) -> Type:
    return ns.narrowed(e, env, _field_type(e, env, diags))


def _field_type(e: ast.Field, env: Env, diags) -> Type:
    base = infer(e.obj, env, diags)
    kind = base.kind
    if kind in ("any", "map", "null"):
        return ANY
    if kind == "record":
        rt = env.ctx.records.get(base.name)
        if rt is None:
            return ANY
        return _known_field(e, rt.fields, f"the record type `{rt.name}`", base.nullable, diags)
    if kind in VALUE_FIELDS:
        return _known_field(e, VALUE_FIELDS[kind], article(kind), base.nullable, diags)
    if kind == "module":
        return _module_member(e, base, env, diags)
    if kind == "namespace":
        path = f"{base.name}.{e.name}"
        for use in uses(env.module):
            full = ".".join(use.path)
            if full == path:
                target = env.ctx.module_by_key(env.module.imports[use.local_name])
                return Type("module", target.name, owner=target.key)
            if full.startswith(path + "."):
                return Type("namespace", path, owner=env.module.key)
        used = [".".join(u.path) for u in uses(env.module) if u.path[0] == base.name.split(".")[0]]
        emit(diags, "E100", f"unknown module `{path}`", e.span,
              help=did_you_mean(path, used) or f"add `use {path}` at the top of the file")
        return ANY
    # the object's text is read only for a message or a method's owner (it is not cheap)
    if kind in ("builtins", "hours", "queue"):
        receiver = base.name if kind == "builtins" else kind
        found = bi.lookup(f"{receiver}.{e.name}")
        if found is None:
            members = bi.members(receiver)
            what = f"`{base.name}`" if kind == "builtins" else f"{kind} `{text_of(e.obj, env)}`"
            noun = "function" if kind == "builtins" else "method"
            emit(diags, "E100", f"{what} has no {noun} `{e.name}`", member_span(e),
                  help=did_you_mean(e.name, [m.short_name for m in members])
                  or f"its {noun}s are: " + ", ".join(m.short_name for m in members))
            return ANY
        return Type("function", found.name,
                    owner=text_of(e.obj, env) if kind != "builtins" else "")
    obj = text_of(e.obj, env)
    if base.is_ref:
        emit(diags, "E102", f"`{obj}` is {article(kind_words(base))}, which has no fields", e.span,
              help=ref_help(base, obj))
    else:
        emit(diags, "E300", f"`{obj}` is {article(describe(base))}, which has no fields", e.span,
              help="only records (customer, order, ...) and times and dates have fields")
    return ANY


def member_span(e: ast.Field) -> Span:
    """The span of the name after the dot: `order.statu` -> `statu`."""
    s = e.span
    return Span(s.file, s.end_line, max(s.end_column - len(e.name), 1), s.end_line,
                s.end_column)


def _known_field(e: ast.Field, fields: tuple[FieldType, ...], owner: str, nullable: bool,
                 diags) -> Type:
    for f in fields:
        if f.name == e.name:
            return optional(f.type) if nullable else f.type
    names = [f.name for f in fields]
    emit(diags, "E105", f"{owner} has no field `{e.name}`", member_span(e),
          help=did_you_mean(e.name, names), notes=(f"its fields are: {', '.join(names)}",))
    return ANY


def _module_member(e: ast.Field, base: Type, env: Env, diags) -> Type:
    scope = env.ctx.scopes[base.owner]
    sym = scope.lookup(e.name)
    if sym is None or sym.kind == "record type":
        names = [n for n, s in scope.symbols.items() if s.kind in ("sub-flow", "constant",
                                                                   "prompt", "hours", "queue")]
        emit(diags, "E100", f"module `{base.name}` has no `{e.name}`", member_span(e),
              help=did_you_mean(e.name, names))
        return ANY
    if sym.kind in ("step", "routing rule", "module"):
        emit(diags, "E102", f"`{e.name}` is a {sym.kind} of module `{base.name}`; only its "
              "sub-flows, constants, prompts, hours and queues can be used from here", e.span,
              help="call a sub-flow of that module that does what you need")
        return ANY
    return symbol_type(sym, env, diags)


def _index(e: ast.Index, env: Env, diags) -> Type:
    base = non_null(value_of(e.obj, env, diags))
    idx = value_of(e.index, env, diags)
    if base.kind in ("list", "text") and ns.may_be_null(idx):
        ns.report(e.index, idx, "an index", env, diags)
    if base.kind == "list":
        if not accepts(NUMBER, idx):
            emit(diags, "E300", f"a list is indexed by a number, not {describe(idx)}",
                  e.index.span)
        return optional(base.item or ANY)
    if base.kind == "map":
        if not accepts(TEXT, idx):
            emit(diags, "E300", f"a map is indexed by text, not {describe(idx)}", e.index.span)
        return optional(base.item) if base.item else ANY
    if base.kind == "text":
        if not accepts(NUMBER, idx):
            emit(diags, "E300", f"a text is indexed by a number, not {describe(idx)}",
                  e.index.span)
        return TEXT
    if base.kind in ("any", "null"):
        return ANY
    emit(diags, "E300", f"`{text_of(e.obj, env)}` is {article(describe(base))} and cannot be "
          "indexed", e.span, help="only lists, maps and texts can be indexed with `[...]`")
    return ANY


def _unary(e: ast.Unary, env: Env, diags) -> Type:
    t = non_null(operand := value_of(e.operand, env, diags))
    if e.op == "not":
        if t.kind not in ("bool", "any"):
            emit(diags, "E300", f"`not` needs a bool, not {describe(t)}", e.operand.span,
                  help=bool_help(t, text_of(e.operand, env)))
        return BOOL
    if t.kind not in ("number", "duration", "any"):
        emit(diags, "E300", f"`-` needs a number or a duration, not {describe(t)}", e.span)
        return ANY
    if ns.may_be_null(operand):
        ns.report(e.operand, operand, "`-`", env, diags, lambda fixed: f"-{fixed}")
    return t


def _binary(e: ast.Binary, env: Env, diags) -> Type:
    op = e.op
    left = value_of(e.left, env, diags)
    # the right of `and` runs only when the left holds, of `or` when it does not
    right = value_of(e.right, ns.with_facts(env, ns.facts(e.left, op == "and"))
                     if op in ("and", "or") else env, diags)
    if op in ("and", "or"):
        for side, t, word in ((e.left, left, "left"), (e.right, right, "right")):
            if non_null(t).kind not in ("bool", "any"):
                emit(diags, "E300", f"`{op}` needs a bool on both sides, but the {word} side "
                      f"is {describe(t)}", side.span, help=bool_help(t, text_of(side, env)))
        return BOOL
    if op == "??":
        joined = unify(non_null(left), right)
        if joined is None:
            emit(diags, "E300", f"the two sides of `??` have different types: "
                  f"{describe(left)} and {describe(right)}", e.span,
                  help="the value after `??` replaces a null, so it must have the same type")
            return non_null(left)
        return joined if right.nullable or right.kind == "any" else non_null(joined)
    if op in ("==", "!=", "<", "<=", ">", ">="):
        if not comparable(op, non_null(left), non_null(right)):
            emit(diags, "E300", compare_message(op, left, right), e.span,
                  help=compare_help(left, right))
        elif op not in ("==", "!="):
            ns.check_operands(e, left, right, env, diags)
        return BOOL
    if op == "in":
        r = non_null(right)
        if r.kind == "list":
            item = r.item or ANY
            if not comparable("==", non_null(left), item):
                emit(diags, "E300", f"`in` looks for {describe(left)} in a list of "
                      f"{describe(item)}", e.span)
        elif r.kind == "text":
            if non_null(left).kind not in ("text", "any"):
                emit(diags, "E300", f"`in` looks for a text inside a text, not "
                      f"{describe(left)}", e.left.span)
            elif ns.may_be_null(left):
                ns.report(e.left, left, "`in` a text", env, diags, lambda f: f"{f} in ...")
        elif r.kind == "map":
            if non_null(left).kind not in ("text", "any"):
                emit(diags, "E300", f"`in` looks for a key (a text) in a map, not "
                      f"{describe(left)}", e.left.span)
        elif r.kind != "any":
            emit(diags, "E300", f"`in` needs a list, a text or a map on its right, not "
                  f"{describe(right)}", e.right.span)
        return BOOL
    result = arithmetic(op, non_null(left), non_null(right))
    if result is None:
        emit(diags, "E300", f"`{op}` cannot combine {describe(left)} and {describe(right)}",
              e.span, help=arith_help(op, left, right))
        return ANY
    ns.check_operands(e, left, right, env, diags)
    return result


def _cond(e: ast.Cond, env: Env, diags) -> Type:
    condition(e.test, env, diags, "a conditional expression")
    a = value_of(e.then, ns.with_facts(env, ns.facts(e.test, True)), diags)
    b = value_of(e.otherwise, ns.with_facts(env, ns.facts(e.test, False)), diags)
    joined = unify(a, b)
    if joined is None:
        emit(diags, "E300", f"the two results of this conditional have different types: "
              f"{describe(a)} and {describe(b)}", e.span,
              help="both sides of `if ... else` must give the same type")
        return ANY
    return joined


def expect(expr, wanted: tuple[Type, ...], env: Env, diags, what: str,
           help: str | Callable[[Type], str | None] | None = None) -> Type:
    """The type of a value that must have one of the wanted types. This is
    the one place a value of the wrong type is reported (E300 "WHAT, not
    TYPE"); help may depend on the type found."""
    t = value_of(expr, env, diags)
    if not accepts_any(wanted, t):
        emit(diags, "E300", f"{what}, not {describe(t)}", expr.span,
              help=help(t) if callable(help) else help)
    return t


def condition(expr, env: Env, diags, what: str) -> None:
    """A condition must be a bool: `if customer:` is a mistake for
    `if customer != null:`."""
    t = value_of(expr, env, diags)
    if non_null(t).kind not in ("bool", "any"):
        emit(diags, "E300", f"the condition of {what} must be a bool, not {describe(t)}",
              expr.span, help=bool_help(t, text_of(expr, env)))


# ---- calls ------------------------------------------------------------------------------------


def _call(e: ast.Call, env: Env, diags) -> Type:
    f = infer(e.func, env, diags)
    label = text_of(e.func, env, "this")
    if f.kind == "function":
        b = bi.lookup(f.name)
        if b is not None and b.kind != "value":
            return _builtin_call(b, label, e, env, diags)
    if f.kind == "sub":
        sub = env.ctx.scopes[f.owner].lookup(f.name).node
        params = tuple(bi.Param(p, (ANY,)) for p in sub.params)
        bind_args(label, params, e, env, diags)
        return sub_return_type(env.ctx, f.owner, sub)
    for arg in e.args:
        value_of(arg.value, env, diags)
    if f.kind == "prompt":
        emit(diags, "E102", f"`{label}` is a prompt; prompts are played, not called", e.span,
              help=f"write `play {snippet(e.span, env.ctx.sources) or label}`")
    elif f.kind != "any":
        emit(diags, "E302", f"`{label}` is {article(kind_words(f))}, not something to call",
              e.span,
              help=ref_help(f, label) if f.is_ref and f.kind != "sub" else
              "only builtins (like `now()`), sub-flows and the methods of hours and queues "
              "can be called")
    return ANY


def bind_args(label: str, params: tuple[bi.Param, ...], e: ast.Call, env: Env, diags,
              extra: bool = False) -> tuple[dict[str, ast.Arg], list[ast.Arg]]:
    """Match a call's arguments to parameters (positional first, then by
    name) and check their count and types. With ``extra``, unknown named
    arguments are returned for the caller to check (record fields)."""
    bound: dict[str, ast.Arg] = {}
    extras: list[ast.Arg] = []
    names = [p.name for p in params]
    position = 0
    named_seen = False
    unknown_named = False  # then a missing parameter is most likely that one, misnamed
    for arg in e.args:
        if arg.name is None:
            if named_seen:
                emit(diags, "E301", "a positional argument cannot follow a named one",
                      arg.span, help="name this argument too, or move it before the named ones")
                value_of(arg.value, env, diags)
                continue
            if position >= len(params):
                emit(diags, "E301", f"`{label}` takes {count(len(params))}, but this is "
                      f"argument {position + 1}", arg.span, help=signature_help(label, params))
                value_of(arg.value, env, diags)
                position += 1
                continue
            bound[params[position].name] = arg
            position += 1
            continue
        named_seen = True
        if arg.name in bound:
            emit(diags, "E301", f"the argument `{arg.name}` is given twice", arg.span)
            value_of(arg.value, env, diags)
        elif arg.name in names:
            bound[arg.name] = arg
        elif extra:
            if any(a.name == arg.name for a in extras):
                emit(diags, "E301", f"the argument `{arg.name}` is given twice", arg.span)
            extras.append(arg)
        else:
            emit(diags, "E301", f"`{label}` has no parameter `{arg.name}`",
                  arg_name_span(arg),
                  help=did_you_mean(arg.name, names) or signature_help(label, params))
            value_of(arg.value, env, diags)
            unknown_named = True
    for p in params:
        if p.required and p.name not in bound and not unknown_named:
            emit(diags, "E301", f"`{label}` needs the argument `{p.name}`", e.span,
                  help=signature_help(label, params))
    for p in params:
        arg = bound.get(p.name)
        if arg is None or p.form in ("record_type", "record"):
            continue
        if p.form == "skills":
            skills_check.check_skills(arg.value, env, diags, value_of)
            continue
        if p.form == "date_pattern" and isinstance(arg.value, ast.Str) and arg.value.is_plain:
            _date_pattern(arg.value, diags)
        t = value_of(arg.value, env, diags)
        if not accepts_any(p.types, t):
            wanted = " or ".join(describe(x) for x in p.types)
            emit(diags, "E301", f"the argument `{p.name}` of `{label}` must be {wanted}, "
                  f"not {describe(t)}", arg.value.span)
    return bound, extras


def _date_pattern(value: ast.Str, diags) -> None:
    """E312: a pattern written in the flow that stands for nothing (one computed
    at run time fails there, with the same message)."""
    if value.value in date_patterns.NAMED:
        return
    try:
        date_patterns.parse(value.value)
    except date_patterns.PatternError as err:
        emit(diags, "E312", f"the date pattern \"{value.raw}\": {err}", value.span,
             help="the pattern letters are " + ", ".join(date_patterns.TOKENS) + "; put other "
                  "letters between `[` and `]`, or use a named pattern: "
                  + ", ".join(date_patterns.NAMED),
             notes=("such as \"YYYY-MM-DD\", \"HH:mm\", \"dddd D MMMM\" or \"YYYY年M月D日\"",))


def _builtin_call(b: bi.Builtin, label: str, e: ast.Call, env: Env, diags) -> Type:
    if b.kind == "function" and b.can_fail and diags is not None:
        env.ctx.external_calls.append((b.name, e.span))
    bound, extras = bind_args(label, b.params, e, env, diags, extra=b.record_fields is not None)
    if b.returns_item_of is not None and b.returns_item_of in bound:
        items = value_of(bound[b.returns_item_of].value, env, None)
        return items.item if items.kind == "list" and items.item is not None else b.returns
    if b.record_fields is None:
        return b.returns
    first = bound.get(b.params[0].name)
    rt: RecordType | None = None
    if b.record_fields == "type_arg":
        rt = _record_type_arg(first, label, env, diags) if first is not None else None
        if b.name == "crm.find" and first is not None and not extras:
            emit(diags, "E301", f"`{label}` needs at least one field to match", e.span,
                  help=f"name the fields to match: `{label}(\"order\", number: order_no)`")
    elif first is not None:
        t = value_of(first.value, env, diags)
        if t.kind == "record":
            rt = env.ctx.records.get(t.name)
            if rt is not None and not rt.crm:
                emit(diags, "E301", f"`{label}` changes CRM records, and {t.name} is not one",
                      first.value.span)
                rt = None
        elif t.kind != "any":
            emit(diags, "E301", f"the first argument of `{label}` must be a CRM record, not "
                  f"{describe(t)}", first.value.span)
    for arg in extras:
        t = value_of(arg.value, env, diags)
        if rt is None:
            continue
        f = rt.field(arg.name)
        if f is None:
            emit(diags, "E105", f"the record type `{rt.name}` has no field `{arg.name}`",
                  arg_name_span(arg), help=did_you_mean(arg.name, rt.field_names),
                  notes=(f"its fields are: {', '.join(rt.field_names)}",))
        elif not accepts(optional(f.type), t):
            emit(diags, "E301", f"the field `{arg.name}` of {rt.name} is "
                  f"{describe(f.type)}, not {describe(t)}", arg.value.span)
    if rt is None:
        return ANY
    return record(rt.name, nullable=b.name == "crm.find")


def _record_type_arg(arg: ast.Arg, label: str, env: Env, diags) -> RecordType | None:
    value = arg.value
    if not (isinstance(value, ast.Str) and value.is_plain):
        crm_types = _crm_types(env)
        value_of(value, env, diags)
        emit(diags, "E109", f"the first argument of `{label}` must be a string literal naming "
              "a record type", value.span,
              help="write the type in quotes: " + ", ".join(f'"{n}"' for n in crm_types))
        return None
    rt = env.ctx.records.get(value.value)
    if rt is None or not rt.crm:
        crm_types = _crm_types(env)
        emit(diags, "E109", f"unknown record type `{value.value}`", value.span,
              help=did_you_mean(value.value, crm_types)
              or "the CRM's record types are: " + ", ".join(crm_types))
        return None
    return rt


def _crm_types(env: Env) -> list[str]:
    """The CRM's record types, for a message: sorted only when one is made."""
    return sorted(n for n, r in env.ctx.records.items() if r.crm)


_INFER = {
    ast.Name: _name,
    ast.Number: lambda e, env, d: NUMBER,
    ast.Str: _str,
    ast.Duration: lambda e, env, d: DURATION,
    ast.Time: lambda e, env, d: TIME,
    ast.Date: lambda e, env, d: DATE,
    ast.Bool: lambda e, env, d: BOOL,
    ast.Null: lambda e, env, d: Type("null", nullable=True),
    ast.ListLit: _list,
    ast.MapLit: _map,
    ast.Field: _field,
    ast.Call: _call,
    ast.Index: _index,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Cond: _cond,
}
