"""A file being edited, parsed item by item: each top-level item's parse is kept in the cache
folder by the hash of its text (one entry a file), so the next edit re-parses only the items
it touched. Must not check.

A file is cut before every line that starts at column 0 and is neither blank nor a comment;
each piece holds one item (a step, a handler, a prompt...). The grammar's `start` is a plain
sequence of items, so a piece parses alone as it does in its file, its lines counted from its
own first line: a stored piece read back where its first line moved has every span moved
with it. Whatever is not that simple (a piece that does not parse clean, or holds other than
one item, as a cut inside brackets does) is parsed whole, as before.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
from collections.abc import Callable
from functools import lru_cache

from ccdsl import ast
from ccdsl.compiler import comments as comment_scanner
from ccdsl.compiler.cache_store import Store, key_of
from ccdsl.source import SourceFile, Span

KIND = "modules"
# a piece starts at a line whose first character is not a space, a tab, a newline or `#`
_ITEM_LINE = re.compile(r"^[^\s#]", re.MULTILINE)
# beyond this share of pieces not in the folder, the file is parsed whole (one parse is
# cheaper than many small ones) and its items stored from that parse
_WHOLE_BEYOND = 0.25

Parse = Callable[[SourceFile], tuple]


def pieces(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each piece, in order; the first piece also holds the
    blank and comment lines before the first item."""
    starts = [m.start() for m in _ITEM_LINE.finditer(text)]
    if not starts:
        return []
    starts[0] = 0
    out = []
    line = 1
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        piece = text[start:end]
        out.append((line, piece))
        line += piece.count("\n")
    return out


def parse_items(source: SourceFile, store: Store, parse: Parse) -> tuple:
    """parse(source)'s result (module, diagnostics, broken tests), its items read from the
    folder where their text was stored before; the pieces parsed here are stored."""
    cut = pieces(source.text)
    if not cut:
        return parse(source)
    # one entry a file: its pieces by the hash of their text (one file to read and to
    # write, not one a piece); it holds the pieces of the file's last text only
    pack_key = key_of("items", source.path)
    stored = store.get(KIND, pack_key)
    if not isinstance(stored, dict):
        stored = {}
    keys = [hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest() for _, text in cut]
    found = [stored.get(key) for key in keys]
    missing = {i for i, entry in enumerate(found) if not _well_formed(entry)}
    if len(missing) > len(cut) * _WHOLE_BEYOND:
        return _whole(source, store, parse, cut, keys, pack_key)
    items: list = []
    classes: dict[tuple[str, str], object] = {}
    for i, (line, text) in enumerate(cut):
        entry = found[i]
        if i in missing:
            module, diags, broken = parse(SourceFile(source.path, text))
            if module is None or diags or broken or len(module.items) != 1:
                return parse(source)
            entry = found[i] = _entry(1, module.span, module.items)
        items.extend(_load(entry, line, source.path, classes))
    if missing or stored.keys() != set(keys):
        store.put(KIND, pack_key, dict(zip(keys, found, strict=True)))
    # the module's span: from where the first piece's starts (its first line is the
    # file's) to the end of the last item, as parser.parse_source's
    offset, column = found[0][1]
    span = Span(source.path, 1 + offset, column, items[-1].span.end_line, items[-1].span.end_column)
    comments = tuple(comment_scanner.scan(source.text))
    return ast.Module(source.path, tuple(items), comments, span), [], ()


def _whole(source: SourceFile, store: Store, parse: Parse, cut: list[tuple[int, str]],
           keys: list[bytes], pack_key: str) -> tuple:
    """The file parsed whole; its items stored piece by piece when each piece holds one."""
    result = parse(source)
    module, diags, broken = result
    if module is None or diags or broken or len(module.items) != len(cut):
        return result
    lines = [line for line, _ in cut] + [float("inf")]
    for i, item in enumerate(module.items):
        if not lines[i] <= item.span.line < lines[i + 1]:
            return result  # not one item a piece: nothing stored
    pack: dict[bytes, tuple] = {}
    for i, item in enumerate(module.items):
        if keys[i] not in pack:
            pack[keys[i]] = _entry(cut[i][0], module.span if i == 0 else item.span, (item,))
    store.put(KIND, pack_key, pack)
    return result


def _entry(first_line: int, span: Span, items: tuple) -> tuple:
    """What is stored of a piece: the line it started at, where its module's span starts
    (the file's, for the first piece; its line counted from the piece's first) and its
    items, pickled on their own so that they can be read back with their lines moved."""
    return first_line, (span.line - first_line, span.column), pickle.dumps(
        items, protocol=pickle.HIGHEST_PROTOCOL)


def _well_formed(entry: object) -> bool:
    return isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], int) \
        and isinstance(entry[1], tuple) and isinstance(entry[2], bytes)


def _load(entry: tuple, line: int, path: str, classes: dict) -> tuple:
    stored_line, _, data = entry
    span_class = Span if stored_line == line else _shifted_span(line - stored_line, path)
    return _Reader(io.BytesIO(data), span_class, classes).load()


class _Reader(pickle.Unpickler):
    """Reads a piece's items; span_class makes their spans (Span, or a stand-in that moves
    the spans of their file by a number of lines). classes: the classes found so far, by
    (module, name), shared by the pieces of a file: pickle's own look-up goes through the
    import machinery at every class named in every piece (about 17 a piece)."""

    def __init__(self, data: io.BytesIO, span_class: type, classes: dict) -> None:
        super().__init__(data)
        self._span_class = span_class
        self._classes = classes

    def find_class(self, module: str, name: str):
        found = self._classes.get((module, name))
        if found is None:
            found = self._classes[module, name] = super().find_class(module, name)
        return self._span_class if found is Span else found


@lru_cache(maxsize=64)
def _shifted_span(delta: int, path: str) -> type:
    """A stand-in for Span that pickle calls to make each span: a Span of path, delta
    lines further (others, like NO_SPAN, as they were)."""

    class Shifted(Span):
        __slots__ = ()

        def __new__(cls, file, line, column, end_line, end_column):
            if file != path:
                return Span(file, line, column, end_line, end_column)
            return Span(file, line + delta, column, end_line + delta, end_column)

    return Shifted
