"""What the compiler's cache folder holds, and removing what ccdsl made in it: `ccf cache`.
Must not load an entry, follow a symlink out of the folder, or remove a file ccdsl did not make.

A file is ccdsl's when its place, name and first bytes are those ccdsl gives it (`ccf cache
info` goes by place and name alone, and reads no file; `clear` reads the first bytes): an entry
(KIND/DIGEST starting with cache_store.MAGIC), a temporary file an entry is written to
(KIND/.tmp-*), or the grammar's tables (grammar-HASH.lark-cache, starting with the hex
sha256 of the grammar lark keys them by). Anything else is left where it is.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

from ccdsl.compiler import cache_store
from ccdsl.compiler.cache_store import KINDS, STALE_TEMP_S, TEMP_PREFIX

GRAMMAR = "grammar tables"
_LARK_HEADER = re.compile(rb"[0-9a-f]{64}\n")


@dataclass(frozen=True)
class Found:
    """One file in the folder: its path, its group (a kind, GRAMMAR, "temporary" or
    "other"), its size, and whether `ccf cache clear` removes it."""

    path: str
    group: str
    size: int
    removable: bool


@dataclass(frozen=True)
class Contents:
    folder: str
    chosen_by: str  # the variable that named the folder, "" for the default
    state: str  # cache_store.check's: USED, NOT_MADE, READ_ONLY or NOT_USED
    problem: str | None  # why it is not used (or only read), or why it cannot be made
    files: tuple[Found, ...]
    is_cache: bool  # empty, missing, or holding something ccdsl made
    limited: int  # bytes in the entries' folders, which the 256 MiB limit counts

    def group(self, name: str) -> tuple[int, int]:
        """(files, bytes) of a group."""
        found = [f for f in self.files if f.group == name]
        return len(found), sum(f.size for f in found)

    @property
    def removable(self) -> tuple[Found, ...]:
        return tuple(f for f in self.files if f.removable)


@dataclass(frozen=True)
class Removed:
    count: int
    size: int
    failures: tuple[tuple[str, str], ...]  # (path, why) of each that could not be removed


def contents(folder: str | None = None, *, opened: bool = False) -> Contents:
    """The cache folder's files and state (the folder in use when None); makes nothing.
    A file is ccdsl's by its place and name; `opened` (what `ccf cache clear` removes) reads
    each one's first bytes too, which `ccf cache info` does not spend a read of every file on."""
    chosen_by = ""
    if folder is None:
        folder, chosen_by = cache_store.folder_choice()
    listed = cache_store.listing(folder)
    files, has_ours, has_any = _scan(folder, listed, opened)
    state, problem = cache_store.check(folder)
    return Contents(folder, chosen_by, state, problem, tuple(files), has_ours or not has_any,
                    sum(entry.size for entry in listed))


def clear(found: Contents) -> Removed:
    """Remove the files of found that ccdsl made and no running ccf is writing. Another
    ccf reading at the same moment finds its entry gone and compiles again."""
    count = size = 0
    failures = []
    for item in found.removable:
        try:
            os.unlink(item.path)  # unlinks a symlink itself, never its target
        except FileNotFoundError:  # another ccf pruned it first
            continue
        except OSError as exc:
            failures.append((item.path, exc.strerror or str(exc)))
            continue
        count += 1
        size += item.size
    return Removed(count, size, tuple(failures))


def _scan(folder: str, listed: list[cache_store.Entry],
          opened: bool) -> tuple[list[Found], bool, bool]:
    """The files under folder (those of the entries folders as `listed`), whether any is
    ccdsl's (an entries folder counts), and whether there is anything at all."""
    try:
        with os.scandir(folder) as listing:
            top = sorted(listing, key=lambda e: e.name)
    except OSError:  # missing, not a folder, unreadable: nothing to list
        return [], False, False
    files: list[Found] = []
    ours = False
    now = time.time()
    for entry in top:
        if entry.name in KINDS and entry.is_dir(follow_symlinks=False):
            ours = True
            files.extend(_found(item, now, opened) for item in listed
                         if item.kind == entry.name)
        elif cache_store.GRAMMAR_TABLES.fullmatch(entry.name) \
                and entry.is_file(follow_symlinks=False) \
                and (not opened or _lark_tables(entry.path)):
            ours = True
            files.append(Found(entry.path, GRAMMAR, _size(entry), True))
        else:
            files.append(Found(entry.path, "other", _size(entry), False))
    return files, ours, bool(top)


def _found(entry: cache_store.Entry, now: float, opened: bool) -> Found:
    if entry.regular and entry.name.startswith(TEMP_PREFIX):
        # one written just now belongs to a ccf that is running: left to it
        return Found(entry.path, "temporary", entry.size, now - entry.used > STALE_TEMP_S)
    if entry.regular and cache_store.ENTRY_NAME.fullmatch(entry.name) \
            and (not opened or cache_store.made_here(entry.path)):
        return Found(entry.path, entry.kind, entry.size, True)
    return Found(entry.path, "other", entry.size, False)


def _lark_tables(path: str) -> bool:
    first = cache_store.head(path, 65)
    return first is not None and _LARK_HEADER.fullmatch(first) is not None


def _size(entry: os.DirEntry) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0
