"""What the subcommands share: the diagnostic formats, gathering the source
text that diagnostics quote, and writing output with colour only for a
terminal. Heavy modules are imported inside functions so `ccf` starts fast."""

from __future__ import annotations

import os
import sys
from enum import StrEnum


class Format(StrEnum):
    text = "text"
    concise = "concise"
    json = "json"
    github = "github"


FORMAT_HELP = ("How to print diagnostics: text (quoted source with carets), concise "
               "(file:line:col: CODE message), json (a list of objects, for tools) or github "
               "(GitHub Actions annotations).")


def wants_color(stream) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set
    (https://no-color.org), so files, pipes and CI logs stay plain."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write(text: str, *, err: bool = False) -> None:
    if not text:
        return
    stream = sys.stderr if err else sys.stdout
    stream.write(text)
    stream.flush()


def sources_for(diags, known: dict) -> dict:
    """The sources the diagnostics point into. A file that failed to parse
    is not part of a loaded program, so its text is read again here to be
    quoted; files that cannot be read are simply not quoted."""
    from ccdsl.compiler.reader import read_source

    sources = dict(known)
    for diag in diags:
        path = diag.span.file
        if path in sources or diag.code in {"E006", "E007", "E008", "E009"}:
            continue
        source, _ = read_source(path) if os.path.isfile(path) else (None, [])
        if source is not None:
            sources[path] = source
    return sources


def render_diagnostics(diags, sources: dict, fmt: Format, *, err: bool = False,
                       root: str | None = None) -> str:
    from ccdsl.render import render

    stream = sys.stderr if err else sys.stdout
    color = fmt is Format.text and wants_color(stream)
    return render(diags, sources_for(diags, sources), fmt.value, color=color, root=root)


class StoreNotNamed(Exception):
    """No call store can be found from the options; the message says how to
    name one (the commands exit 2: a usage error)."""


def store_path(store, config: str | None) -> str:
    """The call store the operations commands read: --store (or $CCF_STORE,
    which typer puts there), else the [paths] store of --config (or
    $CCF_CONFIG), else of ./ccf.toml when there is one."""
    if store is not None:
        return str(store)
    if config is None:
        if not os.path.isfile("ccf.toml"):
            raise StoreNotNamed("no call store given: name it with --store FILE or "
                                "$CCF_STORE, or give --config ccf.toml (its [paths] store); "
                                "there is no ccf.toml here")
        config = "ccf.toml"
    from ccdsl.runtime.asterisk.config import ConfigError, load_config

    try:
        return load_config(config).store_path
    except ConfigError as exc:
        problems = "\n".join(f"  {p}" for p in exc.problems)
        raise StoreNotNamed(f"the call store is named in `{config}`, which cannot be used:\n"
                            f"{problems}") from None


def table_console():
    """A rich Console for the commands' tables on stdout: colour only on a
    terminal; off a terminal nothing is cut to fit a width (the output is
    read whole, by a pipe or a file)."""
    from rich.console import Console

    terminal = wants_color(sys.stdout)
    return Console(no_color=not terminal, highlight=False, width=None if terminal else 10_000)
