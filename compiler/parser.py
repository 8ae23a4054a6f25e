"""Parse .ccf text into the AST, turning every lark error into diagnostics.

The lark parser is built once per process; its tables are cached on disk
(lark's ``cache`` option) so a ``ccf validate`` of a small file does not
pay for building the LALR tables on each run.
"""

from __future__ import annotations

import os
import re
import tempfile
from contextvars import ContextVar
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.indenter import DedentError, Indenter

from ccdsl import ast
from ccdsl.compiler import comments as comment_scanner
from ccdsl.compiler.syntax_errors import describe_unexpected
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span


class _CcfIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB", "LBRACE"]
    CLOSE_PAREN_types = ["RPAR", "RSQB", "RBRACE"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def process(self, stream):
        return super().process(_keywords_as_names(stream))


@lru_cache(maxsize=1)
def grammar_text() -> str:
    return (resources.files("ccdsl.compiler") / "grammar.lark").read_text(encoding="utf-8")


def _cache_path(grammar: str) -> str | bool:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "ccdsl")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        folder = tempfile.gettempdir()
    # lark keys its own cache by grammar and options when given a folder-less
    # name, so include the grammar's hash in the file name ourselves.
    import hashlib

    digest = hashlib.sha256(grammar.encode()).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark-cache")


# The text being parsed, for the lexer callback below (lark passes it only
# the token).
_TEXT: ContextVar[str] = ContextVar("ccf_text", default="")


@lru_cache(maxsize=1)
def _keyword_terminals() -> frozenset[str]:
    # lark names the terminal of a quoted keyword after its text in capitals
    # (true, false and null are values: `false.x` is the field of a value)
    words = set(re.findall(r'"([a-z_][a-z0-9_]*)"', grammar_text())) - {"true", "false", "null"}
    return frozenset(w.upper() for w in words)


def _keywords_as_names(stream):
    """A keyword followed by `=` or `.` is a name: `test = 1`, `voicemail.leave()`.

    Keywords are contextual, but where a block ends the LALR state still
    admits every word that may follow any enclosing block (`step`, `test`,
    `else`, ...), so without this `test = 1` right after an `if` block, or a
    call into a module named like a statement, would lex as the keyword. No
    keyword of the grammar is ever followed by `=` or by a single `.`."""
    keywords = _keyword_terminals()
    text = _TEXT.get()
    n = len(text)
    for tok in stream:
        if tok.type in keywords:
            i = tok.end_pos
            while i < n and text[i] in " \t":
                i += 1
            if i + 1 < n:
                ch, nxt = text[i], text[i + 1]
                if (ch == "=" and nxt != "=") or (ch == "." and nxt != "."):
                    tok = Token.new_borrow_pos("NAME", str(tok), tok)
        yield tok


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    grammar = grammar_text()
    options = dict(
        parser="lalr",
        strict=True,
        postlex=_CcfIndenter(),
        propagate_positions=True,
        maybe_placeholders=True,
        start=["start", "expr"],
    )
    try:
        return Lark(grammar, cache=_cache_path(grammar), **options)
    except OSError:
        return Lark(grammar, **options)


def _parse(text: str, start: str) -> Tree:
    token = _TEXT.set(text)
    try:
        return lark_parser().parse(text, start=start)
    finally:
        _TEXT.reset(token)


