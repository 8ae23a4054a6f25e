"""What a command writes to `-o FILE` when `--format` is not given: the file's suffix chooses,
for `ccf graph` and `ccf report` alike. Chooses only; must not render or write anything."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import TypeVar

from ccdsl.cli.common import fail
from ccdsl.cli.exit_codes import USAGE

F = TypeVar("F", bound=Enum)


def suffixes_help(suffixes: Mapping[str, Enum]) -> str:
    """`.dot or .gv (dot), .svg (svg)`: each format with the suffixes that choose it."""
    by_format: dict[Enum, list[str]] = {}
    for suffix, fmt in suffixes.items():
        by_format.setdefault(fmt, []).append(suffix)
    return ", ".join(f"{' or '.join(names)} ({fmt.value})" for fmt, names in by_format.items())


def chosen_format(given: F | None, output: Path | None, suffixes: Mapping[str, F],
                  default: F) -> F:
    """The format asked for; without one, the one OUTPUT's suffix names (no output or no
    suffix: DEFAULT). A suffix the command cannot write exits USAGE naming those it can,
    so a file never holds another format than its name says."""
    if given is not None:
        return given
    if output is None or not output.suffix:
        return default
    suffix = output.suffix.lower()
    if suffix in suffixes:
        return suffixes[suffix]
    raise fail(f"--output {output}: cannot write {suffix} files; the suffix chooses the "
               f"format: {suffixes_help(suffixes)}; or give --format", USAGE)
