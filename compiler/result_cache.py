"""A flow's compilation served again while nothing it looked at has changed: the
incremental core of validate, compile and test. Must not import the parser, the AST or
the checks until a compilation is really needed (`python -X importtime` shows it).

A stored result holds what the compilation saw on disk (compiler/reader.py's
watching(): every file read, by the sha256 of its bytes; every file looked for; every
folder listed), its diagnostics before --select/--ignore and its IR. It is served when
the compiler is the same (the key holds compiler_key()), the entry path and the
current directory are the same, and each of those files still hashes, exists and lists
the same. Else the flow is compiled, its modules' parses from the cache folder (so an
edit re-parses only the files edited), and the result stored again.
"""

from __future__ import annotations

import hashlib
import os

from ccdsl.code_selection import ALL, Selection
from ccdsl.compiler import flow_files
from ccdsl.compiler.cache_store import Store, key_of
from ccdsl.compiler.compile_result import CompileResult, finish
from ccdsl.compiler.flow_files import TEST_SUFFIX
from ccdsl.compiler.reader import source_from_bytes, unsaved_active, watching
from ccdsl.diagnostics import has_errors


def compile_cached(path: str, *, lower: bool = True, selection: Selection = ALL,
                   store: Store | None = None, reuse_failed: bool = True) -> CompileResult:
    """compile_file(path, ...) through the cache in store (None: no cache at all).

    A result served from the cache has no program (program is None) and holds only the
    sources its diagnostics point into; reuse_failed False compiles a flow stored with
    errors again (parses still from the cache), for a caller that needs its program."""
    if store is None or not store.usable():
        return _compile(path, lower, selection, None)
    if path.endswith(TEST_SUFFIX) or unsaved_active():
        # an orphaned test file (E306) is reported without compiling anything
        return _compile(path, lower, selection, store)
    key = key_of("result", os.getcwd(), flow_files.stdlib_dir(), path,
                 "lower" if lower else "check")
    stored = store.get("results", key)
    if not _well_formed(stored):
        stored = None
    texts: dict[str, bytes] = {}
    if stored is not None:
        seen, raw, ir = stored
        if _unchanged(seen, texts):
            diags = finish(raw, selection)
            if not reuse_failed and has_errors(diags):
                return _compile(path, lower, selection, store)
            if not lower or ir is not None or has_errors(diags):
                ir = ir if lower and not has_errors(diags) else None
                return CompileResult(path, None, diags, ir, _sources(diags, texts))
    # the entry's parse is kept only once it proves stable: stored before, and a module
    # (not the entry itself) is what changed since; _unchanged hashed the entry first
    keep_entry = path in texts
    # stored before and the entry is what changed: being edited, so its items are kept
    edited = stored is not None and not keep_entry
    from ccdsl.compiler import pipeline
    from ccdsl.compiler.parse_cache import ParseCache

    # compiled with every warning, so any --select/--ignore can reuse what is stored
    with watching() as seen:
        result = pipeline.compile_file(path, lower=lower, parses=ParseCache(store),
                                       keep_entry=keep_entry, edited=edited)
    looked = _deduplicated(seen)
    if looked is not None:
        store.put("results", key, (looked, result.diagnostics, result.ir if lower else None))
    result.diagnostics = finish(result.diagnostics, selection)
    if has_errors(result.diagnostics):
        result.ir = None
    return result


def _compile(path: str, lower: bool, selection: Selection, store: Store | None):
    from ccdsl.compiler.parse_cache import ParseCache
    from ccdsl.compiler.pipeline import compile_file

    return compile_file(path, lower=lower, selection=selection,
                        parses=ParseCache(store) if store is not None else None)


def _well_formed(stored: object) -> bool:
    return isinstance(stored, tuple) and len(stored) == 3 and isinstance(stored[0], tuple) \
        and isinstance(stored[1], list) and (stored[2] is None or isinstance(stored[2], dict))


def _deduplicated(seen: list[tuple]) -> tuple | None:
    """What the compilation looked at, each thing once; None when it cannot be stored:
    a file could not be read (its error depends on more than its bytes), or the same
    thing looked different twice (it changed while being compiled)."""
    out: dict[tuple[str, str], object] = {}
    for kind, path, value in seen:
        if kind == "read" and value is None:
            return None
        if out.setdefault((kind, path), value) != value:
            return None
    return tuple((kind, path, value) for (kind, path), value in out.items())


def _unchanged(seen: tuple, texts: dict[str, bytes]) -> bool:
    """Whether all that was looked at still looks the same, in order; texts gets the
    bytes of each file read that still hashes the same, up to the first change."""
    for kind, path, value in seen:
        if kind == "read":
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                return False
            if hashlib.sha256(data).hexdigest() != value:
                return False
            texts[path] = data
        elif kind == "exists":
            if os.path.isfile(path) != value:
                return False
        elif kind == "listing":
            try:
                names = tuple(sorted(os.listdir(path)))
            except OSError:
                names = ()
            if names != value:
                return False
        else:
            return False
    return True


def _sources(diags, texts: dict[str, bytes]) -> dict:
    """The sources the diagnostics point into, from the bytes just hashed."""
    out = {}
    for path in dict.fromkeys(d.span.file for d in diags):
        if path in texts:
            source, _ = source_from_bytes(path, texts[path])
            if source is not None:
                out[path] = source
    return out
