"""Positions are UTF-16 code units: Chinese names, and an emoji (two units) before a name."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import open_file, position_of, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLOW = """flow 问候:
  languages zh-CN

on start:
  次数 = 1
  log "👋👋 ${次数}"
  goto 无此步

step 结束:
  hangup
"""


async def test_a_name_after_an_emoji_is_found_in_utf16_units(client, workspace: Path) -> None:
    path = workspace / "emoji.ccf"
    path.write_text(FLOW, encoding="utf-8")
    diags = await open_file(client, path)
    where = position_of(path, "${次数}", offset=2)
    assert where.character == len('  log "') + 4 + 1 + 2  # each 👋 is two UTF-16 units
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)), position=where))
    assert [(f.range.start.line, f.range.start.character, f.range.end.character)
            for f in found] == [(4, 2, 4)]
    (unknown,) = [d for d in diags if "无此步" in d.message]
    assert (unknown.range.start.line, unknown.range.start.character,
            unknown.range.end.character) == (6, 7, 10)


async def test_chinese_steps_and_prompts(client, workspace: Path) -> None:
    path = workspace / "unicode_names_line.ccf"
    assert await open_file(client, path) == []
    (found,) = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, "goto 查询订单", offset=6)))
    line = path.read_text(encoding="utf-8").split("\n").index("step 查询订单:")
    assert (found.range.start, found.range.end) == (lsp.Position(line, 5),
                                                     lsp.Position(line, 9))
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, "play 欢迎", offset=6)))
    assert "- zh-CN (tts): 欢迎致电客服热线" in hover.contents.value
