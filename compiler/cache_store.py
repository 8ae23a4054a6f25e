"""The compiler's cache folder: entries named by content hashes, written atomically, read
back only when whole and made by this very compiler. Must not parse, check or import the AST.

The folder is $CCF_CACHE_DIR, else $XDG_CACHE_HOME/ccdsl, else ~/.cache/ccdsl. An entry
is a file `KIND/KEY`: a magic line, the sha256 of the payload, the pickled payload. A
folder that cannot be made or written, or that someone else could write (pickles are
loaded from it), means compiling without the cache, never a failure.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache

ENV = "CCF_CACHE_DIR"
MAGIC = b"ccdsl-cache 1\n"
_DIGEST = 32
# beyond this the least recently used entries go, down to three quarters of it
MAX_BYTES = 256 * 1024 * 1024
# pruning stats every entry, so a process prunes at its first write and then only after
# writing this much more, not at every entry (a cold `ccf validate` writes hundreds)
PRUNE_EVERY = MAX_BYTES // 8
KINDS = ("modules", "results")
STALE_TEMP_S = 3600  # a temporary file this old was left by a process that died
TEMP_PREFIX = ".tmp-"  # an entry being written, renamed into place once whole
# an entry's name: a key_of() digest
ENTRY_NAME = re.compile(r"[0-9a-f]{64}")
# the grammar's LALR tables, which lark writes beside the entries (compiler/grammar.py)
GRAMMAR_TABLES = re.compile(r"grammar-[0-9a-f]{16}\.lark-cache")


def grammar_tables(grammar: str) -> str:
    """The file name of a grammar's LALR tables (GRAMMAR_TABLES): lark keys its own cache by
    grammar and options only when given no file name, so the grammar's hash is in it."""
    return f"grammar-{hashlib.sha256(grammar.encode()).hexdigest()[:16]}.lark-cache"


# how usable a folder is (check): a Store reads and writes one USED, and reads one READ_ONLY
# (its first write that fails turns the cache off)
USED = "used"
NOT_MADE = "not made yet"  # the first Store to use it makes it
READ_ONLY = "read only"
NOT_USED = "not used"


def folder_choice() -> tuple[str, str]:
    """The cache folder and the variable that chose it: CCF_CACHE_DIR, XDG_CACHE_HOME, or
    "" for the default under the home folder (a variable set empty counts as unset)."""
    explicit = os.environ.get(ENV)
    if explicit:
        return explicit, ENV
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return os.path.join(xdg, "ccdsl"), "XDG_CACHE_HOME"
    return os.path.join(os.path.expanduser("~"), ".cache", "ccdsl"), ""


def cache_folder() -> str:
    return folder_choice()[0]


def unsafe(folder: str, info: os.stat_result) -> str | None:
    """Why a folder with this stat must not hold entries, or None: pickles are loaded
    from it, so nobody but its user may write it."""
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return f"{folder} belongs to another user"
    if info.st_mode & 0o022:
        return f"{folder} can be written by other users"
    return None


