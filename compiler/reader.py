"""Read a .ccf file from disk; every way it can be unreadable is a diagnostic, never an exception.

Must not parse: it only hands text to the parser."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from ccdsl.diagnostics import Diagnostic, diagnostic
from ccdsl.source import SourceFile, Span

MAX_SOURCE_BYTES = 4 * 1024 * 1024

# The texts of files open in an editor, by absolute path, read in place of
# the disk: the language server (compiler/lsp/) checks what is being typed,
# `use`d modules and NAME.test.ccf included, before it is saved.
_NONE: Mapping[str, str] = MappingProxyType({})
_UNSAVED: ContextVar[Mapping[str, str]] = ContextVar("ccf_unsaved", default=_NONE)


@contextmanager
def unsaved_texts(texts: Mapping[str, str]) -> Iterator[None]:
    """Read these texts (absolute path -> text) instead of those files' disk copies."""
    token = _UNSAVED.set(texts)
    try:
        yield
    finally:
        _UNSAVED.reset(token)


# What a compilation looked at on disk, while compiler/result_cache.py watches one: each
# file read (by the sha256 of its bytes), each file looked for, each folder listed. A
# stored result is served again only while every one of them still looks the same.
_SEEN: ContextVar[list[tuple] | None] = ContextVar("ccf_seen", default=None)


@contextmanager
def watching() -> Iterator[list[tuple]]:
    """Record what is read, looked for and listed until the block ends, as
    ("read", path, sha256 hex or None), ("exists", path, bool) and
    ("listing", folder, names)."""
    seen: list[tuple] = []
    token = _SEEN.set(seen)
    try:
        yield seen
    finally:
        _SEEN.reset(token)


def unsaved_active() -> bool:
    """Whether an editor's unsaved texts stand in for some files now."""
    return bool(_UNSAVED.get())


def held_unsaved(path: str) -> bool:
    """Whether an editor's unsaved text stands in for this file now."""
    return os.path.abspath(path) in _UNSAVED.get()


def _seen(kind: str, path: str, value: object) -> None:
    seen = _SEEN.get()
    if seen is not None:
        seen.append((kind, path, value))


def source_exists(path: str) -> bool:
    """Whether a flow file is there to read: held unsaved (unsaved_texts)
    or on disk."""
    if os.path.abspath(path) in _UNSAVED.get():
        return True
    return file_exists(path)


def file_exists(path: str) -> bool:
    """Whether a file is on disk (recorded while watching())."""
    found = os.path.isfile(path)
    _seen("exists", path, found)
    return found


def file_names(folder: str) -> list[str]:
    """The sorted names in a folder, none when it cannot be listed (recorded while
    watching())."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    _seen("listing", folder, tuple(names))
    return names


def _file_span(path: str) -> Span:
    return Span(path, 1, 1, 1, 1)


def read_source(path: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """Read one flow file. Returns None and a diagnostic when it is missing,
    unreadable, not UTF-8, too large or empty."""
    unsaved = _UNSAVED.get().get(os.path.abspath(path))
    if unsaved is not None:
        return _source(path, unsaved)
    _seen("read", path, None)  # unreadable unless replaced below
    try:
        size = os.path.getsize(path)
        if os.path.isdir(path):
            return None, [diagnostic("E006", f"`{path}` is a directory, not a .ccf file",
                                     _file_span(path),
                                     help="pass the directory itself to `ccf validate`, "
                                          "which finds the .ccf files in it")]
        if size > MAX_SOURCE_BYTES:
            return None, [diagnostic(
                "E008", f"`{path}` is {size / 1_048_576:.1f} MiB; a flow file may be at most "
                        f"{MAX_SOURCE_BYTES // 1_048_576} MiB", _file_span(path),
                help="split the flow into sibling files and `use` them")]
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None, [diagnostic("E006", f"`{path}` does not exist", _file_span(path))]
    except PermissionError:
        return None, [diagnostic("E006", f"`{path}` cannot be read: permission denied",
                                 _file_span(path))]
    except OSError as exc:
        return None, [diagnostic("E006", f"`{path}` cannot be read: {exc.strerror or exc}",
                                 _file_span(path))]
    seen = _SEEN.get()
    if seen is not None:
        seen[-1] = ("read", path, hashlib.sha256(data).hexdigest())
    return source_from_bytes(path, data)


def source_from_bytes(path: str, data: bytes) -> tuple[SourceFile | None, list[Diagnostic]]:
    """The flow in data (read from a file or standard input) under the name
    path, or None and a diagnostic when it is too large, not UTF-8 or empty."""
    if len(data) > MAX_SOURCE_BYTES:
        return None, [diagnostic(
            "E008", f"`{path}` is {len(data) / 1_048_576:.1f} MiB; a flow file may be at most "
                    f"{MAX_SOURCE_BYTES // 1_048_576} MiB", _file_span(path),
            help="split the flow into sibling files and `use` them")]
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [diagnostic(
            "E007", f"`{path}` is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} "
                    f"cannot be decoded", Span(path, line, column, line, column + 1),
            help="save the file as UTF-8")]
    return _source(path, text)


def _source(path: str, text: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        return None, [diagnostic("E007", f"`{path}` contains a NUL byte at line {line}; "
                                         "it looks like a binary file",
                                 Span(path, line, 1, line, 2))]
    return source_from_text(path, text)


def source_from_text(path: str, text: str) -> tuple[SourceFile | None, list[Diagnostic]]:
    """The flow in already decoded text (an editor's buffer, standard input)
    under the name path; None and E009 when it is empty."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    source = SourceFile(path, text)
    if not text.strip():
        return None, [diagnostic("E009", f"`{path}` is empty", _file_span(path),
                                 help="a flow starts with a header: `flow NAME:`")]
    return source, []
