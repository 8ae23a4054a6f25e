"""Completion: statements, names in scope after a statement's keyword, builtins, fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from ccdsl.compiler.checks.tests import EXPECT_KINDS
from ccdsl.compiler.words import first_words
from ccdsl.types import BUILTIN_RECORDS
from tests.lsp.conftest import open_file, replace_text, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")
VERSION = iter(range(10, 1000))


async def _complete_after(client, path: Path, anchor: str, typed: str) -> list[str]:
    """Type `typed` on a new line after the line `anchor` (the flow stops parsing) and ask
    for completions at its end."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    at = lines.index(anchor) + 1
    lines.insert(at, typed)
    await replace_text(client, path, "\n".join(lines), next(VERSION))
    found = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=lsp.Position(at, len(typed))))
    await replace_text(client, path, text, next(VERSION))
    return [item.label for item in found.items]


@pytest.fixture(scope="module")
def hotline(workspace: Path) -> Path:
    return workspace / "hotline.ccf"


async def test_after_goto_only_the_steps(client, hotline: Path) -> None:
    await open_file(client, hotline)
    steps = re.findall(r"^step (\w+):", hotline.read_text(encoding="utf-8"), re.M)
    got = await _complete_after(client, hotline, "step tech_support:", "  goto ")
    assert got == sorted(steps)


async def test_after_play_only_the_prompts(client, hotline: Path) -> None:
    prompts = re.findall(r"^prompt (\w+):", hotline.read_text(encoding="utf-8"), re.M)
    got = await _complete_after(client, hotline, "step tech_support:", "  play ")
    assert got == sorted(prompts)


async def test_fields_of_caller_and_of_a_crm_record(client, hotline: Path) -> None:
    got = await _complete_after(client, hotline, "step tech_support:", "  x = caller.")
    assert got == list(BUILTIN_RECORDS["caller"].field_names)
    got = await _complete_after(client, hotline, "step tech_support:", "  x = customer.")
    assert {"tier", "language", "id"} <= set(got)


async def test_members_of_a_module_and_a_builtin_namespace(client, hotline: Path) -> None:
    got = await _complete_after(client, hotline, "step tech_support:", "  x = orders.")
    assert "tell_status" in got
    got = await _complete_after(client, hotline, "step tech_support:", "  x = crm.")
    assert "customer" in got and "find" in got


async def test_at_a_line_start_statements_variables_and_builtins(client, hotline) -> None:
    got = await _complete_after(client, hotline, "step tech_support:", "  ")
    assert {"goto", "play", "menu", "queue", "hangup"} <= set(got)
    assert {"customer", "order_no", "vip_priority", "caller", "now"} <= set(got)
    assert "main_menu" not in got  # a step is no value: only `goto` names it


async def test_at_column_one_the_declarations(client, hotline: Path) -> None:
    got = await _complete_after(client, hotline, "step tech_support:", "")
    assert {"step", "prompt", "queue", "routing", "const", "use"} <= set(got)


@pytest.fixture(scope="module")
def hotline_tests(workspace: Path) -> Path:
    return workspace / "hotline.test.ccf"


FIRST_TEST = 'test "business hours: a known caller hears the welcome and the menu":'


async def test_after_expect_the_kinds_of_expectation(client, hotline, hotline_tests) -> None:
    """What the checker accepts after `expect` (each compiles as one), not the flow's names."""
    await open_file(client, hotline_tests)
    got = await _complete_after(client, hotline_tests, FIRST_TEST, "  expect ")
    assert set(got) == set(EXPECT_KINDS) | {"not"}
    assert "main_menu" not in got and "welcome" not in got
    got = await _complete_after(client, hotline_tests, FIRST_TEST, "  expect not ")
    assert set(got) == set(EXPECT_KINDS)


async def test_after_an_expectation_kind_the_names_it_takes(client, hotline, hotline_tests):
    prompts = re.findall(r"^prompt (\w+):", hotline.read_text(encoding="utf-8"), re.M)
    steps = re.findall(r"^step (\w+):", hotline.read_text(encoding="utf-8"), re.M)
    got = await _complete_after(client, hotline_tests, FIRST_TEST, "  expect played ")
    assert got == sorted(prompts)
    got = await _complete_after(client, hotline_tests, FIRST_TEST, "  expect not step ")
    assert got == sorted(steps)


async def test_at_a_test_line_start_the_test_statements(client, hotline_tests) -> None:
    got = await _complete_after(client, hotline_tests, FIRST_TEST, "  ")
    assert {"at", "crm", "agent", "call", "press", "speak", "expect", "hangup"} <= set(got)
    assert "goto" not in got and "menu" not in got  # flow statements are no test's
    for word in got:  # each starts a line a test block may hold
        assert word in first_words("test_stmt")