def parse_source(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module (None on a syntax error) and the
    diagnostics: syntax errors stop at the first, as later ones are mostly
    echoes of it."""
    text = source.text
    if not text.endswith("\n"):
        text += "\n"
    diags: list[Diagnostic] = []
    try:
        tree = _parse(text, "start")
    except DedentError as exc:
        line = _dedent_line(source, str(exc))
        diags.append(diagnostic(
            "E003", "this line's indentation does not match any enclosing block",
            Span(source.path, line, 1, line, max(2, _indent_width(source, line) + 1)),
            help="indent it to the same column as the statements of the block it belongs to"))
        return None, diags
    except UnexpectedInput as exc:
        diags.append(describe_unexpected(source, exc))
        return None, diags
    builder = _Builder(source, diags)
    module = builder.module(tree)
    comments = comment_scanner.scan(source.text)
    module = ast.Module(source.path, module.items, tuple(comments), module.span)
    return module, diags


def parse_expression(text: str, source: SourceFile, line: int, column: int,
                     diags: list[Diagnostic]) -> ast.Expr | None:
    """Parse an expression found inside a string interpolation; its spans are
    shifted to where it stands in the file."""
    try:
        tree = _parse(text, "expr")
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
    return _Builder(source, diags, line - 1, column - 1).expr(tree)


def _indent_width(source: SourceFile, line: int) -> int:
    text = source.line_text(line)
    return len(text) - len(text.lstrip(" \t"))


def _dedent_line(source: SourceFile, message: str) -> int:
    # lark's DedentError carries no position; find the first line whose
    # indentation is not one of the open levels.
    levels = [0]
    for number in range(1, source.line_count + 1):
        text = source.line_text(number)
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        width = _indent_width(source, number)
        if width > levels[-1]:
            levels.append(width)
        else:
            while width < levels[-1]:
                levels.pop()
            if width != levels[-1]:
                return number
    return 1


# ---- tree -> AST ------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "$": "$", "r": "\r"}


class _Builder:
    """Turns the lark tree into AST nodes. Written as explicit methods per
    rule rather than a lark Transformer so spans can be computed from the
    tree's meta before children are replaced."""

    def __init__(self, source: SourceFile, diags: list[Diagnostic],
                 line_shift: int = 0, column_shift: int = 0) -> None:
        self.source = source
        self.diags = diags
        self.line_shift = line_shift
        self.column_shift = column_shift

    # -- spans
    def span(self, node) -> Span:
        if isinstance(node, Token):
            line, col, end_line, end_col = node.line, node.column, node.end_line, node.end_column
        else:
            meta = node.meta
            if meta.empty:
                return Span(self.source.path, 1, 1, 1, 1)
            line, col, end_line, end_col = meta.line, meta.column, meta.end_line, meta.end_column
        if self.line_shift or self.column_shift:
            # shifted spans come from a one-line interpolation
            return Span(self.source.path, line + self.line_shift, col + self.column_shift,
                        end_line + self.line_shift, end_col + self.column_shift)
        return Span(self.source.path, line, col, end_line, end_col)

    # -- module and declarations
    def module(self, tree: Tree) -> ast.Module:
        items = tuple(self.item(child) for child in tree.children if child is not None)
        return ast.Module(self.source.path, items, (), self.span(tree))

    def item(self, t: Tree):
        return getattr(self, "d_" + t.data)(t)

    def d_flow_decl(self, t: Tree) -> ast.FlowDecl:
        name = str(t.children[0])
        title = description = None
        languages: tuple[ast.Lang, ...] = ()
        for prop in t.children[1:]:
            if prop.data == "flow_title":
                title = self.string(prop.children[0])
            elif prop.data == "flow_description":
                description = self.string(prop.children[0])
            else:
                languages = languages + tuple(self.lang(c) for c in prop.children)
        return ast.FlowDecl(name, title, description, languages, self.span(t))

    def lang(self, t: Tree) -> ast.Lang:
        return ast.Lang("-".join(str(c) for c in t.children), self.span(t))

    def d_use_decl(self, t: Tree) -> ast.Use:
        dotted, alias = t.children
        return ast.Use(tuple(str(c) for c in dotted.children),
                       str(alias) if alias is not None else None, self.span(t))

    def d_const_decl(self, t: Tree) -> ast.Const:
        return ast.Const(str(t.children[0]), self.expr(t.children[1]), self.span(t))

    def d_hours_decl(self, t: Tree) -> ast.Hours:
        name, tz, *lines = t.children
        return ast.Hours(str(name), self.string(tz) if tz is not None else None,
                         tuple(self.hours_line(x) for x in lines), self.span(t))

    def hours_line(self, t: Tree):
        if t.data == "hours_weekly":
            days, *times = t.children
            return ast.HoursWeekly(
                tuple(ast.DayRange(str(d.children[0]),
                                   str(d.children[1]) if len(d.children) > 1 else None,
                                   self.span(d)) for d in days.children),
                tuple(self.time_range(x) for x in times), self.span(t))
        if t.data == "hours_closed":
            dates, label = t.children
            return ast.HoursClosed(self.date_range(dates),
                                   self.string(label) if label is not None else None, self.span(t))
        dates, *rest = t.children
        label = rest.pop() if rest and isinstance(rest[-1], Token) else None
        rest = [r for r in rest if r is not None]
        return ast.HoursOpen(self.date_range(dates), tuple(self.time_range(x) for x in rest),
                             self.string(label) if label is not None else None, self.span(t))

    def time_range(self, t: Tree) -> ast.TimeRange:
        a, b = t.children
        return ast.TimeRange(ast.Time(str(a), self.span(a)), ast.Time(str(b), self.span(b)),
                             self.span(t))

    def date_range(self, t: Tree) -> ast.DateRange:
        first = t.children[0]
        last = t.children[1] if len(t.children) > 1 else None
        return ast.DateRange(ast.Date(str(first), self.span(first)),
                             ast.Date(str(last), self.span(last)) if last is not None else None,
                             self.span(t))

    def d_prompt_decl(self, t: Tree) -> ast.Prompt:
        name, params, *variants = t.children
        return ast.Prompt(str(name), self.params(params),
                          tuple(self.variant(v) for v in variants), self.span(t))

    def params(self, t: Tree | None) -> tuple[str, ...] | None:
        if t is None:
            return None
        return tuple(str(c) for c in t.children if c is not None)

    def variant(self, t: Tree) -> ast.PromptVariant:
        lang, kind, text = t.children
        return ast.PromptVariant(self.lang(lang), str(kind.children[0]), self.string(text),
                                 self.span(t))

    def d_queue_decl(self, t: Tree) -> ast.QueueDecl:
        name, *options = t.children
        return ast.QueueDecl(str(name), tuple(self.option(o) for o in options), self.span(t))

    def d_routing_decl(self, t: Tree) -> ast.Routing:
        name, *rules = t.children
        out = []
        for r in rules:
            if r.data == "rule_otherwise":
                out.append(ast.Otherwise(self.stmt(r.children[0]), self.span(r)))
            else:
                kind, target, *rest = r.children
                guard = rest.pop()
                out.append(ast.Rule(str(kind), self.expr(target),
                                    tuple(self.option(o) for o in rest),
                                    self.expr(guard) if guard is not None else None, self.span(r)))
        return ast.Routing(str(name), tuple(out), self.span(t))

    def fields(self, items) -> tuple[ast.FieldDecl, ...]:
        out = []
        for f in items:
            name, type_ref = f.children
            type_name, qmark = type_ref.children
            out.append(ast.FieldDecl(str(name), ast.TypeRef(str(type_name), qmark is not None,
                                                            self.span(type_ref)), self.span(f)))
        return tuple(out)

    def d_record_decl(self, t: Tree) -> ast.RecordDecl:
        return ast.RecordDecl(str(t.children[0]), self.fields(t.children[1:]), self.span(t))

    def d_wrapup_decl(self, t: Tree) -> ast.Wrapup:
        return ast.Wrapup(self.fields(t.children), self.span(t))

    def d_step_decl(self, t: Tree) -> ast.Step:
        return ast.Step(str(t.children[0]), self.block(t.children[1]), self.span(t))

    def d_handler_decl(self, t: Tree) -> ast.Handler:
        *names, body = t.children
        return ast.Handler(tuple(str(n) for n in names), self.block(body), self.span(t))

    def d_sub_decl(self, t: Tree) -> ast.Sub:
        name, params, body = t.children
        return ast.Sub(str(name), self.params(params) or (), self.block(body), self.span(t))

    def d_test_decl(self, t: Tree) -> ast.Test:
        name, *stmts = t.children
        return ast.Test(self.string(name), tuple(self.test_stmt(s) for s in stmts), self.span(t))

    # -- tests
    def test_stmt(self, t: Tree):
        c = t.children
        sp = self.span(t)
        if t.data == "test_at":
            return ast.TestAt(self.string(c[0]), sp)
        if t.data == "test_crm":
            return ast.TestCrm(str(c[0]), self.expr(c[1]), sp)
        if t.data == "test_agent":
            return ast.TestAgent(str(c[0]), tuple(self.option(o) for o in c[1:]), sp)
        if t.data == "test_call":
            return ast.TestCall(tuple(self.option(o) for o in c), sp)
        if t.data == "test_press":
            return ast.TestPress(self.expr(c[0]), tuple(self.option(o) for o in c[1:]), sp)
        if t.data == "test_silence":
            return ast.TestSilence(self.expr(c[0]), sp)
        if t.data == "test_hangup":
            return ast.TestHangup(tuple(self.option(o) for o in c), sp)
        negated, kind, connector, value = c
        return ast.TestExpect(negated is not None, str(kind),
                              str(connector.children[0]) if connector is not None else None,
                              self.expr(value) if value is not None else None, sp)

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
            if t.data == "source_value":
                return ast.SourceValue(str(t.children[0].children[0]), self.expr(t.children[1]),
                                       self.span(t))
        return self.expr(t)

    def options(self, items) -> tuple[ast.Option, ...]:
        return tuple(self.option(o) for o in items)

    # -- statements
    def block(self, t: Tree) -> tuple:
        return tuple(self.stmt(s) for s in t.children)

    def on_error(self, t: Tree | None) -> ast.OnError | None:
        if t is None:
            return None
        return ast.OnError(self.stmt(t.children[0]), self.span(t))

    def stmt(self, t: Tree):
        return getattr(self, "s_" + t.data)(t)

    def s_answer_stmt(self, t):
        return ast.Answer(self.span(t))

    def s_hangup_stmt(self, t):
        return ast.Hangup(self.span(t))

    def s_goto_stmt(self, t):
        return ast.Goto(str(t.children[0]), self.span(t))

    def s_return_stmt(self, t):
        value = t.children[0]
        return ast.Return(self.expr(value) if value is not None else None, self.span(t))

    def s_play_stmt(self, t):
        target, *options = t.children
        if target.data == "play_source":
            kind, value = target.children
            return ast.Play(str(kind.children[0]), self.expr(value), self.options(options),
                            self.span(t))
        return ast.Play(None, self.expr(target.children[0]), self.options(options), self.span(t))

    def s_say_stmt(self, t):
        kind, value, *options = t.children
        return ast.Say(str(kind), self.expr(value), self.options(options), self.span(t))

    def s_assign_stmt(self, t):
        name, value, on_error = t.children
        return ast.Assign(str(name), self.expr(value), self.on_error(on_error), self.span(t))

    def s_collect_stmt(self, t):
        name, *options, on_error = t.children
        return ast.Collect(str(name), self.options(options), self.on_error(on_error),
                           self.span(t))

    def s_expr_stmt(self, t):
        value, on_error = t.children
        return ast.ExprStmt(self.expr(value), self.on_error(on_error), self.span(t))

    def s_route_stmt(self, t):
        name, *options, on_error = t.children
        return ast.Route(str(name), self.options(options), self.on_error(on_error), self.span(t))

    def s_queue_stmt(self, t):
        name, *options, on_error = t.children
        return ast.Enqueue(str(name), self.options(options), self.on_error(on_error),
                           self.span(t))

    def s_transfer_stmt(self, t):
        kind, target, mode, *options, on_error = t.children
        return ast.Transfer(str(kind), self.expr(target),
                            str(mode.children[0]) if mode is not None else None,
                            self.options(options), self.on_error(on_error), self.span(t))

    def s_three_way_stmt(self, t):
        kind, target, *options, on_error = t.children
        return ast.ThreeWay(str(kind), self.expr(target), self.options(options),
                            self.on_error(on_error), self.span(t))

    def s_record_stmt(self, t):
        return ast.RecordCall(self.options(t.children), self.span(t))

    def s_stop_recording_stmt(self, t):
        return ast.StopRecording(self.span(t))

    def s_voicemail_stmt(self, t):
        target, *options, on_error = t.children
        return ast.Voicemail(self.expr(target), self.options(options), self.on_error(on_error),
                             self.span(t))

    def s_wait_stmt(self, t):
        value, *options = t.children
        return ast.Wait(self.expr(value), self.options(options), self.span(t))

    def s_screen_pop_stmt(self, t):
        return ast.ScreenPop(tuple(self.expr(c) for c in t.children), self.span(t))

    def s_language_stmt(self, t):
        return ast.SetLanguage(self.expr(t.children[0]), self.span(t))

    def s_log_stmt(self, t):
        return ast.Log(self.expr(t.children[0]), self.span(t))

    def s_if_stmt(self, t):
        cond, body, *rest = t.children
        branches = [(self.expr(cond), self.block(body))]
        orelse = None
        for clause in rest:
            if clause is None:
                continue
            if clause.data == "elif_clause":
                branches.append((self.expr(clause.children[0]), self.block(clause.children[1])))
            else:
                orelse = self.block(clause.children[0])
        return ast.If(tuple(branches), orelse, self.span(t))

    def s_match_stmt(self, t):
        subject, *arms = t.children
        return ast.Match(self.expr(subject), tuple(self.arm(a) for a in arms), self.span(t))

    def s_menu_stmt(self, t):
        header, *body = t.children
        items = tuple(self.option(c) if c.data == "option" else self.arm(c) for c in body)
        return ast.Menu(self.options(header.children), items, self.span(t))

    def arm(self, t: Tree) -> ast.Arm:
        *patterns, last = t.children
        if t.data == "arm_inline":
            body = (self.stmt(last),)
        else:
            body = self.block(last)
        return ast.Arm(tuple(self.pattern(p) for p in patterns), body, self.span(t))

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
                entries.append(ast.MapEntry(self.string(key).value, True, self.expr(value),
                                            self.span(e)))
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
        parts: list = []
        buf: list[str] = []
        i = 0
        while i < len(raw):
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
                    col = sp.column + 1 + i
                    self.diags.append(diagnostic(
                        "E005", "`${` opens an interpolation that is never closed",
                        Span(sp.file, sp.line, col, sp.line, col + 2),
                        help="close it with `}`, or write `\\$` for a literal dollar sign"))
                    buf.append(raw[i:])
                    break
                if buf:
                    parts.append("".join(buf))
                    buf = []
                inner = raw[i + 2:close]
                col = sp.column + 1 + i + 2
                expr = parse_expression(inner, self.source, sp.line, col, self.diags)
                if expr is not None:
                    parts.append(expr)
                i = close + 1
                continue
            buf.append(ch)
            i += 1
        if buf:
            parts.append("".join(buf))
        return ast.Str(raw, tuple(parts), sp)
