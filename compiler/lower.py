"""Lowering: the checked program to the versioned JSON IR; must not report diagnostics.

The IR is the only thing the runtime reads. It is plain JSON data:
declarations in flat tables keyed by qualified name, bodies as lists of
ops that each carry the source location they came from, expressions as
data trees (compiler/lower_expr.py). Lowering never mutates the AST and
its output depends only on its input, so the same flow gives
byte-identical JSON (see ``to_json``).
"""

from __future__ import annotations

from ccdsl import __version__, ast, json_text
from ccdsl.compiler.checks.values import DAYS, minutes, weekdays
from ccdsl.compiler.in_queue import lower_keys
from ccdsl.compiler.lower_expr import Context, lower_expr, lower_str, text
from ccdsl.compiler.lower_options import lower_option_map, lower_skills
from ccdsl.compiler.lower_stmt import lower_body, lower_stmt
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.symbols import Scope, assigned_names
from ccdsl.stdlib_files import STDLIB_PREFIX

IR_VERSION = "1.4"


HANDLER_KEYS = {"start": "start", "hangup": "hangup", "error": "error",
                "answered by agent": "answered_by_agent"}


def display_path(module: LoadedModule) -> str:
    """The file name ops point at: as given for the user's files, and
    relative to the package for the standard library, so the IR does not
    depend on where ccdsl is installed."""
    if module.is_stdlib:
        return STDLIB_PREFIX + module.name.split(".", 1)[1].replace(".", "/") + ".ccf"
    return module.source.path


def lower_program(program: Program, scopes: dict[str, Scope]) -> dict:
    files = {m.source.path: display_path(m) for m in program.modules.values()}
    entry = program.entry_module
    tables: dict[str, dict] = {k: {} for k in
                               ("constants", "hours", "prompts", "queues", "routing",
                                "records", "steps", "subs")}
    for module in program.modules.values():
        ctx = Context(program, scopes, module, files)
        for item in module.module.items:
            _lower_decl(ctx, item, tables)
    entry_ctx = Context(program, scopes, entry, files)
    return {
        "ir_version": IR_VERSION,
        "compiler": f"ccdsl {__version__}",
        "flow": _flow(entry),
        "source_files": sorted(set(files.values()) | {s.path for s in program.test_sources}),
        "modules": {m.name: {"file": display_path(m), "stdlib": m.is_stdlib}
                    for m in sorted(program.modules.values(), key=lambda m: m.name)
                    if m.key != program.entry},
        **{name: dict(sorted(table.items())) for name, table in tables.items()},
        "wrapup": _wrapup(entry_ctx),
        "handlers": _handlers(entry_ctx, scopes[entry.key]),
        "tests": [_test(entry_ctx, t) for t in program.tests],
    }


def to_json(ir: dict) -> str:
    """The canonical text of an IR: what `ccf compile` writes and the
    golden files hold. Indented JSON, except that an object or list whose
    compact form fits on a short line stays on one line, so a reviewer
    can read a diff of it."""
    return _render(ir, 0) + "\n"


_LINE = 88


