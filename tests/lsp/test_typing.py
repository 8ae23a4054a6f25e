"""Typing: a burst of keystrokes is compiled once, not once a keystroke, and a request
made in the middle of a burst answers for the text as it is now."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import open_file, settles, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")
KEYSTROKES = 10


class Recording(dict):
    """pytest-lsp's store of the latest diagnostics by file, which also keeps every
    publish in order: how many times the server compiled and published."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.publishes: list[str] = []

    def __setitem__(self, key, value) -> None:
        self.publishes.append(key)
        super().__setitem__(key, value)


def _type(client, path: Path, texts: list[str], first_version: int) -> None:
    """Send texts as an editor sends keystrokes: each change at once after the last."""
    for n, text in enumerate(texts):
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri(path), version=first_version + n),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)]))


async def test_a_burst_of_keystrokes_is_compiled_once(client, workspace: Path) -> None:
    path = workspace / "typed.ccf"
    text = (workspace / "hotline.ccf").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert await open_file(client, path) == []
    client.diagnostics = Recording(client.diagnostics)
    # the author types "main_menX" over the target of a goto, one letter a keystroke
    typed = "main_menX"
    texts = [text.replace("  goto main_menu\n", f"  goto {typed[:n]}\n", 1)
             for n in range(len(typed) - KEYSTROKES + 1, len(typed) + 1)]
    assert len(texts) == KEYSTROKES
    _type(client, path, texts, first_version=2)
    found = await settles(client, uri(path), lambda ds: any("main_menX" in d.message
                                                            for d in ds))
    assert "E100" in [d.code for d in found]
    await asyncio.sleep(1.5)  # any late publish of an older keystroke would land by now
    ours = [p for p in client.diagnostics.publishes if p == uri(path)]
    # one publish for the burst; a second when the machine is slow enough to split it
    assert 1 <= len(ours) < KEYSTROKES // 2, len(ours)
    assert list(client.diagnostics[uri(path)]) == found  # the last keystroke's


async def test_a_hover_in_a_burst_answers_for_the_latest_text(client, workspace: Path) -> None:
    path = workspace / "typed.ccf"
    text = path.read_text(encoding="utf-8")
    # three lines typed above `step main_menu`: the hover's line is known only to the
    # newest text
    head, tail = text.split("step main_menu:", 1)
    texts = [head + "# new\n" * n + "step main_menu:" + tail for n in range(1, 4)]
    _type(client, path, texts, first_version=100)
    line = texts[-1].split("\n").index("step main_menu:")
    found = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=lsp.Position(line, len("step main_")), ))
    assert found is not None
    assert "step main_menu:" in found.contents.value
    await settles(client, uri(path), lambda ds: ds == [])
