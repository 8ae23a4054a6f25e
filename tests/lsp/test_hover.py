"""Hover: types the checker knows, prompts in each language, builtins' docs, declarations."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from ccdsl import builtins as bi
from tests.lsp.conftest import open_file, position_of, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _hover(client, path: Path, needle: str, offset: int) -> str:
    await open_file(client, path)
    found = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, needle, offset=offset)))
    assert found is not None, needle
    return found.contents.value


async def test_a_prompt_shows_its_text_in_each_language(client, workspace: Path) -> None:
    text = await _hover(client, workspace / "hotline.ccf", "  play welcome", 8)
    assert "- zh-CN (file): iws/welcome" in text
    assert "- en-US (tts): Welcome to IWS customer service." in text


async def test_a_builtin_shows_its_signature_and_doc(client, workspace: Path) -> None:
    text = await _hover(client, workspace / "hotline.ccf", "crm.customer(", 5)
    assert bi.lookup("crm.customer").doc in text
    assert text.startswith("```ccf\ncrm.customer(")


async def test_a_variable_and_a_constant_show_their_types(client, workspace: Path) -> None:
    path = workspace / "hotline.ccf"
    assert (await _hover(client, path, "if order_no == null", 4)).startswith(
        "```ccf\norder_no: text\n```")
    assert (await _hover(client, path, "if customer.language", 4)).startswith(
        "```ccf\ncustomer: customer?\n```")
    assert "const vip_priority: number" in await _hover(client, path, "priority vip_priority",
                                                         10)


async def test_an_expression_shows_its_type(client, workspace: Path) -> None:
    text = await _hover(client, workspace / "hotline.ccf", 'call.language == "zh-CN"', 15)
    assert text == '`call.language == "zh-CN"`: bool'


async def test_a_step_shows_its_declaration(client, workspace: Path) -> None:
    text = await _hover(client, workspace / "hotline.ccf", "2 -> goto tech_support", 11)
    assert "```ccf\nstep tech_support:\n  play connecting\n" in text
