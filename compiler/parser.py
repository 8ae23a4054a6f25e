"""Parse .ccf text into the AST, turning every lark error into diagnostics.

Declarations and test lines are built here; statements through the
statement table (compiler/statements.py), expressions by build_expr.py.
Must not import the runtime, the checks or the lowering.
"""

from __future__ import annotations

from lark import Token, Tree
from lark.exceptions import UnexpectedInput
from lark.indenter import DedentError

from ccdsl import ast
from ccdsl.compiler import comments as comment_scanner
from ccdsl.compiler.build_expr import ExprBuilder
from ccdsl.compiler.grammar import parse_tree
from ccdsl.compiler.limits import check_nesting
from ccdsl.compiler.statements import BY_RULE
from ccdsl.compiler.syntax_errors import describe_unexpected
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span


def parse_source(source: SourceFile) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse one file. Returns the module (None on a syntax error or a
    nesting too deep) and the diagnostics: syntax errors stop at the first,
    as later ones are mostly echoes of it."""
    text = source.text
    if not text.endswith("\n"):
        text += "\n"
    diags: list[Diagnostic] = []
    try:
        tree = parse_tree(text, "start")
    except DedentError:
        line, tabbed = _dedent_line(source)
        diags.append(diagnostic(
            "E003", "this line's indentation does not match any enclosing block",
            Span(source.path, line, 1, line, max(2, _indent_width(source, line) + 1)),
            help="indent it to the same column as the statements of the block it belongs to"
            if tabbed is None else "indent with spaces only: a tab counts as 8 columns, so "
            f"lines indented with tabs and with spaces do not line up (line {tabbed} has a tab)"))
        return None, diags
    except UnexpectedInput as exc:
        diags.append(describe_unexpected(source, exc))
        return None, diags
    # before the builder: it, and every pass after it, recurses once per level
    too_deep, budgets = check_nesting(tree, source)
    if too_deep:
        return None, too_deep
    builder = _Builder(source, diags, budgets=budgets)
    module = builder.module(tree)
    if builder.string_broken:
        return None, diags
    comments = comment_scanner.scan(source.text)
    module = ast.Module(source.path, module.items, tuple(comments), module.span)
    return module, diags

def _indent_width(source: SourceFile, line: int) -> int:
    text = source.line_text(line)
    return len(text) - len(text.lstrip(" \t"))


def _dedent_line(source: SourceFile) -> tuple[int, int | None]:
    """The first line whose indentation is not one of the open levels (lark's
    DedentError carries no position), and the line of a tab in the indentation
    that led there, if any: the lexer counts a tab as 8 columns, as here."""
    levels = [(0, None)]
    for number in range(1, source.line_count + 1):
        text = source.line_text(number)
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = text[:len(text) - len(text.lstrip(" \t"))]
        width = indent.count(" ") + 8 * indent.count("\t")
        tabbed = number if "\t" in indent else None
        if width > levels[-1][0]:
            levels.append((width, tabbed))
        else:
            closed = []
            while width < levels[-1][0]:
                closed.append(levels.pop())
            if width != levels[-1][0]:
                return number, tabbed or next(
                    (t for _, t in closed + levels[::-1] if t is not None), None)
    return 1, None


# ---- tree -> AST ------------------------------------------------------------------


class _Builder(ExprBuilder):
    """Adds declarations, test lines and statements to the expression builder."""

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
        name, *lines = t.children
        options = tuple(self.option(o) for o in lines if o.data == "option")
        keys = tuple(self.queue_key(k) for k in lines if k.data != "option")
        return ast.QueueDecl(str(name), options, self.span(t), keys)

    def queue_key(self, t: Tree) -> ast.QueueKey:
        key, body = t.children
        token = key.children[0]
        text = str(token)[1:-1] if token.type == "STRING" else str(token)
        stmts = (self.stmt(body),) if t.data == "queue_key_inline" else self.block(body)
        return ast.QueueKey(text, stmts, self.span(t))

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
        if t.data == "test_speak":
            return ast.TestSpeak(self.expr(c[0]), sp)
        if t.data == "test_hangup":
            return ast.TestHangup(tuple(self.option(o) for o in c), sp)
        if t.data == "test_crm_fault":
            fault, record_type = c
            words = [str(w) for w in fault.children if not isinstance(w, Tree)]
            after = [ast.Duration(str(w), self.span(w)) for w in fault.children
                     if isinstance(w, Token) and w.type == "DURATION"]
            return ast.TestCrmFault("times_out" if words[0] == "times" else words[0],
                                    after[0] if after else None,
                                    str(record_type) if record_type is not None else None, sp)
        if t.data == "test_http":
            return ast.TestHttp(str(c[0]), self.expr(c[1]),
                                tuple(self.option(o) for o in c[2:]), sp)
        negated, kind, via, connector, value, *options = c
        return ast.TestExpect(negated is not None, str(kind),
                              str(connector.children[0]) if connector is not None else None,
                              self.expr(value) if value is not None else None, sp,
                              str(via.children[0]) if via is not None else None,
                              tuple(self.option(o) for o in options))
    # -- statements
    def block(self, t: Tree) -> tuple:
        return tuple(self.stmt(s) for s in t.children)

    def on_error(self, t: Tree | None) -> ast.OnError | None:
        if t is None:
            return None
        return ast.OnError(self.stmt(t.children[0]), self.span(t))

    def stmt(self, t: Tree):
        return BY_RULE[t.data].build(self, t)

    def arm(self, t: Tree) -> ast.Arm:
        *patterns, last = t.children
        if t.data == "arm_inline":
            body = (self.stmt(last),)
        else:
            body = self.block(last)
        return ast.Arm(tuple(self.pattern(p) for p in patterns), body, self.span(t))
