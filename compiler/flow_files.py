"""Which files a command compiles: the entry flows among the paths it was given.

Light on purpose (no parser, no AST): `ccf validate` of an unchanged tree finds its
files here and its results in the cache without importing the compiler."""

from __future__ import annotations

import os

from ccdsl.compiler.reader import file_exists
from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import Span
from ccdsl.stdlib_files import stdlib_dir  # noqa: F401 (read here: tests replace it here)

TEST_SUFFIX = ".test.ccf"


def flow_of(test_path: str) -> str:
    return test_path[: -len(TEST_SUFFIX)] + ".ccf"


def is_orphan(path: str) -> bool:
    """A NAME.test.ccf with no NAME.ccf beside it (E306)."""
    return path.endswith(TEST_SUFFIX) and not file_exists(flow_of(path))


def find_flow_files(paths: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """Expand files and directories (recursively) into the entry files to
    compile. `NAME.test.ccf` files are compiled with NAME.ccf, not alone."""
    files: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.endswith(".ccf") and not name.endswith(TEST_SUFFIX):
                        found.append(os.path.join(root, name))
                    elif name.endswith(TEST_SUFFIX) and is_orphan(os.path.join(root, name)):
                        found.append(os.path.join(root, name))  # E306 when compiled
            if not found:
                problems.append(diagnostic(
                    "E006", f"`{path}` has no .ccf files", Span(path, 1, 1, 1, 1),
                    help="pass .ccf files or a directory that contains some"))
            files.extend(found)
        elif path.endswith(TEST_SUFFIX) and os.path.isfile(flow_of(path)):
            files.append(flow_of(path))
        else:
            files.append(path)
    # one flow under however many names it was given (`flows/` and `flows/desk.ccf`,
    # `./desk.ccf` and `desk.ccf`): kept under the first, so its errors and tests come once
    once: dict[str, str] = {}
    for path in files:
        once.setdefault(os.path.realpath(path), path)
    return list(once.values()), problems
