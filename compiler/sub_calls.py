"""The sub-flows a body calls, followed transitively: which statement of a kind a body
runs through them (E208 asks it of handlers). Reads the AST; must not report.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccdsl import ast
from ccdsl.compiler.program import Program
from ccdsl.compiler.symbols import walk_statements


@dataclass(frozen=True)
class Reached:
    """A statement a call runs inside a sub-flow: the statement, the module
    that holds it, and the sub-flows from the call to it (dotted as called)."""

    stmt: object
    module: str  # LoadedModule.name: "hotline", "stdlib.survey"
    chain: tuple[str, ...]


def called_sub(program: Program, module_key: str, call: ast.Call) -> tuple[str, ast.Sub] | None:
    """The sub-flow a call names, local (`thank()`) or a module's
    (`stdlib.survey.ask()`, `survey.ask()`), with the key of its module."""
    parts = ast.dotted(call.func)
    if parts is None:
        return None
    loaded = program.modules[module_key]
    if len(parts) == 1:
        key, name = module_key, parts[0]
    else:
        prefixes: dict[tuple[str, ...], str] = {}
        for item in loaded.module.items:
            if isinstance(item, ast.Use) and item.local_name in loaded.imports:
                key = loaded.imports[item.local_name]
                prefixes[item.path] = prefixes[(item.local_name,)] = key
        key = prefixes.get(parts[:-1])
        name = parts[-1]
        if key is None:
            return None
    target = program.modules.get(key)
    if target is None:
        return None
    for item in target.module.items:
        if isinstance(item, ast.Sub) and item.name == name:
            return key, item
    return None


def calls_in(body) -> list[ast.Call]:
    """Every call in a body's statements and expressions, in source order."""
    return [node for node in ast.walk(body) if isinstance(node, ast.Call)]


def reached_through(program: Program, module_key: str, call: ast.Call,
                    kinds: dict[type, str]) -> Reached | None:
    """The first statement of one of `kinds` that a call runs through the
    sub-flows it calls, however deep; None when it runs none (or calls no
    sub-flow). A sub-flow that calls itself is followed once."""
    first = called_sub(program, module_key, call)
    if first is None:
        return None
    pending = [(first[0], first[1], (".".join(ast.dotted(call.func) or ()),))]
    seen: set[tuple[str, str]] = set()
    while pending:
        key, sub, chain = pending.pop(0)  # breadth first: the shortest chain
        if (key, sub.name) in seen:
            continue
        seen.add((key, sub.name))
        for stmt in walk_statements(sub.body):
            if type(stmt) in kinds:
                return Reached(stmt, program.modules[key].name, chain)
        for inner in calls_in(sub.body):
            found = called_sub(program, key, inner)
            if found is not None:
                pending.append((found[0], found[1],
                                chain + (".".join(ast.dotted(inner.func) or ()),)))
    return None
