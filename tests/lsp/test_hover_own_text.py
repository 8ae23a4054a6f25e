"""Hover on a name quotes its declaration's own lines: not the comment that stands above
the next declaration."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import open_file, position_of, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLOW = """flow commented:
  languages en-US

step greet:
  play welcome

# the closing step: says goodbye
step close:
  hangup

prompt welcome:
  en-US tts "Welcome."

on start:
  answer
  goto greet
"""


async def test_a_declaration_is_quoted_without_the_next_ones_comment(
        client, tmp_path: Path) -> None:
    path = tmp_path / "commented.ccf"
    path.write_text(FLOW, encoding="utf-8")
    await open_file(client, path)
    found = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, "goto greet", offset=len("goto g"))))
    assert found is not None
    text = found.contents.value
    assert "```ccf\nstep greet:\n  play welcome\n```" in text
    assert "closing step" not in text
