"""What the compiler's cache folder holds, and removing what ccdsl made in it: `ccf cache`.
Must not load an entry, follow a symlink out of the folder, or remove a file ccdsl did not make.

A file is ccdsl's when its place, name and first bytes are those ccdsl gives it: an entry
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

# how usable the folder is, as cache_store.Store would find it
USED = "used"
NOT_MADE = "not made yet"  # the next compile makes it
READ_ONLY = "read only"  # entries are read; the first one to write turns the cache off
NOT_USED = "not used"


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
    state: str
    problem: str | None  # why it is not used (or only read), or why it cannot be made
    files: tuple[Found, ...]
    is_cache: bool  # empty, missing, or holding something ccdsl made

    def group(self, name: str) -> tuple[int, int]:
        """(files, bytes) of a group."""
        found = [f for f in self.files if f.group == name]
        return len(found), sum(f.size for f in found)

    @property
    def removable(self) -> tuple[Found, ...]:
        return tuple(f for f in self.files if f.removable)

    @property
    def limited(self) -> int:
        """Bytes in the entries' folders, which the 256 MiB limit counts."""
        return sum(f.size for f in self.files
                   if os.path.dirname(os.path.dirname(f.path)) == self.folder
                   and os.path.basename(os.path.dirname(f.path)) in KINDS)


@dataclass(frozen=True)
class Removed:
    count: int
    size: int
    failures: tuple[tuple[str, str], ...]  # (path, why) of each that could not be removed


def contents(folder: str | None = None) -> Contents:
    """The cache folder's files and state (the folder in use when None); makes nothing."""
    chosen_by = ""
    if folder is None:
        folder, chosen_by = cache_store.folder_choice()
    files, has_ours, has_any = _scan(folder)
    state, problem = _state(folder)
    return Contents(folder, chosen_by, state, problem, tuple(files), has_ours or not has_any)


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


def _scan(folder: str) -> tuple[list[Found], bool, bool]:
    """The files under folder, whether any is ccdsl's (an entries folder counts), and
    whether there is anything at all."""
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
            files.extend(_scan_kind(entry.path, entry.name, now))
        elif cache_store.GRAMMAR_TABLES.fullmatch(entry.name) \
                and entry.is_file(follow_symlinks=False) and _lark_tables(entry.path):
            ours = True
            files.append(Found(entry.path, GRAMMAR, _size(entry), True))
        else:
            files.append(Found(entry.path, "other", _size(entry), False))
    return files, ours, bool(top)


def _scan_kind(path: str, kind: str, now: float) -> list[Found]:
    try:
        with os.scandir(path) as listing:
            inside = sorted(listing, key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in inside:
        regular = entry.is_file(follow_symlinks=False)
        size = _size(entry)
        if regular and entry.name.startswith(TEMP_PREFIX):
            # one written just now belongs to a ccf that is running: left to it
            out.append(Found(entry.path, "temporary", size, _age(entry, now) > STALE_TEMP_S))
        elif regular and cache_store.ENTRY_NAME.fullmatch(entry.name) \
                and cache_store.made_here(entry.path):
            out.append(Found(entry.path, kind, size, True))
        else:
            out.append(Found(entry.path, "other", size, False))
    return out


def _lark_tables(path: str) -> bool:
    first = cache_store.head(path, 65)
    return first is not None and _LARK_HEADER.fullmatch(first) is not None


def _size(entry: os.DirEntry) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_size
    except OSError:
        return 0


def _age(entry: os.DirEntry, now: float) -> float:
    try:
        return now - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def _state(folder: str) -> tuple[str, str | None]:
    """How cache_store.Store would use the folder, found without making anything."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        parent = _existing_parent(folder)
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            return NOT_USED, f"{folder} cannot be made: {parent} cannot be written"
        return NOT_MADE, None
    except OSError as exc:  # a file where a folder of its path should be
        return NOT_USED, f"{folder} cannot be made: {exc.strerror or exc}"
    if not os.path.isdir(folder):
        return NOT_USED, f"{folder} cannot be made: it is not a folder"
    why = cache_store.unsafe(folder, info)
    if why:
        return NOT_USED, why
    writable = os.access(folder, os.W_OK | os.X_OK)
    for kind in KINDS:
        sub = os.path.join(folder, kind)
        if not os.path.isdir(sub):
            if not writable:
                return NOT_USED, f"{sub} cannot be made: {folder} cannot be written"
        elif not os.access(sub, os.W_OK | os.X_OK):
            return READ_ONLY, f"{sub} cannot be written"
    return USED, None


def _existing_parent(folder: str) -> str | None:
    path = os.path.abspath(folder)
    while True:
        parent = os.path.dirname(path)
        if parent == path:
            return None
        if os.path.exists(parent):
            return parent
        path = parent
