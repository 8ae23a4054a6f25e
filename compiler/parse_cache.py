"""Parsed modules by the hash of their text: each .ccf text is parsed once, then read back
from memory or the cache folder (compiler/cache_store.py). Must not check anything.

A parse depends on the text, the name it is parsed under (every span carries it) and
the compiler (cache_store.key_of keys on it), nothing else: the key holds all three.
"""

from __future__ import annotations

from collections import OrderedDict

from ccdsl.compiler.cache_store import Store, key_of
from ccdsl.compiler.item_parse import parse_items
from ccdsl.compiler.test_recovery import parse_recovering
from ccdsl.source import SourceFile

# parses kept in memory by a long-lived process (the language server)
MEMORY_ENTRIES = 64


class ParseCache:
    """parse_recovering with its results kept: in memory (when remember) and in store."""

    def __init__(self, store: Store | None, *, remember: bool = False) -> None:
        self.store = store
        self.remember = remember
        self._memory: OrderedDict[str, tuple] = OrderedDict()
        self.parsed = 0  # how many texts were really parsed: the tests count them

    def parse(self, source: SourceFile, *, keep: bool = True, items: bool = False) -> tuple:
        """parse_recovering(source): (module or None, diagnostics, broken tests). keep
        False: a text being edited, not worth writing to the folder (still looked up);
        items: its items are, so the next edit re-parses only what it touches
        (compiler/item_parse.py)."""
        key = key_of("parse", source.path, source.text)
        found = self._memory.get(key)
        if found is not None:
            self._memory.move_to_end(key)
            return found
        if self.store is not None:
            found = self.store.get("modules", key)
            if not _well_formed(found):
                found = None
        if found is None:
            self.parsed += 1
            if items and self.store is not None:
                # looked up here, so a test that replaces parse_recovering counts its calls
                found = parse_items(source, self.store, lambda s: parse_recovering(s))
            else:
                found = parse_recovering(source)
            if keep and self.store is not None:
                self.store.put("modules", key, found)
        if self.remember:
            self._memory[key] = found
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)
        return found


def _well_formed(found: object) -> bool:
    return isinstance(found, tuple) and len(found) == 3 and isinstance(found[1], list) \
        and isinstance(found[2], tuple)
