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


CONSTANTS = """flow consts:
  languages en-US

const base = 10
const doubled = base * 2
queue service skills [general] max_wait 60s
const later = doubled + 1

on start:
  answer
  hangup
"""


async def test_declarations_one_after_another_each_answer_for_their_own_line(
        client, tmp_path: Path) -> None:
    # a one-line declaration's text ends with its line: the next one is not part of it
    path = tmp_path / "consts.ccf"
    path.write_text(CONSTANTS, encoding="utf-8")
    assert await _hover(client, path, "base * 2", len("base ")) == "`base * 2`: number"
    assert await _hover(client, path, "doubled + 1", len("doubled ")) == "`doubled + 1`: number"
    assert await _hover(client, path, "const base = 10", len("const base = ")) == "`10`: number"
    quoted = await _hover(client, path, "base * 2", 1)
    assert "const base = 10\n```" in quoted and "doubled" not in quoted
    queue = await _hover(client, path, "const later = doubled", len("const later = d"))
    assert "const doubled = base * 2\n```" in queue and "queue service" not in queue
