"""Load an entry flow and, transitively, the modules it `use`s; must not check or lower them.

`use stdlib.NAME` loads stdlib_flows/NAME.ccf from the installed package;
`use NAME` (or `use dir.NAME`) loads NAME.ccf beside the importing file.
Cycles are reported at the `use` line that closes them. Tests written in
NAME.test.ccf beside NAME.ccf are attached to that flow.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from ccdsl import ast
from ccdsl.compiler import flow_files
from ccdsl.compiler.flow_files import TEST_SUFFIX
from ccdsl.compiler.parse_cache import ParseCache
from ccdsl.compiler.program import LoadedModule, Program
from ccdsl.compiler.reader import (
    file_exists,
    file_names,
    held_unsaved,
    read_source,
    source_exists,
    source_from_text,
)
from ccdsl.diagnostics import Diagnostic, closest, diagnostic, did_you_mean
from ccdsl.source import SourceFile


def flows_in(folder: str) -> list[str]:
    """The flows of a folder (test files left out), by name, sorted; none when it
    cannot be read (for suggestions only)."""
    return [f[:-4] for f in file_names(folder)
            if f.endswith(".ccf") and not f.endswith(TEST_SUFFIX)]


def stdlib_names() -> list[str]:
    return flows_in(flow_files.stdlib_dir())


def module_name_for(path: str) -> str:
    base = os.path.basename(path)
    return base[: -len(TEST_SUFFIX)] if base.endswith(TEST_SUFFIX) else base[:-4] \
        if base.endswith(".ccf") else base


def _resolve_use(use: ast.Use, importer_path: str) -> tuple[str, str, str, bool]:
    """(key, display name, file path, is_stdlib) of the module a `use` names."""
    return resolve_dotted(use.path, importer_path)


def resolve_dotted(dotted: tuple[str, ...], importer_path: str) -> tuple[str, str, str, bool]:
    """(key, display name, file path, is_stdlib) of the module `use A.B` names in
    importer_path (the file need not exist)."""
    if dotted[0] == "stdlib" and len(dotted) >= 2:
        rel = os.path.join(*dotted[1:]) + ".ccf"
        path = os.path.join(flow_files.stdlib_dir(), rel)
        name = ".".join(dotted)
        return name, name, path, True
    rel = os.path.join(*dotted) + ".ccf"
    path = os.path.normpath(os.path.join(os.path.dirname(importer_path) or ".", rel))
    return os.path.abspath(path), ".".join(dotted), path, False


def _unknown_module_help(use: ast.Use, importer_path: str) -> str | None:
    if use.path[0] == "stdlib":
        names = stdlib_names()
        wanted = ".".join(use.path[1:])
        close = closest(wanted, names)
        if close:
            return f"did you mean `stdlib.{close}`?"
        return "the standard library has: " + ", ".join(f"stdlib.{n}" for n in names)
    siblings = flows_in(os.path.dirname(importer_path) or ".")
    close = did_you_mean(".".join(use.path), siblings)
    if close:
        return close
    folder = os.path.dirname(importer_path)
    if file_exists(importer_path):
        where = "beside this file"
    elif folder:
        where = f"in {folder}"
    else:  # standard input without --stdin-filename, or an editor's unsaved buffer
        where = "in the current directory" + (
            " (give the flow's path with --stdin-filename)" if importer_path == "<stdin>" else "")
    return f"`use {'.'.join(use.path)}` looks for {os.path.join(*use.path)}.ccf {where}"


@dataclass
class _Loading:
    """A module whose `use` lines are being followed."""

    key: str
    name: str
    path: str
    is_stdlib: bool
    source: SourceFile
    module: ast.Module
    uses: Iterator[ast.Use]
    imports: dict[str, str] = field(default_factory=dict)


def load_program(path: str, text: str | None = None, parses: ParseCache | None = None, *,
                 keep_entry: bool = True, edited: bool = False
                 ) -> tuple[Program | None, list[Diagnostic]]:
    """Load an entry flow and all it uses. Returns None when the entry, or
    a module it uses, cannot be read or parsed: that file's diagnostics say
    why, and checking the flow without the names the module declares would
    only add echoes of them. With text (standard input, an editor's buffer)
    the entry is that text under the name path, which need not exist; its
    `use`s resolve beside path.

    With parses, each file's parse comes from that cache when its text was
    parsed before; keep_entry False leaves the entry's parse out of the cache
    folder (it is being edited), as are texts an editor holds unsaved; edited: the
    entry's file changed since it was last validated, so its items are kept instead."""
    parse = (parses if parses is not None else ParseCache(None)).parse
    diags: list[Diagnostic] = []
    modules: dict[str, LoadedModule] = {}
    names: dict[str, str] = {}
    failed: set[str] = set()  # keys of the files that could not be read or parsed
    # test blocks that did not parse, as tests with no lines: each fails alone
    unparsed: list[ast.Test] = []
    entry_key = os.path.abspath(path)

    def read(key: str, name: str, file_path: str, is_stdlib: bool) -> _Loading | None:
        # cycles are shown by file name: the same file can be `use`d by
        # different dotted paths from different folders
        names[key] = name if is_stdlib else module_name_for(file_path)
        if key == entry_key and text is not None:
            source, read_diags = source_from_text(file_path, text)
        else:
            source, read_diags = read_source(file_path)
        diags.extend(read_diags)
        module = None
        if source is not None:
            # what is being edited changes again soon: not worth writing to the folder
            unsaved = held_unsaved(file_path)
            keep = not unsaved and (key != entry_key or (keep_entry and text is None))
            # the entry's own file, changed since its last validate: its items kept instead
            items = edited and not keep_entry and key == entry_key and text is None \
                and not unsaved
            module, parse_diags, broken = parse(source, keep=keep, items=items)
            diags.extend(parse_diags)
            if key == entry_key:
                unparsed.extend(broken)
        if module is None:
            failed.add(key)
            return None
        uses = (item for item in module.items if isinstance(item, ast.Use))
        return _Loading(key, name, file_path, is_stdlib, source, module, uses)

    # depth first with a list, not the stack: a chain of modules each using
    # the next is as long as the folder makes it
    first = read(entry_key, module_name_for(path), path, False)
    loading = [first] if first is not None else []
    while loading:
        current = loading[-1]
        item = next(current.uses, None)
        if item is None:  # every use followed: dependencies come before dependants
            loading.pop()
            modules[current.key] = LoadedModule(current.key, current.name, current.source,
                                                current.module, current.imports,
                                                current.is_stdlib)
            continue
        stack = [m.key for m in loading]
        dep_key, dep_name, dep_path, dep_stdlib = _resolve_use(item, current.path)
        if dep_key in stack:
            chain = " -> ".join(names[k] for k in stack[stack.index(dep_key):])
            diags.append(diagnostic(
                "E104", f"`use {'.'.join(item.path)}` makes an import cycle: {chain} -> "
                        f"{names.get(dep_key, dep_name)}", item.span,
                help="move what both files need into a third file that neither imports"))
            continue
        if not source_exists(dep_path):
            diags.append(diagnostic("E103", f"there is no module `{'.'.join(item.path)}`",
                                    item.span, help=_unknown_module_help(item, current.path)))
            continue
        current.imports[item.local_name] = dep_key
        if dep_key not in modules and dep_key not in failed:
            dependency = read(dep_key, dep_name, dep_path, dep_stdlib)
            if dependency is not None:
                loading.append(dependency)
    if first is None or failed:
        return None, diags
    tests = [i for i in modules[entry_key].module.items if isinstance(i, ast.Test)]
    test_sources = []
    test_path = path[:-4] + TEST_SUFFIX if path.endswith(".ccf") else None
    if test_path and not path.endswith(TEST_SUFFIX) and file_exists(test_path):
        source, read_diags = read_source(test_path)
        diags.extend(read_diags)
        if source is not None:
            module, parse_diags, broken = parse(source, keep=not held_unsaved(test_path))
            diags.extend(parse_diags)
            unparsed.extend(broken)
            if module is not None:
                test_sources.append(source)
                for item in module.items:
                    if isinstance(item, ast.Test):
                        tests.append(item)
                    else:
                        diags.append(diagnostic(
                            "E303", "a .test.ccf file holds only `test` blocks", item.span,
                            help=f"move this declaration into {os.path.basename(path)}"))
    # keep the entry last so dependencies come first
    entry = modules.pop(entry_key)
    modules[entry_key] = entry
    return Program(entry_key, modules, tuple(tests), tuple(test_sources),
                   tuple(unparsed)), diags

