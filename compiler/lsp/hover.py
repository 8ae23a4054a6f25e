"""Hover: what the checker knows of the name or expression under the cursor (its type), a
prompt's text in each language, a builtin's signature and doc, a declaration's source.

Must not report diagnostics: inference runs with no diagnostics list.
"""

from __future__ import annotations

from ccdsl import ast
from ccdsl import builtins as bi
from ccdsl.compiler.checks.tests import agent_names
from ccdsl.compiler.infer import infer
from ccdsl.compiler.lsp.index import Index, Target, item_env
from ccdsl.compiler.lsp.positions import contains
from ccdsl.compiler.program import LoadedModule
from ccdsl.compiler.skills_check import skill_names
from ccdsl.source import Span
from ccdsl.types import BUILTIN_RECORDS, describe

MAX_LINES = 12  # of a declaration quoted in a hover


def item_at(index: Index, path: str, line: int) -> tuple[LoadedModule, object] | None:
    """The module and the top-level item (or test block) a line of a file is in."""
    program = index.program
    for test in program.tests:
        if test.span.file == path and test.span.line <= line <= test.span.end_line:
            return program.entry_module, test
    module = index.module_of(path)
    if module is None:
        return None
    for item in module.module.items:
        if item.span.line <= line <= item.span.end_line:
            return module, item
    return None


def expression_at(item, line: int, column: int):
    """The innermost expression of an item under a position."""
    best = None
    for node in ast.walk(item):
        if isinstance(node, ast.Expr) and contains(node.span, line, column):
            if best is None or _size(node.span) <= _size(best.span):
                best = node
    return best


def _size(span: Span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_column - span.column)


def hover_text(index: Index, path: str, line: int, column: int) -> str | None:
    """The hover's Markdown, or None when nothing under the cursor is known."""
    occurrence = index.at(path, line, column)
    if occurrence is not None:
        text = describe_target(index, occurrence.target, path, line, column)
        if text:
            return text
    found = item_at(index, path, line)
    if found is None:
        return None
    module, item = found
    expr = expression_at(item, line, column)
    if expr is None:
        return None
    word = _agents_file_word(item, expr)
    if word is not None:
        return word
    t = infer(expr, item_env(index.ctx, module.key, item), None)
    source = index.ctx.sources.get(path)
    written = _snippet(source, expr.span) if source else None
    return f"`{written}`: {describe(t)}" if written else f"{describe(t)}"


def _agents_file_word(item, expr) -> str | None:
    """A skill of a skills list, or an agent a test names: words of the agents file."""
    if any(name is expr for name in skill_names(item)):
        return f"skill `{expr.id}`: agents with it in the agents file take the call"
    if any(name is expr for name in agent_names(item)):
        declared = next((s for s in item.body if isinstance(s, ast.TestAgent)
                         and s.name == expr.id), None)
        return f"agent `{expr.id}` of this test" + (
            f", declared at line {declared.span.line}" if declared else "")
    return None


def _snippet(source, span: Span) -> str | None:
    if span.line != span.end_line:
        return None
    return source.line_text(span.line)[span.column - 1:span.end_column - 1] or None


def describe_target(index: Index, target: Target, path: str, line: int, column: int) -> str:
    kind = target[0]
    if kind == "builtin":
        return builtin_text(target[1])
    if kind == "module":
        return module_text(index, target[1])
    if kind == "var":
        return variable_text(index, target, path, line)
    if kind == "field":
        return ""  # the expression's type, which hover_text gives
    return declaration_text(index, target[1], target[2])


def builtin_text(name: str) -> str:
    b = bi.lookup(name)
    if b is None:
        if name in bi.NAMESPACES:
            members = ", ".join(f"`{m.name}`" for m in bi.members(name))
            return f"**{name}** (builtins): {bi.NAMESPACES[name]}\n\n{members}"
        return ""
    if b.kind == "value":
        lines = [f"```ccf\n{b.name}: {describe(b.returns)}\n```", b.doc]
        record = BUILTIN_RECORDS.get(b.returns.name) if b.returns.kind == "record" else None
        if record is not None:
            lines.append("\n".join(f"- `{b.name}.{f.name}`: {describe(f.type)}"
                                   + (f" — {f.doc}" if f.doc else "") for f in record.fields))
        return "\n\n".join(lines)
    params = ", ".join(f"{p.name}: {' | '.join(describe(t) for t in p.types)}"
                       + ("" if p.required else f" = {p.default or 'null'}") for p in b.params)
    lines = [f"```ccf\n{b.name}({params}) -> {describe(b.returns)}\n```", b.doc]
    lines += [f"- `{p.name}`: {p.doc}" for p in b.params if p.doc]
    if b.can_fail:
        lines.append("Calls outside the flow: give the statement an `on error ->`.")
    return "\n\n".join(lines)


def module_text(index: Index, file: str) -> str:
    module = index.module_of(file)
    if module is None:
        return f"module `{file}`"
    head = next((i for i in module.module.items if isinstance(i, ast.FlowDecl)), None)
    lines = [f"**module {module.name}** — `{file}`"]
    if head is not None and head.title is not None:
        lines.append(head.title.value)
    if head is not None and head.description is not None:
        lines.append(head.description.value)
    return "\n\n".join(lines)


def variable_text(index: Index, target: Target, path: str, line: int) -> str:
    found = item_at(index, path, line)
    name = target[3]
    if found is None:
        return f"variable `{name}`"
    module, item = found
    env = item_env(index.ctx, module.key, item)
    t = infer(ast.Name(name, Span(path, line, 1, line, 1)), env, None)
    what = "parameter" if target[2] and name in (getattr(item, "params", None) or ()) \
        else "variable"
    return f"```ccf\n{name}: {describe(t)}\n```\n\n{what} of {_where(target[2])}"


def _where(local: str) -> str:
    if local.startswith("sub "):
        return f"the sub-flow `{local[4:]}`"
    if local.startswith("prompt "):
        return f"the prompt `{local[7:]}`"
    return "the call (set in a step or handler)"


def declaration_text(index: Index, file: str, name: str) -> str:
    module = index.module_of(file)
    node = None
    if module is not None:
        node = next((i for i in module.module.items if getattr(i, "name", None) == name
                     and not isinstance(i, (ast.Test, ast.Use, ast.FlowDecl))), None)
    if node is None:
        return ""
    lines = []
    if isinstance(node, ast.Prompt):
        params = f"({', '.join(node.params)})" if node.params is not None else ""
        lines.append(f"**prompt {name}{params}**")
        lines += [f"- {v.lang.tag} ({v.kind}): {v.text.raw}" for v in node.variants]
    elif isinstance(node, ast.Const):
        t = index.ctx.constant_type(module.key, node)
        lines.append(f"```ccf\nconst {name}: {describe(t)}\n```")
    source_lines = module.source.text.split("\n")[node.span.line - 1:node.span.end_line]
    if not isinstance(node, ast.Prompt):
        shown = source_lines[:MAX_LINES]
        more = "\n  …" if len(source_lines) > MAX_LINES else ""
        lines.append("```ccf\n" + "\n".join(shown).rstrip() + more + "\n```")
    lines.append(f"{module.name}, line {node.span.line}")
    return "\n\n".join(lines)
