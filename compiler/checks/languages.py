"""Languages and prompts (E400, W401, E402, E403, W404); must not import the runtime.

Each module's prompts are checked against its own `languages` line: a
module without one makes no promise, so only E402 and E403 apply to it. A
used module lacking one of the entry flow's languages is a warning at the
`use` line, since the entry's callers hear that module's default.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ccdsl import ast
from ccdsl.compiler.namespan import Sources, word_span
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.symbols import Scope
from ccdsl.diagnostics import Diagnostic, diagnostic

# language, then an optional script (Hans) and region (CN): zh-CN, zh-Hans-CN, en-US, fr
TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$")
TAG_HELP = ("a language tag is a language code, optionally a script and a region, joined by "
            "`-`: zh-CN, en-US, fr, zh-Hans-CN")


def canonical_tag(tag: str) -> str | None:
    """The well-formed spelling of a tag written with the wrong case or
    `_` (en_us -> en-US), or None when it has no such spelling."""
    parts = re.split(r"[-_]", tag)
    fixed = [parts[0].lower()]
    for part in parts[1:]:
        fixed.append(part.title() if len(part) == 4 else part.upper())
    candidate = "-".join(fixed)
    return candidate if TAG.match(candidate) else None


def tag_problem(tag: str) -> str | None:
    """The help for a malformed tag, or None for a well-formed one."""
    if TAG.match(tag):
        return None
    fixed = canonical_tag(tag)
    return f"write `{fixed}`; {TAG_HELP}" if fixed else TAG_HELP


def declared_languages(module: ast.Module) -> tuple[ast.Lang, ...]:
    for item in module.items:
        if isinstance(item, ast.FlowDecl):
            return item.languages
    return ()


def check(program: Program, scopes, analysis) -> Iterator[Diagnostic]:
    sources = program.sources()
    for key, loaded in program.modules.items():
        yield from _module(loaded, scopes[key], sources)
    yield from _used_modules(program)


def _module(loaded: LoadedModule, scope: Scope, sources: Sources) -> Iterator[Diagnostic]:
    module = loaded.module
    header = declared_languages(module)
    yield from _tags(header, "the flow's `languages` line")
    declared = [lang.tag for lang in header]
    for item in module.items:
        if isinstance(item, ast.Prompt):
            yield from _prompt(item, declared, sources)
        elif isinstance(item, (ast.Step, ast.Handler, ast.Sub)):
            yield from _language_statements(scope.statements(item.body), declared)


def _tags(langs, where: str) -> Iterator[Diagnostic]:
    seen: dict[str, ast.Lang] = {}
    for lang in langs:
        problem = tag_problem(lang.tag)
        if problem:
            yield diagnostic("E402", f"`{lang.tag}` is not a valid language tag", lang.span,
                             help=problem)
        if lang.tag in seen:
            yield diagnostic("E403", f"language {lang.tag} appears twice in {where}", lang.span,
                             help="remove one of them",
                             notes=(f"first on line {seen[lang.tag].span.line}",))
        else:
            seen[lang.tag] = lang


def _prompt(prompt: ast.Prompt, declared: list[str],
            sources: Sources) -> Iterator[Diagnostic]:
    langs = [v.lang for v in prompt.variants]
    yield from _tags(langs, f"prompt `{prompt.name}`")
    if not declared:
        return
    for lang in langs:
        if lang.tag not in declared and TAG.match(lang.tag):
            yield diagnostic(
                "W401", f"prompt `{prompt.name}` has a variant in {lang.tag}, a language the "
                        "flow does not declare", lang.span,
                help=f"add {lang.tag} to the flow's `languages` line, or remove this variant",
                notes=("declared: " + ", ".join(declared),))
    present = {lang.tag for lang in langs}
    missing = [tag for tag in declared if tag not in present]
    if missing:
        listed = ", ".join(missing)
        noun = "language" if len(missing) == 1 else "languages"
        example = missing[0]
        kind = prompt.variants[0].kind if prompt.variants else "tts"
        yield diagnostic(
            "E400", f"prompt `{prompt.name}` is missing the declared {noun} {listed}",
            word_span(prompt.span, prompt.name, sources, skip=len("prompt")),
            help=f"add a line for each, such as `{example} {kind} \"...\"`, or remove the "
                 "language from the flow's `languages` line",
            notes=("a caller in that language would hear nothing where this prompt plays",))


def _language_statements(statements, declared: list[str]) -> Iterator[Diagnostic]:
    for stmt in statements:
        if not isinstance(stmt, ast.SetLanguage):
            continue
        value = stmt.value
        if not isinstance(value, ast.Str) or not value.is_plain:
            continue
        tag = value.value
        problem = tag_problem(tag)
        if problem:
            yield diagnostic("E402", f"\"{value.raw}\" is not a valid language tag", value.span,
                             help=problem)
        elif declared and tag not in declared:
            yield diagnostic(
                "W401", f"the call switches to {tag}, a language the flow does not declare",
                value.span,
                help=f"add {tag} to the flow's `languages` line and to every prompt",
                notes=("declared: " + ", ".join(declared),))


def _used_modules(program: Program) -> Iterator[Diagnostic]:
    entry = program.entry_module
    wanted = [lang.tag for lang in declared_languages(entry.module) if TAG.match(lang.tag)]
    if not wanted:
        return
    warned: set[str] = set()  # a module `use`d twice (E101) is one problem here
    for item in entry.module.items:
        if not isinstance(item, ast.Use) or item.local_name not in entry.imports \
                or item.local_name in warned:
            continue
        warned.add(item.local_name)
        used = program.modules.get(entry.imports[item.local_name])
        if used is None:
            continue
        prompts = [i for i in used.module.items if isinstance(i, ast.Prompt)]
        # a language the module declares is already held to by its own E400
        own = {lang.tag for lang in declared_languages(used.module)}
        missing = [tag for tag in wanted if tag not in own
                   and any(tag not in {v.lang.tag for v in p.variants} for p in prompts)]
        if missing:
            name = ".".join(item.path)
            yield diagnostic(
                "W404", f"module `{name}` has prompts without {', '.join(missing)}, which this "
                        "flow declares", item.span,
                help=_add_variants_help(item.path, missing),
                notes=("callers in those languages hear that module's prompts in another "
                       "language, or nothing",))


def _add_variants_help(path: tuple[str, ...], missing: list[str]) -> str:
    name, languages = ".".join(path), ", ".join(missing)
    if path[0] != "stdlib":
        return f"add {languages} variants to the prompts of `{name}`"
    # the library is installed with ccdsl (an upgrade replaces it): the author's way
    # is a copy of their own, or accepting its languages
    return (f"the standard library is not yours to edit: for {languages} prompts copy "
            f"stdlib_flows/{'/'.join(path[1:])}.ccf beside this flow and `use {path[-1]}`; "
            "to accept its other languages, end this line with `# ccf: ignore[W404]`")
