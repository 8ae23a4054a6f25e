"""The floors of docs/architecture.md, checked on the import graph of the source.

Every import counts, function-local and TYPE_CHECKING ones included: a cycle
held together by a local import is still a cycle.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# folder -> the import name it installs as (pyproject's package-dir)
FOLDERS = {"ccdsl": "ccdsl", "compiler": "ccdsl.compiler", "runtime": "ccdsl.runtime",
           "cli": "ccdsl.cli", "stdlib_flows": "ccdsl.stdlib_flows"}

# floor -> the floors it may import (besides itself); docs/architecture.md draws them
FLOORS = {
    "language": set(),
    "compiler": {"language"},
    "runtime.core": {"language"},
    "operations": {"runtime.core", "language"},
    "sim": {"operations", "runtime.core", "language"},
    "asterisk": {"operations", "runtime.core", "language"},
    "testing": {"sim", "asterisk", "operations", "runtime.core", "language"},
    "console": {"sim", "asterisk", "operations", "runtime.core", "language"},
    "editor": {"compiler", "language"},
    "cli": {"console", "testing", "sim", "asterisk", "operations", "runtime.core", "editor",
            "compiler", "language"},
}
PREFIXES = [  # most specific first
    ("ccdsl.runtime.core", "runtime.core"), ("ccdsl.runtime.operations", "operations"),
    ("ccdsl.runtime.sim", "sim"), ("ccdsl.runtime.asterisk", "asterisk"),
    ("ccdsl.runtime.testing", "testing"),
    ("ccdsl.runtime.console", "console"), ("ccdsl.runtime", "runtime.core"),
    ("ccdsl.compiler.lsp", "editor"), ("ccdsl.compiler", "compiler"), ("ccdsl.cli", "cli"),
    ("ccdsl.stdlib_flows", "language"),
    ("ccdsl", "language"),
]
# import names a shipped module must never use: the test doubles, and the
# top-level names the folders had before they became subpackages of ccdsl
NOT_SHIPPED = {"tests", "doubles", "conftest", "compiler", "runtime", "cli", "stdlib_flows"}


def floor_of(module: str) -> str:
    for prefix, floor in PREFIXES:
        if module == prefix or module.startswith(prefix + "."):
            return floor
    raise AssertionError(f"{module} is on no floor: add it to PREFIXES")


@cache
def modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imported(path: Path, module: str) -> set[str]:
    """The modules `path` imports, resolved to modules of ours where they are."""
    out = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # `from pkg import module` imports the module
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base)
    return out


@cache
def graph() -> dict[str, set[str]]:
    ours = modules()
    return {module: {m for m in imported(path, module) if m in ours and m != module}
            for module, path in ours.items()}


def upward(edges: dict[str, set[str]]) -> list[str]:
    return sorted(f"{module} ({floor_of(module)}) imports {target} ({floor_of(target)})"
                  for module, targets in edges.items() for target in targets
                  if floor_of(target) != floor_of(module)
                  and floor_of(target) not in FLOORS[floor_of(module)])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """An import cycle of the graph, if it has one (graphlib names one at a time)."""
    try:
        TopologicalSorter(edges).prepare()
    except CycleError as exc:
        return [exc.args[1]]
    return []


def test_every_module_is_on_a_floor() -> None:
    for module in modules():
        assert floor_of(module) in FLOORS


def test_imports_only_go_down_the_floors() -> None:
    bad = upward(graph())
    assert not bad, "imports that do not go down the floors:\n" + "\n".join(bad)


def test_there_is_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, f"an import cycle: {' -> '.join(found[0]) if found else ''}"


def test_no_shipped_module_imports_test_code_or_an_old_top_level_name() -> None:
    bad = sorted(f"{module} imports {name}" for module, path in modules().items()
                 for name in imported(path, module) if name.split(".")[0] in NOT_SHIPPED)
    assert not bad, "\n".join(bad)


def test_the_rules_fail_on_an_upward_import_a_sibling_import_and_a_cycle(tmp_path) -> None:
    store, ami = "ccdsl.runtime.operations.store", "ccdsl.runtime.asterisk.ami"
    sim, core = "ccdsl.runtime.sim.channel", "ccdsl.runtime.core.values"
    assert upward({store: {ami, core}}) == [f"{store} (operations) imports {ami} (asterisk)"]
    assert len(upward({sim: {ami}, ami: {sim}})) == 2  # siblings never import each other
    assert upward({ami: {store, core}}) == []
    (cycle,) = cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert set(cycle) == {"a", "b", "c"}
    assert cycles({"a": {"b"}, "b": set(), "d": {"a", "b"}}) == []
    # a function-local import is read as an import
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from ccdsl.runtime.asterisk import ami\n", encoding="utf-8")
    assert ami in imported(module, "ccdsl.runtime.operations.m")


LONGEST = 620  # "about 600 lines"; docs/architecture.md lists any module allowed more


def test_no_module_is_over_about_600_lines_unless_the_architecture_says_why() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = re.search(r"<!-- long modules: (.*?) -->", doc)
    assert listed, "docs/architecture.md keeps its list of long modules in a comment"
    allowed = {p.strip() for p in listed.group(1).split(",")} - {"none"}
    long = sorted(f"{path.relative_to(ROOT)} ({lines} lines)"
                  for path in modules().values()
                  if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST
                  and str(path.relative_to(ROOT)) not in allowed)
    assert not long, "over about 600 lines, and not in docs/architecture.md: " + ", ".join(long)


def _named_files(cell: str) -> list[str]:
    """The files a cell of the concept table names, as paths from the root: a
    bare `name.py` is in the folder of the last path named before it."""
    folder, found = "", []
    for name in re.findall(r"`([^`]+)`", cell):
        if "/" in name:
            folder = name if name.endswith("/") else name.rsplit("/", 1)[0] + "/"
            found.append(name)
        elif name.endswith((".py", ".lark", ".json", ".md")) and folder:
            found.append(folder + name)
    return found


def test_every_module_the_concept_table_names_exists() -> None:
    # a file renamed or moved leaves the table pointing the next engineer nowhere
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = doc.split("## Where each concept lives", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[2] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| concept")]
    named = [name for cell in rows for name in _named_files(cell)]
    assert len(named) > 50, "the concept table lost its modules"
    missing = [name for name in named if not any(ROOT.glob(name))]
    assert not missing, "docs/architecture.md names files that do not exist: " + ", ".join(missing)
