"""A program: the entry flow and every module it uses, each parsed once.

Plain data; must not load, check or lower anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from ccdsl import ast
from ccdsl.source import SourceFile


@dataclass(frozen=True)
class LoadedModule:
    key: str  # "stdlib.voicemail" or the file's resolved path
    name: str  # how the IR names it: "hotline", "stdlib.voicemail", "billing"
    source: SourceFile
    module: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> module key
    is_stdlib: bool = False


@dataclass(frozen=True)
class Program:
    entry: str  # key of the entry module
    modules: dict[str, LoadedModule]  # every module, dependencies before dependants
    tests: tuple[ast.Test, ...] = ()  # test blocks of the entry and of NAME.test.ccf
    test_sources: tuple[SourceFile, ...] = ()
    # test blocks with a syntax error, as tests with no lines (compiler/test_recovery.py):
    # never checked or lowered, each reported as one failed test
    unparsed_tests: tuple[ast.Test, ...] = ()

    @property
    def entry_module(self) -> LoadedModule:
        return self.modules[self.entry]

    def sources(self) -> dict[str, SourceFile]:
        out = {m.source.path: m.source for m in self.modules.values()}
        for s in self.test_sources:
            out[s.path] = s
        return out
