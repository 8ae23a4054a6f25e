"""The server never fails on what an editor sends mid-typing: every cut of a real flow,
a module deleted from under it."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import open_file, position_of, replace_text, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _cuts(text: str, every: int) -> list[str]:
    """The flow cut before every `every`th line, and in the middle of it (half-typed)."""
    lines = text.split("\n")
    out = []
    for n, line in enumerate(lines):
        if n % every:
            continue
        head = "\n".join(lines[:n])
        out.append(head)
        out.append(head + ("\n" if n else "") + line[:len(line) // 2])
    return out


async def test_every_cut_of_hotline_gets_diagnostics_and_no_server_error(
        client, workspace: Path) -> None:
    path = workspace / "hotline.ccf"
    text = path.read_text(encoding="utf-8")
    await open_file(client, path)
    # every 3rd line keeps the suite quick; each cut is a different half-typed construct
    for version, cut in enumerate(_cuts(text, every=3), start=2):
        diags = await replace_text(client, path, cut, version)
        assert all(d.code for d in diags)
        if version % 20 == 0:  # the other features on a half-typed flow answer too
            here = lsp.TextDocumentIdentifier(uri=uri(path))
            end = lsp.Position(cut.count("\n"), 0)
            await client.text_document_hover_async(lsp.HoverParams(
                text_document=here, position=end))
            await client.text_document_completion_async(lsp.CompletionParams(
                text_document=here, position=end))
            await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
                text_document=here))
    errors = [m.message for m in client.log_messages if m.type == lsp.MessageType.Error]
    assert errors == []
    assert client.error is None
    assert await replace_text(client, path, text, 10_000) == []


async def test_a_deleted_module_is_a_diagnostic_then_comes_back(client, workspace) -> None:
    path, orders = workspace / "hotline.ccf", workspace / "orders.ccf"
    saved = orders.read_text(encoding="utf-8")
    orders.unlink()
    try:
        client.text_document_did_save(lsp.DidSaveTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(path))))
        diags = await open_file(client, path, version=10_001)
        assert [d.code for d in diags if "orders" in d.message][:1] == ["E103"]
        found = await client.text_document_definition_async(lsp.DefinitionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
            position=position_of(path, "goto main_menu", offset=6)))
        assert found  # from the last compilation that loaded
    finally:
        orders.write_text(saved, encoding="utf-8")
    assert await replace_text(client, path, path.read_text(encoding="utf-8"), 10_002) == []
