"""A skill in a skills list (`skills [support]`) and an agent a test names (`expect answered by
li`) are words of the agents file, not references: a queue, step or module of the same name is
not renamed, found or shown there."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import open_file, position_of, uri
from tests.lsp.test_editing import _apply, _rename

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLOW = """flow desk:
  languages en-US

use billing

queue support skills [support] max_wait 60s
queue cash skills [billing] max_wait 60s

routing to_support:
  skills [support] ring 10s
  queue support
  otherwise -> hangup

on start:
  answer
  if agents.available([support]) > 0:
    route to_support
  queue support skills [support]
  queue cash
  billing.greet()
  hangup

test "li takes it":
  agent li skills [support]
  call from "+8613900000000"
  expect queue support
"""

BILLING = """flow billing:
  languages en-US

sub greet():
  play tts "Billing."
"""


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("skills")  # outside the workspace: its own folder
    (folder / "billing.ccf").write_text(BILLING, encoding="utf-8")
    path = folder / "desk.ccf"
    path.write_text(FLOW, encoding="utf-8")
    return path


async def test_renaming_a_queue_leaves_the_skill_of_its_name(client, desk: Path) -> None:
    assert await open_file(client, desk) == []
    edit = await _rename(client, desk, "queue support skills", len("queue "), "helpdesk")
    renamed = _apply(FLOW, edit.changes[uri(desk)])
    # the queue's name, its routing line, its statement and the test's expectation
    assert renamed.count("helpdesk") == 4
    # the agents' skill keeps its name: the agents file still says `support`
    assert renamed.count("[support]") == FLOW.count("[support]") == 5


async def test_a_skill_is_no_reference_to_the_queue(client, desk: Path) -> None:
    await open_file(client, desk)
    found = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(desk)),
        position=position_of(desk, "queue support skills", offset=len("queue ")),
        context=lsp.ReferenceContext(include_declaration=True)))
    lines = FLOW.split("\n")
    assert all("[support]" not in lines[x.range.start.line][x.range.start.character - 1:]
               [:len("[support]")] for x in found)
    assert len(found) == 4  # as many as the rename changes


@pytest.mark.parametrize("needle", ["skills [support] max", "skills [billing]",
                                    "agent li skills [support]"])
async def test_a_skill_has_no_definition_or_declaration_hover(client, desk: Path,
                                                              needle: str) -> None:
    await open_file(client, desk)
    where = lsp.TextDocumentIdentifier(uri=uri(desk))
    position = position_of(desk, needle, offset=needle.index("[") + 2)
    assert not await client.text_document_definition_async(
        lsp.DefinitionParams(text_document=where, position=position))
    hover = await client.text_document_hover_async(
        lsp.HoverParams(text_document=where, position=position))
    assert hover.contents.value.startswith("skill `")


AGENTS = """flow team:
  languages en-US

queue service skills [general] max_wait 60s

on start:
  answer
  goto li

step li:
  queue service
  hangup

test "li answers":
  agent li skills [general]
  call from "+8613900000000"
  expect step li
  expect answered by li
  expect routed via queue to li
"""


async def test_renaming_a_step_leaves_the_agent_of_its_name(client, desk: Path) -> None:
    path = desk.with_name("team.ccf")
    path.write_text(AGENTS, encoding="utf-8")
    assert await open_file(client, path) == []
    edit = await _rename(client, path, "step li", len("step "), "first")
    renamed = _apply(AGENTS, edit.changes[uri(path)])
    assert "goto first" in renamed and "step first:" in renamed
    assert "expect step first" in renamed
    assert "answered by li" in renamed and "routed via queue to li" in renamed


async def test_an_agent_of_a_test_shows_where_the_test_declares_it(client, desk: Path) -> None:
    path = desk.with_name("team.ccf")
    path.write_text(AGENTS, encoding="utf-8")
    await open_file(client, path)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, "answered by li", offset=len("answered by l"))))
    line = AGENTS.split("\n").index("  agent li skills [general]") + 1
    assert hover.contents.value == f"agent `li` of this test, declared at line {line}"