def head(path: str, size: int) -> bytes | None:
    """The first `size` bytes of the file at path, or None when it cannot be read; a
    symlink is not followed (what it points to may be anyone's)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def made_here(path: str) -> bool:
    """Whether the file at path (not followed if a symlink) starts as every entry does."""
    return head(path, len(MAGIC)) == MAGIC


def check(folder: str) -> tuple[str, str | None]:
    """How usable the folder is (USED, NOT_MADE, READ_ONLY or NOT_USED) and why it is not
    used or only read. Makes nothing: `ccf cache info` asks it, and a Store after making
    the folder."""
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        parent = _existing_parent(folder)
        if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
            return NOT_USED, f"{folder} cannot be made: {parent} cannot be written"
        return NOT_MADE, None
    except OSError as exc:  # a file where a folder of its path should be
        return NOT_USED, f"{folder} cannot be made: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return NOT_USED, f"{folder} cannot be made: it is not a folder"
    why = unsafe(folder, info)
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


@dataclass(frozen=True)
class Entry:
    """A file in an entries folder (an entry, a temporary file, or anything else put
    there), as lstat sees it: a symlink is itself, never what it points to."""

    path: str
    kind: str
    name: str
    regular: bool  # a plain file: not a symlink, a folder or a device
    used: float  # its mtime: an entry read is touched, so the least recently used goes first
    size: int


def listing(folder: str) -> list[Entry]:
    """Every file in the folder's entries folders, by kind and name: what the size limit
    counts, what pruning removes from and what `ccf cache` shows. An entries folder that is
    a symlink is not looked into."""
    out = []
    for kind in KINDS:
        path = os.path.join(folder, kind)
        if os.path.islink(path):
            continue
        try:
            with os.scandir(path) as found:
                inside = sorted(found, key=lambda e: e.name)
        except OSError:
            continue
        for entry in inside:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:  # removed meanwhile
                continue
            out.append(Entry(entry.path, kind, entry.name, stat.S_ISREG(info.st_mode),
                             info.st_mtime, info.st_size))
    return out


def _compiler_files() -> list[str]:
    """The files whose text makes the compiler: the language core's modules and the
    compiler's (the language server's aside), grammar and schema included."""
    import ccdsl
    import ccdsl.compiler

    core = os.path.dirname(ccdsl.__file__)
    files = [os.path.join(core, n) for n in sorted(os.listdir(core)) if n.endswith(".py")]
    top = os.path.dirname(ccdsl.compiler.__file__)
    for root, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in ("lsp", "__pycache__"))
        files.extend(os.path.join(root, n) for n in sorted(names)
                     if n.endswith((".py", ".lark", ".json")))
    return files


def _lark_init() -> str | None:
    from importlib.util import find_spec  # finds lark without importing it

    spec = find_spec("lark")
    return spec.origin if spec is not None else None


@cache
def compiler_key() -> str:
    """The sha256 of the compiler itself: every file of it (about 90, read in a few
    milliseconds), lark's version and Python's. An edit of any of them is another key,
    so no entry made by another compiler is ever read."""
    digest = hashlib.sha256(sys.version.encode())
    lark = _lark_init()
    for path in _compiler_files() + ([lark] if lark else []):
        digest.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()


def key_of(*parts: str) -> str:
    """An entry's key: the sha256 of the compiler and of the parts, kept apart."""
    digest = hashlib.sha256(compiler_key().encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


class Store:
    """The cache folder, or nothing when it cannot be used (usable() is False)."""

    def __init__(self, folder: str | None = None) -> None:
        self.folder = folder if folder is not None else cache_folder()
        self._usable: bool | None = None
        self.problem: str | None = None  # why it is not used: check()'s reason, or a write's
        self.hits = 0
        self.misses = 0
        self._unpruned: int | None = None  # bytes written since the last prune; None: never

    def usable(self) -> bool:
        if self._usable is None:
            self._usable = self._prepare()
        return self._usable

    def _prepare(self) -> bool:
        made: OSError | None = None
        try:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            for kind in KINDS:
                os.makedirs(os.path.join(self.folder, kind), mode=0o700, exist_ok=True)
        except OSError as exc:
            made = exc
        state, why = check(self.folder)
        if state == NOT_USED:
            return self._refuse(why or f"{self.folder} cannot be used")
        if made is not None:
            return self._refuse(f"{self.folder} cannot be made: {made.strerror or made}")
        return True  # READ_ONLY too: entries are read, and the first write that fails says why

    def _refuse(self, why: str) -> bool:
        self.problem = why
        return False

    def _path(self, kind: str, key: str) -> str:
        return os.path.join(self.folder, kind, key)

    def get(self, kind: str, key: str) -> object | None:
        """The payload stored under key, or None: missing, cut short, corrupt, or not
        loadable by this Python are all a miss."""
        if not self.usable():
            return None
        path = self._path(kind, key)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            self.misses += 1
            return None
        body = data[len(MAGIC) + _DIGEST:]
        if not data.startswith(MAGIC) or \
                data[len(MAGIC):len(MAGIC) + _DIGEST] != hashlib.sha256(body).digest():
            self.misses += 1
            return None
        try:
            value = pickle.loads(body)
        except Exception:  # noqa: BLE001 - whatever is in there, it is not ours: a miss
            self.misses += 1
            return None
        try:
            os.utime(path)  # recently used: pruned last
        except OSError:
            pass
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: object) -> None:
        """Store value under key: written to a temporary file and renamed into place, so
        a reader (another ccf at the same moment) sees the old entry or the new one,
        whole. A failure to write turns the cache off for this process."""
        if not self.usable():
            return
        body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        folder = os.path.join(self.folder, kind)
        temp = None
        try:
            handle, temp = tempfile.mkstemp(dir=folder, prefix=TEMP_PREFIX)
            with os.fdopen(handle, "wb") as fh:
                fh.write(MAGIC + hashlib.sha256(body).digest() + body)
            os.replace(temp, self._path(kind, key))
            temp = None
        except OSError as exc:
            self._usable = self._refuse(f"{folder} cannot be written: {exc.strerror or exc}")
        finally:
            if temp is not None:
                try:
                    os.unlink(temp)
                except OSError:
                    pass
        if self._usable:
            if self._unpruned is None or self._unpruned >= PRUNE_EVERY:
                self.prune()
                self._unpruned = 0
            self._unpruned += len(body)

    def prune(self, limit: int = MAX_BYTES) -> None:
        """Remove the least recently used entries while they take more than limit bytes,
        down to three quarters of it, and temporary files left by a process that died."""
        entries = listing(self.folder)
        now = time.time()
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX) and now - entry.used > STALE_TEMP_S:
                _remove(entry.path)
        total = sum(entry.size for entry in entries)
        if total <= limit:
            return
        for entry in sorted(entries, key=lambda e: e.used):
            if total <= limit * 3 // 4:
                break
            if not entry.name.startswith(TEMP_PREFIX):
                _remove(entry.path)
                total -= entry.size


def _remove(path: str) -> int:
    try:
        os.unlink(path)
        return 1
    except OSError:  # another ccf removed it first
        return 0