def _render(value, indent: int) -> str:
    flat = json_text.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if not isinstance(value, (dict, list)) or not value or indent + len(flat) <= _LINE:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json_text.dumps(k, ensure_ascii=False)}: {_render(v, indent + 2)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + _render(v, indent + 2) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


# ---- declarations ------------------------------------------------------------------


def _flow(entry: LoadedModule) -> dict:
    decl = next((i for i in entry.module.items if isinstance(i, ast.FlowDecl)), None)
    if decl is None:
        return {"name": entry.name, "title": None, "description": None, "languages": [],
                "file": entry.source.path}
    return {
        "name": decl.name,
        "title": decl.title.value if decl.title else None,
        "description": decl.description.value if decl.description else None,
        "languages": [lang.tag for lang in decl.languages],
        "file": entry.source.path,
    }


def _lower_decl(ctx: Context, item, tables: dict[str, dict]) -> None:
    match item:
        case ast.Const():
            tables["constants"][ctx.qualify(item.name)] = {
                "value": lower_expr(ctx, item.value), "loc": ctx.loc(item.span)}
        case ast.Hours():
            tables["hours"][ctx.qualify(item.name)] = _hours(ctx, item)
        case ast.Prompt():
            tables["prompts"][ctx.qualify(item.name)] = _prompt(ctx, item)
        case ast.QueueDecl():
            queue = {"options": lower_option_map(ctx, "queue", item.options),
                     "loc": ctx.loc(item.span)}
            if item.keys:  # additive: a queue without keys lowers as before
                queue["keys"] = lower_keys(ctx, item, lower_body)
            tables["queues"][ctx.qualify(item.name)] = queue
        case ast.Routing():
            tables["routing"][ctx.qualify(item.name)] = _routing(ctx, item)
        case ast.RecordDecl():
            tables["records"][ctx.qualify(item.name)] = {
                "fields": _fields(item.fields), "loc": ctx.loc(item.span)}
        case ast.Step():
            tables["steps"][ctx.qualify(item.name)] = {
                "body": lower_body(ctx, item.body), "loc": ctx.loc(item.span)}
        case ast.Sub():
            tables["subs"][ctx.qualify(item.name)] = _sub(ctx, item)


def _ranges(times) -> list[list[int]]:
    return sorted([minutes(r.start), minutes(r.end)] for r in times)


def _days(day: ast.DayRange) -> list[int]:
    # the values check has rejected (E504) every name that is not in DAYS
    first = DAYS.index(day.first)
    return weekdays(first, first if day.last is None else DAYS.index(day.last))


def _hours(ctx: Context, item: ast.Hours) -> dict:
    weekly: dict[str, list[list[int]]] = {d: [] for d in DAYS}
    closed, opened = [], []
    for line in item.lines:
        if isinstance(line, ast.HoursWeekly):
            for day in line.days:
                for i in _days(day):
                    weekly[DAYS[i]].extend(_ranges(line.times))
            continue
        dates = {"from": line.dates.first.text,
                 "to": (line.dates.last or line.dates.first).text,
                 "label": line.label.value if line.label else None}
        if isinstance(line, ast.HoursClosed):
            closed.append(dates)
        else:
            opened.append(dates | {"times": _ranges(line.times)})
    return {
        "tz": item.tz.value if item.tz else None,
        "weekly": {d: sorted(r) for d, r in weekly.items()},
        "closed": sorted(closed, key=lambda d: (d["from"], d["to"])),
        "open": sorted(opened, key=lambda d: (d["from"], d["to"])),
        "loc": ctx.loc(item.span),
    }


def _prompt(ctx: Context, item: ast.Prompt) -> dict:
    params = item.params or ()
    pctx = ctx.with_locals(params, call_vars=False)
    return {
        "params": list(params),
        "variants": {v.lang.tag: {"kind": v.kind, "text": lower_str(pctx, v.text)}
                     for v in sorted(item.variants, key=lambda v: v.lang.tag)},
        "loc": ctx.loc(item.span),
    }


def _routing(ctx: Context, item: ast.Routing) -> dict:
    rules, otherwise = [], None
    for rule in item.rules:
        if isinstance(rule, ast.Otherwise):
            otherwise = [lower_stmt(ctx, rule.action)]
            continue
        target = (lower_skills(ctx, rule.target) if rule.kind == "skills"
                  else lower_expr(ctx, rule.target))
        rules.append({
            "kind": rule.kind,
            "target": target,
            "options": lower_option_map(ctx, f"routing {rule.kind}", rule.options),
            "when": lower_expr(ctx, rule.guard) if rule.guard is not None else None,
            "loc": ctx.loc(rule.span),
        })
    return {"rules": rules, "otherwise": otherwise, "loc": ctx.loc(item.span)}


def _fields(fields) -> list[dict]:
    return [{"name": f.name, "type": f.type.name, "optional": f.type.optional} for f in fields]


def _sub(ctx: Context, item: ast.Sub) -> dict:
    local_names = sorted(set(item.params) | set(assigned_names(item.body)))
    sctx = ctx.with_locals(local_names, call_vars=False)
    return {
        "params": list(item.params),
        "locals": local_names,
        "body": lower_body(sctx, item.body),
        "loc": ctx.loc(item.span),
    }


def _wrapup(ctx: Context) -> dict | None:
    decls = [i for i in ctx.module.module.items if isinstance(i, ast.Wrapup)]
    if not decls:
        return None
    return {"fields": _fields(f for d in decls for f in d.fields),
            "loc": ctx.loc(decls[0].span)}


def _handlers(ctx: Context, scope: Scope) -> dict:
    out: dict[str, dict | None] = {key: None for key in HANDLER_KEYS.values()}
    for event, handler in scope.handlers.items():
        key = HANDLER_KEYS.get(event)
        if key is not None:
            out[key] = {"body": lower_body(ctx, handler.body), "loc": ctx.loc(handler.span)}
    return out


# ---- tests ---------------------------------------------------------------------------


def _test(ctx: Context, test: ast.Test) -> dict:
    agents = frozenset(s.name for s in test.body if isinstance(s, ast.TestAgent))
    tctx = ctx.with_locals((), call_vars=False, agents=agents)
    return {
        "name": test.name.value,
        "loc": ctx.loc(test.span),
        "statements": [_test_stmt(tctx, s) for s in test.body],
    }


def _test_stmt(ctx: Context, s) -> dict:
    where = ctx.loc(s.span)
    match s:
        case ast.TestAt(when=when):
            return {"kind": "at", "when": when.value, "loc": where}
        case ast.TestCrm(record_type=record_type, value=value):
            return {"kind": "crm", "record": record_type, "value": lower_expr(ctx, value),
                    "loc": where}
        case ast.TestAgent(name=name, options=options):
            return {"kind": "agent", "name": name,
                    "options": lower_option_map(ctx, "test agent", options), "loc": where}
        case ast.TestCall(options=options):
            return {"kind": "call", "options": lower_option_map(ctx, "test call", options),
                    "loc": where}
        case ast.TestPress(keys=keys, options=options):
            return {"kind": "press", "keys": lower_expr(ctx, keys),
                    "options": lower_option_map(ctx, "test press", options), "loc": where}
        case ast.TestSilence(duration=duration):
            return {"kind": "silence", "duration": lower_expr(ctx, duration), "loc": where}
        case ast.TestSpeak(duration=duration):
            return {"kind": "speak", "duration": lower_expr(ctx, duration), "loc": where}
        case ast.TestHangup(options=options):
            return {"kind": "hangup",
                    "options": lower_option_map(ctx, "test hangup", options), "loc": where}
        case ast.TestExpect():
            out = {"kind": "expect", "negated": s.negated, "what": s.kind,
                   "connector": s.connector,
                   "value": _expect_value(ctx, s.value) if s.value is not None else None,
                   "loc": where}
            if s.via is not None:
                out["via"] = s.via
            if s.options:
                out["options"] = lower_option_map(ctx, "test expect queue", s.options)
            return out
        case ast.TestCrmFault():
            return {"kind": "crm_fault", "fault": s.fault, "record": s.record_type,
                    "after": lower_expr(ctx, s.after) if s.after is not None else None,
                    "loc": where}
        case ast.TestHttp():
            return {"kind": "http", "method": s.method.upper(), "url": lower_expr(ctx, s.url),
                    "options": lower_option_map(ctx, "test http", s.options), "loc": where}
    raise TypeError(f"not a test statement: {type(s).__name__}")


def _expect_value(ctx: Context, value: ast.Expr) -> dict:
    # `expect crm survey`, `expect answered by li`: a bare name that is not
    # a declaration or a test agent is a word of the expectation (a record
    # type, a state), never a call variable
    if isinstance(value, ast.Name) and value.id not in ctx.agents:
        symbol = ctx.scope.lookup(value.id)
        if symbol is None or symbol.kind == "module":
            return text(value.id)
    return lower_expr(ctx, value)
