"""`ccf cache info` and `ccf cache clear`: the compiler's cache folder, shown and emptied.
Reads options and prints; compiler/cache_contents.py finds what is there and removes it."""

from __future__ import annotations

from typing import Annotated

import typer

from ccdsl.cli.common import TextFormat, TextFormatOption, fail, write
from ccdsl.cli.exit_codes import USAGE

app = typer.Typer(
    name="cache",
    help="The compiler's cache of parsed modules and results: where it is, what it holds, "
         "and clearing it.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# each group of files, as info lists them
GROUPS = (("modules", "modules/"), ("results", "results/"),
          ("grammar tables", "grammar tables"))


@app.command("info")
def info(fmt: TextFormatOption = TextFormat.text) -> None:
    """Show the cache folder, why it is that one, whether it is used, and what it holds.

    The folder is $CCF_CACHE_DIR, else $XDG_CACHE_HOME/ccdsl, else
    ~/.cache/ccdsl. It is not used when it cannot be made or written, or
    when other users can write it (its entries are Python pickles). Lists
    the entries of each kind with their sizes against the 256 MiB limit,
    and any file in it that is not named as ccdsl names its files (it
    reads none of them: `ccf cache clear` also checks their first bytes).
    Makes nothing. `--format
    json` gives the same for scripts. Exit status: 0, or 2 for a usage
    error.
    """
    from ccdsl.compiler import cache_contents
    from ccdsl.compiler.cache_store import MAX_BYTES
    from ccdsl.terminal_text import visible as v

    found = cache_contents.contents()
    kept = found.limited
    if fmt is TextFormat.json:
        from ccdsl import json_text

        def group(name: str) -> dict:
            count, size = found.group(name)
            return {"files": count, "bytes": size}

        write(json_text.dumps({
            "folder": found.folder, "chosen_by": found.chosen_by or None,
            "state": found.state, "problem": found.problem, "is_cache": found.is_cache,
            "groups": {name: group(name) for name, _ in GROUPS},
            "temporary": group("temporary"), "other": {"items": found.group("other")[0]},
            "limit_bytes": MAX_BYTES, "limited_bytes": kept,
        }, ensure_ascii=False, indent=2) + "\n")
        return
    lines = [("folder", f"{v(found.folder)}  ({_why_folder(found.chosen_by)})"),
             ("state", found.state + (f": {v(found.problem)}" if found.problem else ""))]
    for name, label in GROUPS:
        lines.append((label, _count(*found.group(name), "entry", "entries")))
    count, size = found.group("temporary")
    if count:
        # files entries are being written to, or were by a run that died
        lines.append(("temporary", _count(count, size, "file", "files")))
    lines.append(("total", f"{_bytes(kept)} of the {_bytes(MAX_BYTES)} limit in modules/ and "
                           "results/"))
    others = found.group("other")[0]
    if others:
        lines.append(("not ccdsl's", f"{_items(others)}, left alone by `ccf cache clear`"))
    width = max(len(label) for label, _ in lines)
    write("".join(f"{label:<{width}}  {value}\n" for label, value in lines))


DryRunOption = Annotated[bool, typer.Option(
    "--dry-run", "-n", help="Only say what would be removed; remove nothing.")]


@app.command("clear")
def clear(dry_run: DryRunOption = False) -> None:
    """Remove every entry ccdsl made in the cache folder, and the grammar's tables.

    Only files ccdsl made are removed: an entry's name and first bytes are
    checked, a symlink is never followed, and any other file is left where
    it is. A folder with nothing of ccdsl's in it is refused, in case
    $CCF_CACHE_DIR names the wrong one. Safe while another `ccf` runs: it
    compiles again what it no longer finds, as the next run does. Exit
    status: 0 when everything found was removed, 2 when the folder is not a
    ccdsl cache or a file could not be removed.
    """
    from ccdsl.compiler import cache_contents
    from ccdsl.terminal_text import visible as v

    found = cache_contents.contents(opened=True)
    if not found.is_cache:
        raise fail(f"{v(found.folder)} is not a ccdsl cache folder (no modules/, results/ or "
                   f"grammar tables in it): nothing removed{_check_variable(found)}", USAGE)
    removable = found.removable
    others = found.group("other")[0]
    left = f"; {_items(others)} not ccdsl's left alone" if others else ""
    if dry_run:
        size = sum(f.size for f in removable)
        write(f"would remove {_count(len(removable), size, 'file', 'files')} from "
              f"{v(found.folder)}{left}\n")
        return
    removed = cache_contents.clear(found)
    write(f"removed {_count(removed.count, removed.size, 'file', 'files')} from "
          f"{v(found.folder)}{left}\n")
    if removed.failures:
        for path, why in removed.failures[:5]:
            write(f"error: cannot remove {v(path)}: {v(why)}\n", err=True)
        more = len(removed.failures) - 5
        if more > 0:
            write(f"error: and {more} more that cannot be removed\n", err=True)
        raise typer.Exit(USAGE)


def _why_folder(chosen_by: str) -> str:
    if chosen_by:
        return f"${chosen_by}" if chosen_by != "XDG_CACHE_HOME" else "$XDG_CACHE_HOME/ccdsl"
    return "the default: neither $CCF_CACHE_DIR nor $XDG_CACHE_HOME is set"


def _check_variable(found) -> str:
    return f"; check ${found.chosen_by}" if found.chosen_by else ""


def _items(count: int) -> str:
    return f"{count} {'file or folder' if count == 1 else 'files or folders'}"


def _count(count: int, size: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}, {_bytes(size)}"


def _bytes(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes" if size != 1 else "1 byte"
