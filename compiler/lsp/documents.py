"""The language server's view of the files: the texts open in the editor, and each flow
compiled with them by the compiler's own pipeline, as `ccf validate` compiles it.

Must not speak the protocol (server.py does) nor convert positions
(positions.py does). A text being typed is read in place of the disk copy
(compiler/reader.py's unsaved_texts), so a `use`d module or a NAME.test.ccf
open in another tab counts with its unsaved edits. Every text is parsed once
(compiler/parse_cache.py, in memory and in the cache folder): a keystroke re-parses
the document typed into, and its `use`d modules and the standard library come parsed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from ccdsl.compiler.cache_store import Store
from ccdsl.compiler.flow_files import TEST_SUFFIX, flow_of
from ccdsl.compiler.lsp.index import Index, build_index
from ccdsl.compiler.parse_cache import ParseCache
from ccdsl.compiler.pipeline import CompileResult, compile_file, find_flow_files
from ccdsl.compiler.reader import unsaved_texts
from ccdsl.compiler.symbols import Scope, program_scopes

# find references and rename read at most this many flows of the workspace
MAX_WORKSPACE_FLOWS = 400


@dataclass(frozen=True)
class Compiled:
    """One compilation. Its index is built when a request first needs it: publishing
    diagnostics does not (on a 20,000-line flow the index costs a third of a compile)."""

    entry: str
    result: CompileResult

    @property
    def loaded(self) -> bool:
        return self.result.program is not None

    @cached_property
    def scopes(self) -> dict[str, Scope] | None:
        return program_scopes(self.result.program) if self.loaded else None

    @cached_property
    def index(self) -> Index | None:
        return build_index(self.result.program, self.scopes) if self.loaded else None


def entry_of(path: str) -> str:
    """The flow a file is compiled as: NAME.test.ccf with NAME.ccf, anything else alone
    (the choice `ccf validate` makes for a file named on its command line)."""
    if path.endswith(TEST_SUFFIX) and os.path.isfile(flow_of(path)):
        return flow_of(path)
    return path


class Documents:
    """The open texts by absolute path, and the compilations made of them."""

    def __init__(self, store: Store | None = None) -> None:
        self.texts: dict[str, str] = {}
        self.parses = ParseCache(store, remember=True)
        self.roots: list[str] = []
        self._cache: dict[str, tuple[tuple, Compiled]] = {}
        # the last compilation of each flow that loaded (parsed): completion and the outline
        # work from it while the text being typed does not parse
        self._last_loaded: dict[str, Compiled] = {}
        self._disk: dict[str, tuple[int, str]] = {}  # files read from disk, by mtime
        self._lines: dict[str, tuple[str, list[str]]] = {}  # each text's lines

    # -- the open texts
    def open(self, path: str, text: str) -> None:
        self.texts[path] = text

    def close(self, path: str) -> None:
        self.texts.pop(path, None)
        self._lines.pop(path, None)

    def text(self, path: str) -> str | None:
        """The text of a file: as open in the editor, else as on disk (None if unreadable)."""
        if path in self.texts:
            return self.texts[path]
        stamp = _mtime(path)
        kept = self._disk.get(path)
        if kept is not None and kept[0] == stamp:
            return kept[1]
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read().replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            return None
        self._disk[path] = (stamp, text)
        return text

    def lines(self, path: str) -> list[str]:
        """The text's lines, split once per text: every range of an answer (an outline has
        thousands) converts its positions with them."""
        text = self.text(path)
        if text is None:
            return []
        kept = self._lines.get(path)
        if kept is None or kept[0] is not text:
            kept = self._lines[path] = (text, text.split("\n"))
        return kept[1]

    # -- compiling
    def compile(self, path: str) -> Compiled:
        """The flow `path` belongs to, compiled with every open text, without lowering."""
        entry = entry_of(path)
        cached = self._cache.get(entry)
        if cached is not None and cached[0] == self._stamp(cached[1]):
            return cached[1]
        with unsaved_texts(dict(self.texts)):
            result = compile_file(entry, lower=False, parses=self.parses)
        compiled = Compiled(entry, result)
        self._cache[entry] = (self._stamp(compiled), compiled)
        if compiled.loaded:
            self._last_loaded[entry] = compiled
        return compiled

    def _stamp(self, compiled: Compiled | None) -> tuple:
        """What a compilation depends on: the open texts, and the disk copies of the other
        files it read and of the folder it was in (a module saved, made or deleted outside
        the editor makes it stale)."""
        read = compiled.result.sources if compiled is not None else {}
        folder = os.path.dirname(compiled.entry) if compiled is not None else ""
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        return (tuple(sorted((p, hash(t)) for p, t in self.texts.items())),
                tuple(sorted((p, _mtime(p)) for p in read if p not in self.texts)),
                tuple(names), _mtime(compiled.entry) if compiled is not None else 0)

    def uses(self, path: str, module: str) -> bool:
        """Whether path's flow read `module` when last compiled, or when it last loaded (a
        module with a syntax error leaves the flow unloaded, but still its module)."""
        entry = entry_of(path)
        cached = self._cache.get(entry)
        loaded = self._last_loaded.get(entry)
        return any(c is not None and module in c.result.sources
                   for c in (cached[1] if cached else None, loaded))

    def last_loaded(self, path: str) -> Compiled | None:
        """The newest compilation of path's flow that parsed: now's, or an earlier one."""
        compiled = self.compile(path)
        if compiled.loaded:
            return compiled
        return self._last_loaded.get(compiled.entry)

    def workspace_flows(self, also: str) -> list[str]:
        """The entry flows of the workspace folders, the open files' flows and `also`'s;
        for a file outside every workspace folder, the flows of its own folder too (a
        module's callers are most often beside it)."""
        flows: list[str] = []
        for root in self.roots:
            if os.path.isdir(root):
                found, _ = find_flow_files([root])
                flows.extend(os.path.abspath(f) for f in found[:MAX_WORKSPACE_FLOWS])
        if not any(_inside(also, root) for root in self.roots):
            # that folder alone, not below it: it may be a home directory
            folder = os.path.dirname(also)
            names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
            flows.extend(os.path.join(folder, n) for n in names[:MAX_WORKSPACE_FLOWS]
                         if n.endswith(".ccf") and not n.endswith(TEST_SUFFIX))
        flows.extend(entry_of(p) for p in self.texts)
        flows.append(entry_of(also))
        return list(dict.fromkeys(flows))

    def indexes_naming(self, word: str, also: str) -> list[Index]:
        """The indexes of every workspace flow whose program may name `word`: a flow whose
        files never contain the word is not compiled at all."""
        out = []
        for flow in self.workspace_flows(also):
            texts = [self.text(flow) or "", self.text(flow[:-4] + TEST_SUFFIX) or ""]
            if flow != entry_of(also) and not any(word in t for t in texts):
                continue
            compiled = self.last_loaded(flow)
            if compiled is None or not compiled.loaded:
                continue
            if any(word in source.text for source in compiled.result.sources.values()):
                out.append(compiled.index)
        return out


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) == \
        os.path.abspath(folder)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1
