"""The canonical formatter behind `ccf fmt`; must not change what a program means.

Declarations are printed here, statements through the statement table
(compiler/statements.py). The layout and comment-placement rules are in
docs/language.md ("How `ccf fmt` lays out a file"); formatting its own
output changes nothing.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from ccdsl import ast
from ccdsl.compiler.format_expr import format_expr, format_option_value, format_options
from ccdsl.compiler.parser import parse_source
from ccdsl.compiler.statements import BY_NODE, ONE_LINE, format_simple
from ccdsl.diagnostics import Diagnostic
from ccdsl.source import SourceFile

INDENT = "  "
MAX_WIDTH = 100
_END = 1 << 60  # a source line after every real one

# ---- lines of declarations ------------------------------------------------------


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
    if isinstance(s, ast.TestSpeak):
        return f"speak {format_expr(s.duration)}"
    if isinstance(s, ast.TestHangup):
        return f"hangup{format_options(s.options)}"
    if isinstance(s, ast.TestCrmFault):
        fault = {"times_out": "times out"}.get(s.fault, s.fault)
        after = f" {format_expr(s.after)}" if s.after is not None else ""
        return f"crm {fault}{after}" + (f" for {s.record_type}" if s.record_type else "")
    if isinstance(s, ast.TestHttp):
        return f"http {s.method} {format_expr(s.url)}{format_options(s.options)}"
    words = ["expect"] + (["not"] if s.negated else []) + [s.kind]
    if s.via:
        words.extend(("via", s.via))
    if s.connector:
        words.append(s.connector)
    if s.value is not None:
        words.append(format_expr(s.value))
    return " ".join(words) + format_options(s.options)


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


def rule_line(r: ast.Rule) -> str:
    """A routing rule's line as written: `queue service priority 5 when office.open()`."""
    of = " of" if r.kind in ("owner", "last_agent") else ""
    guard = f" when {format_expr(r.guard)}" if r.guard is not None else ""
    return f"{r.kind}{of} {format_expr(r.target)}{format_options(r.options)}{guard}"


# ---- source lines --------------------------------------------------------------

def last_line(node) -> int:
    """The source line of the last token of a node (where its span ends; every node's
    span ends at its last token), or of nodes; 0 for none."""
    if isinstance(node, (tuple, list)):
        return max((last_line(x) for x in node), default=0)
    span = getattr(node, "span", None)
    return span.end_line if span is not None else 0


def _first_line(node) -> int:
    return node.span.line


# ---- the printer --------------------------------------------------------------


class _Printer:
    """Prints lines with the comments around them. The statement table's
    block layouts (if, match, menu) drive it through line, block,
    close_block, has_comments, last_line and else_line."""

    END = _END

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

    @staticmethod
    def last_line(node) -> int:
        return last_line(node)

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
        if q.keys:
            return None
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
                if item.keys:
                    self._queue_block(item, next_line)
                else:
                    self._node_lines(1, item.options,
                                     lambda o: f"{o.name} {format_option_value(o.value)}",
                                     next_line)
        elif isinstance(item, ast.Routing):
            self.line(0, f"routing {item.name}:", first, first, blank)
            self._node_lines(1, item.rules, lambda r: rule_line(r) if isinstance(r, ast.Rule)
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

    def _queue_block(self, item: ast.QueueDecl, next_line: int) -> None:
        """A queue's options, then its `press` keys (one line when the key's
        single statement was written on the `press` line)."""
        blank = "none"
        for o in item.options:
            self.line(1, f"{o.name} {format_option_value(o.value)}", o.span.line, last_line(o),
                      blank)
            blank = "keep"
        for i, press in enumerate(item.keys):
            after = item.keys[i + 1].span.line if i + 1 < len(item.keys) else next_line
            key = press.key if press.key.isdigit() else f'"{press.key}"'
            only = press.body[0] if len(press.body) == 1 else None
            if only is not None and only.span.line == press.span.line \
                    and isinstance(only, ONE_LINE):
                self.line(1, f"press {key} -> {format_simple(only)}", press.span.line,
                          last_line(press), blank)
            else:
                self.line(1, f"press {key}:", press.span.line, press.span.line, blank)
                self.block(2, press.body, after)
            blank = "keep"
        self.close_block(1, item.span.column + len(INDENT), next_line)

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
        entry = BY_NODE[type(s)]
        if entry.layout is not None:
            entry.layout(self, depth, s, blank, next_line)
        else:
            first = s.span.line
            self.line(depth, entry.text(s), first, max(first, last_line(s)), blank)

    def else_line(self, after: int, before: int) -> int:
        """The source line of an `else:` (the AST keeps no span for it)."""
        if self.source_lines is not None:
            for number in range(after + 1, min(before, len(self.source_lines) + 1)):
                text = self.source_lines[number - 1].strip()
                if text.startswith("else") and text[4:].lstrip().startswith(":"):
                    return number
        return max(after, min(before - 1, after + 1))


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
    module, diags = parse_source(SourceFile(path, text))
    if module is None:
        return None, diags
    return format_module(module, text), diags
