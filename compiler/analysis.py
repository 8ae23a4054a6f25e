"""The shared walk over statements, options and expressions, for the name, type and hygiene passes.

Must not decide which pass reports what (each check keeps the codes it
owns) and must not import the checks. The walk infers the type of each
expression (compiler.infer), checks each construct's options against
ccdsl.options, and records what the hygiene check needs: which variables
and constants are read, which statements call an external builtin. The
pipeline runs it once per compile and hands the result to every pass;
each statement's own checks are its entry in compiler/statements.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccdsl import ast
from ccdsl import builtins as bi
from ccdsl.articles import article
from ccdsl.compiler import nullsafety
from ccdsl.compiler.in_queue import check_messages
from ccdsl.compiler.infer import (
    bind_args,
    condition,
    expect,
    infer,
    new_context,
    value_of,
)
from ccdsl.compiler.infer_env import Context, Env, ref_help, text_of
from ccdsl.compiler.namespan import head_span, word_span
from ccdsl.compiler.program import Program
from ccdsl.compiler.skills_check import check_skills
from ccdsl.compiler.statements import BY_NODE
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic, diagnostic, did_you_mean
from ccdsl.options import OPTIONS, ROUTING_KINDS, OptionSpec, spec
from ccdsl.source import Span
from ccdsl.types import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    NUMBER,
    TEXT,
    TIME,
    Type,
    accepts,
    comparable,
    describe,
    kind_words,
    non_null,
    record,
)


@dataclass(frozen=True)
class Analysis:
    diagnostics: tuple[Diagnostic, ...]
    reads: frozenset  # ("var", module key, sub name or "", name) and ("const", key, name)
    # (statement, builtin name, call span) for statements that call an
    # external builtin and have no `on error ->`
    unguarded: tuple[tuple[object, str, Span], ...]
    context: Context


def analyse(program: Program, scopes: dict[str, Scope]) -> Analysis:
    """The analysis of a program. The pipeline calls it once per compile
    and hands the result to every check pass."""
    return _Walker(new_context(program, scopes)).run()


SAY_KINDS = {
    "digits": (TEXT, NUMBER), "number": (NUMBER,), "money": (NUMBER,),
    "date": (DATE, DATETIME), "time": (TIME, DATETIME), "alpha": (TEXT,),
}
TRANSFER_KINDS = {
    "agent": (TEXT, record("agent")),
    "number": (TEXT,),
    "queue": (),
}
THREE_WAY_KINDS = {k: v for k, v in TRANSFER_KINDS.items() if k != "queue"}
CONSTRUCT_NAMES = {
    "menu": "`menu`", "collect": "`collect`", "queue": "a queue declaration",
    "queue statement": "`queue`", "route": "`route`", "play": "`play`", "say": "`say`",
    "transfer": "`transfer`", "transfer queue": "`transfer queue`",
    "three_way": "`three_way`", "record": "`record call`",
    "voicemail": "`voicemail`", "wait": "`wait`", "test agent": "a test's `agent` line",
    "test call": "a test's `call` line", "test press": "`press`",
    "test hangup": "a test's `hangup` line", "callback": "`callback`",
    "test expect queue": "`expect queue`", "test expect": "this expectation",
}


class _Walker:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.diags: list[Diagnostic] = []
        self.unguarded: list = []
        self.clashes: set[tuple[str, str, str]] = set()
        self.loops = 0  # the loops around the statement being checked (E311)
        self.value_type: Type | None = None  # of the assignment being checked, by its check

    def emit(self, code: str, message: str, span: Span, help: str | None = None,
             notes: tuple[str, ...] = ()) -> None:
        self.diags.append(diagnostic(code, message, span, help=help, notes=notes))

    def run(self) -> Analysis:
        program = self.ctx.program
        for key, loaded in program.modules.items():
            for item in loaded.module.items:
                self.item(item, key)
        entry = program.entry
        for test in program.tests:
            env = self.ctx.env(entry, "test")
            for stmt in test.body:
                self.test_stmt(stmt, env)
        return Analysis(tuple(self.diags), frozenset(self.ctx.reads), tuple(self.unguarded),
                        self.ctx)

    # ---- declarations ---------------------------------------------------------------

    def item(self, item, key: str) -> None:
        ctx = self.ctx
        if isinstance(item, ast.Const):
            value_of(item.value, ctx.env(key, "const"), self.diags)
        elif isinstance(item, ast.Prompt):
            env = ctx.env(key, "prompt", params=item.params or ())
            for variant in item.variants:
                value_of(variant.text, env, self.diags)
        elif isinstance(item, ast.QueueDecl):
            self.options(item.options, "queue", ctx.env(key, "decl"), item.span)
            for press in item.keys:  # checked as a handler's body is (compiler/in_queue.py)
                self.body(press.body, ctx.env(key, "queue_key"))
        elif isinstance(item, ast.Routing):
            env = ctx.env(key, "routing")
            for line in item.rules:
                if isinstance(line, ast.Rule):
                    self.rule(line, env)
                else:
                    self.body((line.action,), env)
        elif isinstance(item, ast.Step):
            self.body(item.body, ctx.env(key, "step"))
        elif isinstance(item, ast.Handler):
            where = "agent" if item.event_name == "answered by agent" else "handler"
            self.body(item.body, ctx.env(key, where))
        elif isinstance(item, ast.Sub):
            self.body(item.body, ctx.env(key, "sub", sub=item, params=item.params))

    def rule(self, rule: ast.Rule, env: Env) -> None:
        if rule.kind not in ROUTING_KINDS:
            # reported as E207 by the flow checks; only the guard is typed here
            if rule.guard is not None:
                condition(rule.guard, env, self.diags, "`when`")
            return
        target = rule.target
        if rule.kind == "skills":
            check_skills(target, env, self.diags, value_of)
        elif rule.kind == "queue":
            self.queue_ref(target, env)
        else:
            t = non_null(value_of(target, env, self.diags))
            wanted = {
                "owner": "a customer (or another CRM record with an owner)",
                "last_agent": "the caller or a customer",
                "agent": "an agent id (text) or an agent",
            }[rule.kind]
            ok = t.kind == "any" or {
                "owner": t.kind == "record" and self._has_owner(t),
                "last_agent": t.kind == "text" or (t.kind == "record"
                                                   and t.name in ("caller", "customer")),
                "agent": t.kind == "text" or (t.kind == "record" and t.name == "agent"),
            }[rule.kind]
            if not ok:
                self.emit("E300", f"`{rule.kind}` routes to {wanted}, not {describe(t)}",
                          target.span)
        self.options(rule.options, f"routing {rule.kind}", env, rule.span,
                     label=f"a routing `{rule.kind}` line")
        if rule.guard is not None:
            condition(rule.guard, env, self.diags, "`when`")

    def _has_owner(self, t: Type) -> bool:
        rt = self.ctx.records.get(t.name)
        return rt is not None and rt.field("owner") is not None

    def queue_ref(self, target, env: Env) -> None:
        t = infer(target, env, self.diags)
        if t.kind not in ("queue", "any"):
            text = text_of(target, env)
            self.emit("E102", f"`{text}` is {article(kind_words(t))}, not a queue", target.span,
                      help=self._queue_help(env))

    def _queue_help(self, env: Env) -> str:
        queues = [n for n, s in env.scope.symbols.items() if s.kind == "queue"]
        return ("the queues are: " + ", ".join(queues)) if queues else \
            "declare one: `queue NAME skills [general]`"

    # ---- statements -----------------------------------------------------------------

    def body(self, stmts, env: Env) -> None:
        for stmt in stmts:  # what a statement proves not null holds after it
            env = self.stmt(stmt, env)

    def stmt(self, stmt, env: Env) -> Env:
        ctx = self.ctx
        ctx.external_calls = []
        self.value_type = None
        BY_NODE[type(stmt)].check(self, stmt, env)
        # an assignment's check typed its value in env: null safety asks that again
        checked = self.value_type
        calls = ctx.external_calls
        ctx.external_calls = []
        on_error = getattr(stmt, "on_error", None)
        if on_error is not None:
            self.stmt(on_error.action, env)
        elif calls:
            for name, span in calls:
                self.unguarded.append((stmt, name, span))
        nested, after = nullsafety.body_envs(stmt, env)
        if nested:  # most statements hold no block
            loop = isinstance(stmt, (ast.Repeat, ast.ForEach))
            self.loops += loop
            for body, body_env in nested:
                self.body(body, body_env)
            self.loops -= loop
        if after is None and not env.narrowed and not isinstance(stmt, ast.Assign):
            return env  # what env_after gives then, without its closure

        def value_type(expr, expr_env: Env) -> Type:
            if checked is not None and expr_env is env and expr is stmt.value:
                return checked
            return value_of(expr, expr_env, None)

        return nullsafety.env_after(stmt, env, after, value_type)

    def assigned_name(self, s, env: Env) -> None:
        """A variable that has the name of a declaration or a builtin hides
        it, so reading that name becomes ambiguous. Said once per name."""
        key = (env.module.key, env.sub, s.name)
        if key in self.clashes:
            return
        self.clashes.add(key)
        sym = env.scope.lookup(s.name)
        if sym is not None and sym.kind == "record type":
            return
        if sym is None and s.name not in bi.top_level_names():
            return
        span = word_span(s.span, s.name, self.ctx.sources)
        if sym is not None:
            self.emit("E101", f"the variable `{s.name}` has the name of the {sym.kind} "
                      f"declared at line {sym.span.line}", span,
                      help="give the variable another name")
        elif s.name in bi.top_level_names():
            self.emit("E101", f"the variable `{s.name}` has the name of a builtin", span,
                      help=f"give the variable another name; `{s.name}` is "
                           + (bi.NAMESPACES.get(s.name) or bi.lookup(s.name).doc))

    def goto(self, s: ast.Goto, env: Env) -> None:
        sym = env.scope.lookup(s.target)
        if sym is not None and sym.kind == "step":
            return
        span = word_span(s.span, s.target, self.ctx.sources)
        if sym is None:
            steps = [n for n, x in env.scope.symbols.items() if x.kind == "step"]
            self.emit("E100", f"unknown step `{s.target}`", span,
                      help=did_you_mean(s.target, steps))
        elif sym.kind != "step":
            help = {
                "sub-flow": f"call a sub-flow instead: `{s.target}(...)`",
                "prompt": f"play a prompt with `play {s.target}`",
                "routing rule": f"send the call by a routing rule with `route {s.target}`",
                "queue": f"send the caller to a queue with `queue {s.target}`",
            }.get(sym.kind, "`goto` jumps to a `step`")
            self.emit("E102", f"`{s.target}` is a {sym.kind}, not a step", span, help=help)

    def route(self, s: ast.Route, env: Env) -> None:
        sym = env.scope.lookup(s.target)
        span = word_span(s.span, s.target, self.ctx.sources)
        if sym is None:
            targets = [n for n, x in env.scope.symbols.items()
                       if x.kind in ("routing rule", "queue")]
            self.emit("E100", f"unknown routing rule or queue `{s.target}`", span,
                      help=did_you_mean(s.target, targets)
                      or "declare it: `routing NAME:` or `queue NAME`")
        elif sym.kind not in ("routing rule", "queue"):
            help = f"go to a step with `goto {s.target}`" if sym.kind == "step" else \
                "`route` takes a routing rule or a queue"
            self.emit("E102", f"`{s.target}` is a {sym.kind}, not a routing rule or a queue",
                      span, help=help)
        self.options(s.options, "route", env, s.span)

    def named_queue(self, name: str, span: Span, env: Env, keyword: str) -> None:
        sym = env.scope.lookup(name)
        where = word_span(span, name, self.ctx.sources)
        if sym is None:
            queues = [n for n, x in env.scope.symbols.items() if x.kind == "queue"]
            self.emit("E100", f"unknown queue `{name}`", where,
                      help=did_you_mean(name, queues) or self._queue_help(env))
        elif sym.kind != "queue":
            help = f"use a routing rule with `route {name}`" if sym.kind == "routing rule" \
                else self._queue_help(env)
            self.emit("E102", f"`{name}` is a {sym.kind}, not a queue", where, help=help)

    def transfer(self, kind: str, target, span: Span, env: Env, keyword: str) -> None:
        kinds = TRANSFER_KINDS if keyword == "transfer" else THREE_WAY_KINDS
        if kind not in kinds:
            self.emit("E100", f"`{keyword}` goes to " + ", ".join(f"`{k}`" for k in kinds)
                      + f", not `{kind}`", word_span(span, kind, self.ctx.sources),
                      help=did_you_mean(kind, kinds))
            value_of(target, env, self.diags)
            return
        if kind == "queue":
            self.queue_ref(target, env)
            return
        wanted = " or ".join(describe(x) for x in kinds[kind])
        expect(target, kinds[kind], env, self.diags, f"`{keyword} {kind}` takes {wanted}")

    def play(self, s: ast.Play, env: Env) -> None:
        if s.source is not None:
            expect(s.target, (TEXT,), env, self.diags, f"`play {s.source}` takes a text",
                   "to speak a number write `say number N`" if s.source == "tts" else None)
        else:
            self.playable(s.target, env, "`play`")
        self.options(s.options, "play", env, s.span)

    def playable(self, target, env: Env, what: str) -> None:
        """A declared prompt (with its arguments) or a sound file literal."""
        if isinstance(target, ast.Str):
            value_of(target, env, self.diags)
            return
        call = target if isinstance(target, ast.Call) else None
        ref = call.func if call is not None else target
        if not isinstance(ref, (ast.Name, ast.Field)):
            t = value_of(target, env, self.diags)
            self.emit("E300", f"{what} takes a prompt or a sound file name, not {describe(t)}",
                      target.span, help="to speak text write `tts EXPR`; for a file `file EXPR`")
            return
        t = infer(ref, env, self.diags)
        text = text_of(ref, env)
        if t.kind == "prompt":
            prompt = self.ctx.scopes[t.owner].lookup(t.name).node
            params = tuple(bi.Param(p, (ANY,)) for p in prompt.params or ())
            if call is not None:
                if prompt.params is None:
                    self.emit("E301", f"the prompt `{text}` takes no arguments", call.span,
                              help=f"declare parameters: `prompt {t.name}(NAME):`")
                    for arg in call.args:
                        value_of(arg.value, env, self.diags)
                else:
                    bind_args(text, params, call, env, self.diags)
            elif params:
                names = ", ".join(p.name for p in params)
                self.emit("E301", f"the prompt `{text}` needs "
                          f"{'an argument' if len(params) == 1 else 'arguments'}: {names}",
                          target.span, help=f"write `play {text}({names})`")
            return
        if call is not None:
            for arg in call.args:
                value_of(arg.value, env, self.diags)
        if t.kind == "any":
            return
        if t.is_ref:
            help = ref_help(t, text)
        else:
            help = f"to speak it write `tts {text}`; to play a sound file `file {text}`"
        self.emit("E102", f"`{text}` is {article(kind_words(t))}, not a prompt", target.span,
                  help=help)

    def say(self, s: ast.Say, env: Env) -> None:
        kinds = SAY_KINDS.get(s.kind)
        if kinds is None:
            self.emit("E100", f"`say` cannot say `{s.kind}`", word_span(s.span, s.kind,
                                                                        self.ctx.sources),
                      help=did_you_mean(s.kind, SAY_KINDS)
                      or "`say` says " + ", ".join(SAY_KINDS))
            value_of(s.value, env, self.diags)
        else:
            wanted = " or ".join(describe(k) for k in kinds)
            expect(s.value, kinds, env, self.diags, f"`say {s.kind}` takes {wanted}")
        self.options(s.options, "say", env, s.span)

    def match_patterns(self, arm: ast.Arm, subject: Type, subject_expr, env: Env) -> None:
        for pattern in arm.patterns:
            if isinstance(pattern, ast.Name):
                # a named pattern is a constant (or any value in scope): resolve it
                # like an expression so unknown names and uses are recorded
                literal = value_of(pattern, env, self.diags)
                if literal.kind == "any":
                    continue
            else:
                literal = {ast.Number: NUMBER, ast.Str: TEXT, ast.Bool: BOOL}.get(type(pattern))
            if literal is None:
                continue
            if not comparable("==", non_null(subject), literal):
                help = None
                if literal.kind == "number" and non_null(subject).kind == "text":
                    help = f"`{text_of(subject_expr, env)}` is text: quote the pattern, " \
                           f"`\"{text_of(pattern, env)}\"`"
                self.emit("E300", f"this pattern is {describe(literal)}, but the value "
                          f"matched is {describe(subject)}", pattern.span, help=help)

    # ---- options ----------------------------------------------------------------------

    def options(self, options, construct: str, env: Env, span: Span,
                label: str | None = None) -> None:
        label = label or CONSTRUCT_NAMES[construct]
        specs = OPTIONS[construct]
        seen: dict[str, ast.Option] = {}
        for option in options:
            s = spec(construct, option.name)
            if s is None or option.name in seen:
                name_span = word_span(option.span, option.name, self.ctx.sources)
            if s is None:
                names = [x.name for x in specs]
                self.emit("E106", f"{label} has no option `{option.name}`", name_span,
                          help=did_you_mean(option.name, names)
                          or ("its options are: " + ", ".join(names) if names
                              else "it takes no options"))
                continue
            if option.name in seen:
                self.emit("E107", f"the option `{option.name}` is given twice", name_span,
                          help="keep one of them",
                          notes=(f"it is first given at line {seen[option.name].span.line}",))
                continue
            seen[option.name] = option
            self.option_value(option, s, env)
        for s in specs:
            if s.required and s.name not in seen:
                self.emit("E107", f"{label} needs the option `{s.name}`",
                          head_span(span, self.ctx.sources),
                          help=f"add `{s.name} ...`: {s.doc}")

    def option_value(self, option: ast.Option, s: OptionSpec, env: Env) -> None:
        value = option.value
        form = _form_words(value)  # None for a plain value
        if s.form == "skills":
            if form is not None:
                self._wrong_form(option, form, "a skills list like `[general]`")
            else:
                check_skills(value, env, self.diags, value_of)
        elif s.form == "prompt":
            if isinstance(value, ast.SourceValue):
                expect(value.value, (TEXT,), env, self.diags, f"`{value.kind}` takes a text")
            elif form is not None:
                self._wrong_form(option, form,
                                 "a prompt, a sound file, `tts TEXT` or `file NAME`")
            else:
                self.playable(value, env, f"the option `{option.name}`")
        elif s.form == "step":
            self.step_ref(option, env)
        elif s.form == "count":
            if isinstance(value, ast.RangeValue):
                for end in (value.low, value.high):
                    self._typed(option, end, s.type, env)
            elif form is not None:
                self._wrong_form(option, form, "a number or a range `lo..hi`")
            else:
                self._typed(option, value, s.type, env)
        elif s.form == "messages":
            check_messages(self, option, env)
        elif s.form == "every":
            if isinstance(value, ast.EveryValue) and value.what is None:
                self._typed(option, value.interval, s.type, env)
            else:
                self._wrong_form(option, form if form is not None else "a plain value",
                                 f"`{option.name} every {_example(s.type)}`")
        elif form is not None:
            self._wrong_form(option, form, describe(s.type))
        else:
            self._typed(option, value, s.type, env)

    def _typed(self, option: ast.Option, expr, wanted: Type, env: Env) -> None:
        what = _TAKES.get((option.name, wanted))
        if what is None:  # the same few options again and again: each message made once
            what = _TAKES[option.name, wanted] = \
                f"the option `{option.name}` takes {article(describe(wanted))}"
        expect(expr, (wanted,), env, self.diags, what,
               lambda t: f"write the number with a unit: `{text_of(expr, env, '5')}s`"
               if wanted.kind == "duration" and non_null(t).kind == "number" else None)

    def _wrong_form(self, option: ast.Option, got: str, wanted: str) -> None:
        self.emit("E300", f"the option `{option.name}` takes {wanted}, not {got}",
                  option.value.span)

    def step_ref(self, option: ast.Option, env: Env) -> None:
        value = option.value
        steps = [n for n, x in env.scope.symbols.items() if x.kind == "step"]
        if not isinstance(value, ast.Name):
            self.emit("E300", f"the option `{option.name}` takes the name of a step",
                      getattr(value, "span", option.span),
                      help=f"write `{option.name} STEP`, such as `{option.name} "
                           f"{steps[0] if steps else 'main_menu'}`")
            return
        sym = env.scope.lookup(value.id)
        if sym is None:
            self.emit("E100", f"unknown step `{value.id}`", value.span,
                      help=did_you_mean(value.id, steps))
        elif sym.kind != "step":
            self.emit("E102", f"`{value.id}` is a {sym.kind}, not a step", value.span)

    # ---- tests --------------------------------------------------------------------------

    def test_stmt(self, s, env: Env) -> None:
        if isinstance(s, ast.TestAgent):
            self.options(s.options, "test agent", env, s.span)
        elif isinstance(s, ast.TestCall):
            self.options(s.options, "test call", env, s.span)
        elif isinstance(s, ast.TestPress):
            expect(s.keys, (TEXT,), env, self.diags, "`press` takes the keys as a text",
                   f"quote the keys: `press \"{text_of(s.keys, env, '1')}\"`")
            self.options(s.options, "test press", env, s.span)
        elif isinstance(s, ast.TestHangup):
            self.options(s.options, "test hangup", env, s.span)
        elif isinstance(s, ast.TestExpect) and s.options:
            self.options(s.options, "test expect queue" if s.kind == "queue" else "test expect",
                         env, s.span, f"`expect {s.kind}`")
        elif isinstance(s, ast.TestSilence):
            expect(s.duration, (DURATION,), env, self.diags, "`silence` takes a duration",
                   "write `silence 5s`")
        elif isinstance(s, ast.TestSpeak):
            expect(s.duration, (DURATION,), env, self.diags, "`speak` takes a duration",
                   "write `speak 20s`")
        elif isinstance(s, ast.TestCrm):
            self.test_crm(s, env)
        elif isinstance(s, ast.TestHttp):
            expect(s.url, (TEXT,), env, self.diags, "`http` takes the URL as a text",
                   'write `http get "https://example.com/x" status 200`')
            self.options(s.options, "test http", env, s.span, label="a test's `http` line")
        elif isinstance(s, ast.TestCrmFault) and s.after is not None:
            expect(s.after, (DURATION,), env, self.diags, "`crm slow` takes a duration",
                   "write `crm slow 3s`")

    def test_crm(self, s: ast.TestCrm, env: Env) -> None:
        rt = self.ctx.records.get(s.record_type)
        crm_types = sorted(n for n, r in self.ctx.records.items() if r.crm)
        if rt is None or not rt.crm:
            self.emit("E109", f"unknown record type `{s.record_type}`",
                      word_span(s.span, s.record_type, self.ctx.sources),
                      help=did_you_mean(s.record_type, crm_types)
                      or "the CRM's record types are: " + ", ".join(crm_types))
            return
        if not isinstance(s.value, ast.MapLit):
            t = value_of(s.value, env, self.diags)
            self.emit("E300", f"a `crm` fixture is a map of fields, not {describe(t)}",
                      s.value.span, help=f"write `crm {rt.name} {{{rt.fields[0].name}: ...}}`")
            return
        for entry in s.value.entries:
            t = value_of(entry.value, env, self.diags)
            f = rt.field(entry.key)
            if f is None:
                self.emit("E105", f"the record type `{rt.name}` has no field `{entry.key}`",
                          word_span(entry.span, entry.key, self.ctx.sources),
                          help=did_you_mean(entry.key, rt.field_names),
                          notes=(f"its fields are: {', '.join(rt.field_names)}",))
            elif not accepts(f.type, t) and not (f.type.kind == "datetime"
                                                  and non_null(t).kind == "text"):
                self.emit("E300", f"the field `{entry.key}` of {rt.name} is "
                          f"{describe(f.type)}, not {describe(t)}", entry.value.span)



def _form_words(value) -> str | None:
    """How a message names an option value of a special form; None for a plain value
    (made only for one of those: most option values are plain)."""
    cls = type(value)
    if cls is ast.RangeValue:
        return "a range"
    if cls is ast.EveryValue:
        return "`every ...`"
    if cls is ast.SourceValue:
        return f"`{getattr(value, 'kind', '')} ...`"
    return None


# (option name, type wanted) -> "the option `NAME` takes A TYPE", for _Walker._typed
_TAKES: dict[tuple[str, Type], str] = {}


def _example(t: Type | None) -> str:
    return {"duration": "30s", "number": "3", "text": "\"...\""}.get(t.kind if t else "", "...")


