"""The canonical formatter behind `ccf fmt`.

The output is a function of the AST, the comments and the places where
the author left blank lines: two-space indentation, single spaces between
tokens, parentheses only where precedence needs them, no line wrapping
except for `queue` declarations. Formatting its own output changes
nothing.

Comments are not in the AST, so they are placed by source line: a
comment on its own line goes before the first printed line that starts
after it (at that line's indentation), a comment after code goes at the
end of the printed line that covers its source line, and comments after
the last statement of a block stay at the end of that block when they
were indented like its statements. A comment that fits nowhere else is
printed on its own line where the printer has got to, never dropped.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import fields, is_dataclass

from ccdsl import ast
from ccdsl.diagnostics import Diagnostic

INDENT = "  "
MAX_WIDTH = 100
_END = 1 << 60  # a source line after every real one

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
        entries = (f"{quote(x.key) if x.quoted else x.key}: {format_expr(x.value)}"
                   for x in e.entries)
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
        return f"every {format_expr(v.interval)}"
    if isinstance(v, ast.SourceValue):
        return f"{v.kind} {format_expr(v.value)}"
    return format_expr(v)


def format_options(options: tuple[ast.Option, ...]) -> str:
    return "".join(f" {o.name} {format_option_value(o.value)}" for o in options)


# ---- statements that print on one line ------------------------------------------

_SIMPLE = (ast.Answer, ast.Hangup, ast.Goto, ast.Return, ast.Play, ast.Say, ast.Assign,
           ast.Collect, ast.ExprStmt, ast.Route, ast.Enqueue, ast.Transfer, ast.ThreeWay,
           ast.RecordCall, ast.StopRecording, ast.Voicemail, ast.Wait, ast.ScreenPop,
           ast.SetLanguage, ast.Log)


def _on_error(handler: ast.OnError | None) -> str:
    return "" if handler is None else f" on error -> {format_simple(handler.action)}"


def format_simple(s: ast.Stmt) -> str:
    """The one-line text of a simple statement (everything but if, match, menu)."""
    if isinstance(s, ast.Answer):
        return "answer"
    if isinstance(s, ast.Hangup):
        return "hangup"
    if isinstance(s, ast.Goto):
        return f"goto {s.target}"
    if isinstance(s, ast.Return):
        return "return" if s.value is None else f"return {format_expr(s.value)}"
    if isinstance(s, ast.Play):
        source = f"{s.source} " if s.source else ""
        return f"play {source}{format_expr(s.target)}{format_options(s.options)}"
    if isinstance(s, ast.Say):
        return f"say {s.kind} {format_expr(s.value)}{format_options(s.options)}"
    if isinstance(s, ast.Assign):
        return f"{s.name} = {format_expr(s.value)}{_on_error(s.on_error)}"
    if isinstance(s, ast.Collect):
        return f"{s.name} = collect{format_options(s.options)}{_on_error(s.on_error)}"
    if isinstance(s, ast.ExprStmt):
        return f"{format_expr(s.expr)}{_on_error(s.on_error)}"
    if isinstance(s, ast.Route):
        return f"route {s.target}{format_options(s.options)}{_on_error(s.on_error)}"
    if isinstance(s, ast.Enqueue):
        return f"queue {s.queue}{format_options(s.options)}{_on_error(s.on_error)}"
    if isinstance(s, ast.Transfer):
        mode = f" {s.mode}" if s.mode else ""
        return (f"transfer {s.kind} {format_expr(s.target)}{mode}"
                f"{format_options(s.options)}{_on_error(s.on_error)}")
    if isinstance(s, ast.ThreeWay):
        return (f"three_way {s.kind} {format_expr(s.target)}"
                f"{format_options(s.options)}{_on_error(s.on_error)}")
    if isinstance(s, ast.RecordCall):
        return f"record call{format_options(s.options)}"
    if isinstance(s, ast.StopRecording):
        return "stop recording"
    if isinstance(s, ast.Voicemail):
        return (f"voicemail for {format_expr(s.target)}"
                f"{format_options(s.options)}{_on_error(s.on_error)}")
    if isinstance(s, ast.Wait):
        return f"wait {format_expr(s.duration)}{format_options(s.options)}"
    if isinstance(s, ast.ScreenPop):
        return "screen_pop " + ", ".join(format_expr(i) for i in s.items)
    if isinstance(s, ast.SetLanguage):
        return f"language {format_expr(s.value)}"
    if isinstance(s, ast.Log):
        return f"log {format_expr(s.value)}"
    raise TypeError(f"not a simple statement: {type(s).__name__}")


def _pattern(p: ast.Pattern) -> str:
    if isinstance(p, ast.ElsePattern):
        return "else"
    return format_expr(p)


def _test_stmt(s: ast.TestStmt) -> str:
    if isinstance(s, ast.TestAt):
        return f'at "{s.when.raw}"'
    if isinstance(s, ast.TestCrm):
        return f"crm {s.record_type} {format_expr(s.value)}"
    if isinstance(s, ast.TestAgent):
        return f"agent {s.name}{format_options(s.options)}"
    if isinstance(s, ast.TestCall):
        return f"call{format_options(s.options)}"
    if isinstance(s, ast.TestPress):
        return f"press {format_expr(s.keys)}{format_options(s.options)}"
    if isinstance(s, ast.TestSilence):
        return f"silence {format_expr(s.duration)}"
    if isinstance(s, ast.TestHangup):
        return f"hangup{format_options(s.options)}"
    words = ["expect"] + (["not"] if s.negated else []) + [s.kind]
    if s.connector:
        words.append(s.connector)
    if s.value is not None:
        words.append(format_expr(s.value))
    return " ".join(words)


def _hours_line(h: ast.HoursLine) -> str:
    times = ", ".join(f"{t.start.text}-{t.end.text}" for t in getattr(h, "times", ()))
    if isinstance(h, ast.HoursWeekly):
        days = ", ".join(d.first + (f"-{d.last}" if d.last else "") for d in h.days)
        return f"{days} {times}"
    dates = h.dates.first.text + (f"..{h.dates.last.text}" if h.dates.last else "")
    label = f' "{h.label.raw}"' if h.label is not None else ""
    if isinstance(h, ast.HoursClosed):
        return f"closed {dates}{label}"
    return f"open {dates} {times}{label}"


def _params(params: tuple[str, ...] | None) -> str:
    return "" if params is None else "(" + ", ".join(params) + ")"


def _rule(r: ast.Rule) -> str:
    of = " of" if r.kind in ("owner", "last_agent") else ""
    guard = f" when {format_expr(r.guard)}" if r.guard is not None else ""
    return f"{r.kind}{of} {format_expr(r.target)}{format_options(r.options)}{guard}"


# ---- source lines --------------------------------------------------------------

# Nodes whose span ends at their last token. The others (declarations,
# block statements, lines of a block) end where the next token starts,
# past the newline and any comments, so their extent is taken from their parts.
_TIGHT = _SIMPLE + (ast.Name, ast.Number, ast.Str, ast.Duration, ast.Time, ast.Date,
                    ast.Bool, ast.Null, ast.ListLit, ast.MapLit, ast.Field, ast.Call,
                    ast.Index, ast.Unary, ast.Binary, ast.Cond, ast.RangeValue,
                    ast.EveryValue, ast.SourceValue, ast.Option, ast.OnError, ast.Lang,
                    ast.TimeRange, ast.DateRange, ast.DayRange, ast.TypeRef, ast.MapEntry,
                    ast.Arg, ast.ElsePattern)


def last_line(node) -> int:
    """The source line of the last token of a node."""
    if isinstance(node, (tuple, list)):
        return max((last_line(x) for x in node), default=0)
    if not is_dataclass(node):
        return 0
    span = getattr(node, "span", None)
    if isinstance(node, _TIGHT) and span is not None:
        return span.end_line
    best = span.line if span is not None else 0
    for f in fields(node):
        if f.name != "span":
            best = max(best, last_line(getattr(node, f.name)))
    return best


def _first_line(node) -> int:
    return node.span.line


# ---- the printer --------------------------------------------------------------


class _Printer:
    def __init__(self, comments: tuple[ast.Comment, ...], source_lines: list[str] | None):
        self.comments = sorted(comments, key=lambda c: (c.line, c.column))
        self.comment_lines = [c.line for c in self.comments]
        self.next_comment = 0
        self.source_lines = source_lines
        self.blank_lines = ([i for i, t in enumerate(source_lines, start=1)
                             if not t.strip(" \t\r\f")] if source_lines else [])
        self.out: list[str] = []
        self.last_source = 0

    # -- low level
    def _pending(self) -> ast.Comment | None:
        if self.next_comment < len(self.comments):
            return self.comments[self.next_comment]
        return None

    def _blank_between(self, a: int, b: int) -> bool:
        i = bisect_right(self.blank_lines, a)
        return i < len(self.blank_lines) and self.blank_lines[i] < b

    def _put(self, depth: int, text: str, first: int, last: int, blank: str) -> None:
        if self.out and self.out[-1] != "" and (
                blank == "force" or (blank == "keep" and self._blank_between(self.last_source,
                                                                             first))):
            self.out.append("")
        self.out.append(INDENT * depth + text if text else "")
        self.last_source = last

    def _comment_line(self, depth: int, blank: str) -> None:
        c = self.comments[self.next_comment]
        self.next_comment += 1
        self._put(depth, c.text, c.line, c.line, blank)

    def has_comments(self, first: int, last: int) -> bool:
        """Whether a comment stands on a source line in first..last."""
        i = bisect_left(self.comment_lines, first)
        return i < len(self.comment_lines) and self.comment_lines[i] <= last

    def line(self, depth: int, text: str, first: int, last: int, blank: str = "keep") -> None:
        """Print one line for source lines first..last: first the comments
        before it, then the line with the comments on its source lines."""
        while (c := self._pending()) is not None and c.line < first:
            self._comment_line(depth, blank)
            blank = "keep"
        trailing = []
        while (c := self._pending()) is not None and c.line <= last:
            trailing.append(c.text)
            self.next_comment += 1
        self._put(depth, "  ".join([text] + trailing), first, last, blank)

    def close_block(self, depth: int, column: int, next_line: int) -> None:
        """Keep the comments after a block's last line in the block when they
        are indented at least as deep as its lines."""
        while ((c := self._pending()) is not None and c.line < next_line
               and (not c.own_line or c.column >= column)):
            self._comment_line(depth, "keep")

    def rest(self) -> None:
        while self._pending() is not None:
            self._comment_line(0, "keep")

    # -- declarations
    def module(self, items: tuple[ast.Item, ...]) -> None:
        previous: str | None = None
        for i, item in enumerate(items):
            next_line = items[i + 1].span.line if i + 1 < len(items) else _END
            group = self._one_line_group(item)
            if i == 0:
                blank = "none"
            elif group is not None and group == previous:
                blank = "keep"
            else:
                blank = "force"
            self.item(item, blank, next_line)
            previous = group
        self.rest()

    def _one_line_group(self, item: ast.Item) -> str | None:
        """Runs of one-line declarations of one kind (use, const, queue) may
        stay together; every other declaration has a blank line around it."""
        if isinstance(item, (ast.Use, ast.Const)):
            return type(item).__name__
        if isinstance(item, ast.QueueDecl) and self._queue_line(item) is not None:
            return "queue"
        return None

    def _queue_line(self, q: ast.QueueDecl) -> str | None:
        text = f"queue {q.name}{format_options(q.options)}"
        if not q.options:
            return text
        if len(text) > MAX_WIDTH or self.has_comments(q.span.line + 1, last_line(q)):
            return None
        return text

    def item(self, item: ast.Item, blank: str, next_line: int) -> None:
        first = item.span.line
        if isinstance(item, ast.FlowDecl):
            props = []
            if item.title is not None:
                props.append((f"title {format_expr(item.title)}", item.title))
            if item.description is not None:
                props.append((f"description {format_expr(item.description)}",
                              item.description))
            if item.languages:
                props.append(("languages " + ", ".join(x.tag for x in item.languages),
                              item.languages))
            if not props:
                self.line(0, f"flow {item.name}", first, first, blank)
                return
            self.line(0, f"flow {item.name}:", first, first, blank)
            self._lines(1, [(text, _first_line(node[0] if isinstance(node, tuple) else node),
                             last_line(node)) for text, node in props], next_line)
        elif isinstance(item, ast.Use):
            alias = f" as {item.alias}" if item.alias else ""
            self.line(0, "use " + ".".join(item.path) + alias, first, last_line(item), blank)
        elif isinstance(item, ast.Const):
            self.line(0, f"const {item.name} = {format_expr(item.value)}", first,
                      last_line(item), blank)
        elif isinstance(item, ast.Hours):
            tz = f' tz "{item.tz.raw}"' if item.tz is not None else ""
            self.line(0, f"hours {item.name}{tz}:", first, last_line(item.tz) or first, blank)
            self._node_lines(1, item.lines, _hours_line, next_line)
        elif isinstance(item, ast.Prompt):
            self.line(0, f"prompt {item.name}{_params(item.params)}:", first, first, blank)
            self._node_lines(1, item.variants,
                             lambda v: f'{v.lang.tag} {v.kind} "{v.text.raw}"', next_line)
        elif isinstance(item, ast.QueueDecl):
            text = self._queue_line(item)
            if text is not None:
                self.line(0, text, first, last_line(item), blank)
            else:
                self.line(0, f"queue {item.name}:", first, first, blank)
                self._node_lines(1, item.options,
                                 lambda o: f"{o.name} {format_option_value(o.value)}",
                                 next_line)
        elif isinstance(item, ast.Routing):
            self.line(0, f"routing {item.name}:", first, first, blank)
            self._node_lines(1, item.rules, lambda r: _rule(r) if isinstance(r, ast.Rule)
                             else f"otherwise -> {format_simple(r.action)}", next_line)
        elif isinstance(item, (ast.RecordDecl, ast.Wrapup)):
            head = f"record {item.name}:" if isinstance(item, ast.RecordDecl) else "wrapup:"
            self.line(0, head, first, first, blank)
            self._node_lines(1, item.fields, lambda f: f"{f.name}: {f.type.name}"
                             + ("?" if f.type.optional else ""), next_line)
        elif isinstance(item, ast.Step):
            self.line(0, f"step {item.name}:", first, first, blank)
            self.block(1, item.body, next_line)
        elif isinstance(item, ast.Handler):
            self.line(0, "on " + " ".join(item.event) + ":", first, first, blank)
            self.block(1, item.body, next_line)
        elif isinstance(item, ast.Sub):
            self.line(0, f"sub {item.name}{_params(item.params)}:", first, first, blank)
            self.block(1, item.body, next_line)
        elif isinstance(item, ast.Test):
            self.line(0, f"test {format_expr(item.name)}:", first, last_line(item.name), blank)
            self._node_lines(1, item.body, _test_stmt, next_line)
        else:
            raise TypeError(f"not a declaration: {type(item).__name__}")

    def _node_lines(self, depth: int, nodes, render, next_line: int) -> None:
        self._lines(depth, [(render(n), n.span.line, last_line(n)) for n in nodes], next_line,
                    column=nodes[0].span.column if nodes else 1)

    def _lines(self, depth: int, lines, next_line: int, column: int | None = None) -> None:
        for i, (text, first, last) in enumerate(lines):
            self.line(depth, text, first, last, "none" if i == 0 else "keep")
        if column is None:
            column = 1 + len(INDENT) * depth
        self.close_block(depth, column, next_line)

    # -- statements
    def block(self, depth: int, body: tuple[ast.Stmt, ...], next_line: int) -> None:
        for i, s in enumerate(body):
            after = body[i + 1].span.line if i + 1 < len(body) else next_line
            self.stmt(depth, s, "none" if i == 0 else "keep", after)
        if body:
            self.close_block(depth, body[0].span.column, next_line)

    def stmt(self, depth: int, s: ast.Stmt, blank: str, next_line: int) -> None:
        first = s.span.line
        if isinstance(s, ast.If):
            self._if(depth, s, blank, next_line)
        elif isinstance(s, ast.Match):
            self.line(depth, f"match {format_expr(s.subject)}:", first,
                      max(first, last_line(s.subject)), blank)
            self._items(depth + 1, s.arms, next_line)
        elif isinstance(s, ast.Menu):
            self.line(depth, "menu" + format_options(s.options) + ":", first,
                      max(first, last_line(s.options)), blank)
            self._items(depth + 1, s.items, next_line)
        else:
            self.line(depth, format_simple(s), first, max(first, last_line(s)), blank)

    def _if(self, depth: int, s: ast.If, blank: str, next_line: int) -> None:
        headers = []
        for i, (test, _body) in enumerate(s.branches):
            word = "if" if i == 0 else "elif"
            line = s.span.line if i == 0 else test.span.line
            headers.append((f"{word} {format_expr(test)}:", line, max(line, last_line(test))))
        if s.orelse is not None:
            previous_end = last_line(s.branches[-1])
            line = self._else_line(previous_end, s.orelse[0].span.line if s.orelse else _END)
            headers.append(("else:", line, line))
        bodies = [body for _test, body in s.branches]
        if s.orelse is not None:
            bodies.append(s.orelse)
        for i, ((text, first, last), body) in enumerate(zip(headers, bodies, strict=True)):
            after = headers[i + 1][1] if i + 1 < len(headers) else next_line
            self.line(depth, text, first, last, blank if i == 0 else "none")
            self.block(depth + 1, body, after)

    def _else_line(self, after: int, before: int) -> int:
        """The source line of an `else:` (the AST keeps no span for it)."""
        if self.source_lines is not None:
            for number in range(after + 1, min(before, len(self.source_lines) + 1)):
                text = self.source_lines[number - 1].strip()
                if text.startswith("else") and text[4:].lstrip().startswith(":"):
                    return number
        return max(after, min(before - 1, after + 1))

    def _items(self, depth: int, items, next_line: int) -> None:
        """The lines of a menu or match: options and arms."""
        for i, item in enumerate(items):
            after = items[i + 1].span.line if i + 1 < len(items) else next_line
            blank = "none" if i == 0 else "keep"
            first = item.span.line
            if isinstance(item, ast.Option):
                self.line(depth, f"{item.name} {format_option_value(item.value)}", first,
                          max(first, last_line(item)), blank)
            else:
                self._arm(depth, item, blank, after)
        if items:
            self.close_block(depth, items[0].span.column, next_line)

    def _arm(self, depth: int, arm: ast.Arm, blank: str, next_line: int) -> None:
        keys = ", ".join(_pattern(p) for p in arm.patterns)
        first = arm.span.line
        end = max(first, last_line(arm))
        if (len(arm.body) == 1 and isinstance(arm.body[0], _SIMPLE)
                and not self.has_comments(first + 1, end)):
            self.line(depth, f"{keys} -> {format_simple(arm.body[0])}", first, end, blank)
            return
        self.line(depth, f"{keys}:", first, max(first, last_line(arm.patterns)), blank)
        self.block(depth + 1, arm.body, next_line)


def format_module(module: ast.Module, source_text: str | None = None) -> str:
    """The canonical text of a module. With the source text, a blank line
    the author left between two statements (or lines of a declaration) is
    kept, as one blank line."""
    lines = source_text.split("\n") if source_text is not None else None
    printer = _Printer(module.comments, lines)
    printer.module(module.items)
    out = printer.out
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def format_source(text: str, path: str) -> tuple[str | None, list[Diagnostic]]:
    """Format the text of one file: the formatted text (None when the file
    does not parse) and the parser's diagnostics."""
    from ccdsl.compiler.parser import parse_source
    from ccdsl.source import SourceFile

    module, diags = parse_source(SourceFile(path, text))
    if module is None:
        return None, diags
    return format_module(module, text), diags
