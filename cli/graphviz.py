"""Graphviz's `dot` turning DOT text into SVG, for `ccf graph` and `ccf report --graph`.
Runs the program Debian's graphviz package installs; never draws anything itself."""

from __future__ import annotations

import shutil
import subprocess

MISSING = ("Graphviz's `dot` is not installed: install the graphviz package "
           "(apt-get install graphviz); --format dot and mermaid need no Graphviz")


class GraphvizError(Exception):
    """dot is missing (`missing`; the message says which package brings it), or failed."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def to_svg(dot_text: str) -> str:
    """The SVG dot draws of `dot_text`."""
    return _drawn(dot_text, "svg").decode("utf-8")


def to_png(dot_text: str) -> bytes:
    """The PNG image dot draws of `dot_text`."""
    return _drawn(dot_text, "png")


def _drawn(dot_text: str, kind: str) -> bytes:
    program = shutil.which("dot")
    if program is None:
        raise GraphvizError(MISSING, missing=True)
    try:
        done = subprocess.run([program, f"-T{kind}"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphvizError(f"Graphviz's dot ({program}) could not run: {exc}") from None
    if done.returncode != 0:
        # the DOT text is ccf's own: dot refusing it is a ccf bug
        raise RuntimeError(f"dot refused ccf's DOT: {done.stderr.decode(errors='replace')}")
    return done.stdout
