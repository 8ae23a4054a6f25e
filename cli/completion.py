"""Shell completion of `ccf`'s arguments: flow files, diagnostic codes, test names. Runs
only when the shell asks (`_CCF_COMPLETE`); imports the compiler's code table only then."""

from __future__ import annotations

import os
import re


def flow_paths(incomplete: str) -> list[str]:
    """The .ccf files and the folders (which may hold some) starting with the
    word typed so far; hidden ones only when the word starts with a dot."""
    head, sep, stem = incomplete.rpartition("/")
    prefix = head + sep
    folder = prefix or "."
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        if os.path.isdir(os.path.join(folder, name)):
            found.append(f"{prefix}{name}/")
        elif name.endswith(".ccf"):
            found.append(prefix + name)
    return found


def diagnostic_codes(incomplete: str) -> list[tuple[str, str]]:
    """The diagnostic codes starting with the word typed so far, with their titles."""
    from ccdsl.codes import CODES

    wanted = incomplete.strip().upper()
    return [(code, info.title) for code, info in CODES.items() if code.startswith(wanted)]


def warning_codes(incomplete: str) -> list[tuple[str, str]]:
    """--select and --ignore: the warning codes (only warnings can be chosen)
    starting with the last comma-separated word typed, the words before kept."""
    from ccdsl.codes import CODES, Severity

    head, sep, word = incomplete.rpartition(",")
    wanted = word.strip().upper()
    return [(head + sep + code, info.title) for code, info in CODES.items()
            if info.severity is Severity.WARNING and code.startswith(wanted)]


# a test block's first line; a cheap scan, so TAB never waits for a compile
_TEST_LINE = re.compile(r'^\s*test\s+"((?:[^"\\]|\\.)*)"\s*:', re.M)
_MOST_FILES = 2000


def test_names(ctx, incomplete: str) -> list[str]:
    """`ccf test -k`: the names of the tests in the paths given so far (else
    under the current folder), each made one -k phrase and escaped for the
    shell (typer keeps those that start with the word typed)."""
    # while completing, click leaves the paths typed among the context's args
    given = [*(ctx.params.get("paths") or ()), *ctx.args] if ctx is not None else []
    given = given or ["."]
    paths = [p for p in given if p.endswith(".ccf") or os.path.isdir(p)]
    names: set[str] = set()
    for path in _flow_files(paths):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            continue
        names.update(name for name in _TEST_LINE.findall(text)
                     if "\\" not in name and "${" not in name)
    offered = (_shell_escaped(_k_phrase(name)) for name in sorted(names))
    return [value for value in offered if value.startswith(incomplete)]


def _shell_escaped(text: str) -> str:
    """Text as one shell word, a backslash before each character the shell
    would split at or read (not quotes around it: completion must extend the
    word typed so far)."""
    return "".join(ch if ch.isalnum() or ch in "_./:,@%+=-" else "\\" + ch for ch in text)


def _flow_files(paths: list[str]):
    count = 0
    for path in paths:
        if os.path.isfile(path):
            count += 1
            yield path
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.endswith(".ccf"):
                    count += 1
                    if count > _MOST_FILES:
                        return
                    yield os.path.join(root, name)


def _k_phrase(name: str) -> str:
    """The name as one -k phrase: quoted when its words would be read as
    and/or/not or brackets."""
    from ccdsl.runtime.testing.selection import KEYWORDS

    if not (set(name.split()) & set(KEYWORDS) or set(name) & set("()\"'")):
        return name
    for quote in ('"', "'"):
        if quote not in name:
            return f"{quote}{name}{quote}"
    return name
