"""The language server's documents share the compiler's incremental core: a keystroke
re-parses the document typed into, never the modules it uses nor the standard library,
and its diagnostics are those of a fresh compile of the same texts."""

from __future__ import annotations

from pathlib import Path

import pytest

import ccdsl.compiler.parse_cache
from ccdsl.compiler.cache_store import Store
from ccdsl.compiler.lsp.documents import Documents
from ccdsl.compiler.pipeline import compile_file
from ccdsl.compiler.reader import unsaved_texts

MAIN = """flow main:
  languages en-US

use billing
use stdlib.voicemail

on start:
  answer
  x = billing.total(2)
  play tts "Total ${x}."
  hangup
"""
BILLING = """flow billing:
  title "Billing"

sub total(n):
  return n * 3
"""


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = ccdsl.compiler.parse_cache.parse_recovering

    def counting(source):
        seen.append(Path(source.path).name)
        return real(source)

    monkeypatch.setattr(ccdsl.compiler.parse_cache, "parse_recovering", counting)
    return seen


def _fresh(documents: Documents, entry: str) -> list:
    with unsaved_texts(dict(documents.texts)):
        return compile_file(entry, lower=False).diagnostics


def test_a_keystroke_re_parses_only_the_document_typed_into(tmp_path: Path, parses) -> None:
    (tmp_path / "billing.ccf").write_text(BILLING, encoding="utf-8")
    main = str(tmp_path / "main.ccf")
    (tmp_path / "main.ccf").write_text(MAIN, encoding="utf-8")
    documents = Documents(Store(str(tmp_path / "cache")))
    documents.open(main, MAIN)
    assert documents.compile(main).result.diagnostics == []
    assert sorted(parses) == ["billing.ccf", "main.ccf", "voicemail.ccf"]
    for typed in ("Totl", "Tota", "Total!"):
        parses.clear()
        documents.open(main, MAIN.replace("Total", typed).replace("x = billing", "y = billing"))
        compiled = documents.compile(main)
        assert parses == ["main.ccf"]
        assert compiled.result.diagnostics == _fresh(documents, main)
        assert compiled.result.diagnostics  # `x` is no longer assigned: an error


def test_a_module_edited_in_another_tab_is_re_parsed_alone(tmp_path: Path, parses) -> None:
    (tmp_path / "billing.ccf").write_text(BILLING, encoding="utf-8")
    main, billing = str(tmp_path / "main.ccf"), str(tmp_path / "billing.ccf")
    (tmp_path / "main.ccf").write_text(MAIN, encoding="utf-8")
    documents = Documents(Store(str(tmp_path / "cache")))
    documents.open(main, MAIN)
    documents.compile(main)
    parses.clear()
    documents.open(billing, BILLING.replace("sub total", "sub sum"))
    compiled = documents.compile(main)
    assert parses == ["billing.ccf"]
    assert any(d.span.file == main for d in compiled.result.diagnostics)
    assert compiled.result.diagnostics == _fresh(documents, main)
