"""Go to definition and find references, across the flow, its modules, its tests and the
standard library."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.lsp.conftest import ROOT, open_file, position_of, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _at(location: lsp.Location) -> tuple[str, int, int, int]:
    r = location.range
    return Path(location.uri.removeprefix("file://")).name, r.start.line + 1, \
        r.start.character, r.end.character


async def _definition(client, path: Path, needle: str, offset: int) -> list[lsp.Location]:
    await open_file(client, path)
    return await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, needle, offset=offset)))


async def _references(client, path: Path, needle: str, offset: int,
                      declaration: bool) -> list[lsp.Location]:
    await open_file(client, path)
    return await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, needle, offset=offset),
        context=lsp.ReferenceContext(include_declaration=declaration)))


async def test_goto_a_step_lands_on_its_name(client, workspace: Path) -> None:
    path = workspace / "hotline.ccf"
    (found,) = await _definition(client, path, "1 -> goto order_lookup", len("1 -> goto "))
    line = path.read_text(encoding="utf-8").split("\n").index("step order_lookup:") + 1
    assert _at(found) == ("hotline.ccf", line, 5, 5 + len("order_lookup"))


async def test_a_sub_flow_of_a_module_is_found_in_its_file(client, workspace: Path) -> None:
    (found,) = await _definition(client, workspace / "hotline.ccf", "orders.tell_status",
                                 len("orders.t"))
    line = (workspace / "orders.ccf").read_text(encoding="utf-8").split("\n").index(
        "sub tell_status(number):") + 1
    assert _at(found) == ("orders.ccf", line, 4, 4 + len("tell_status"))


async def test_use_goes_to_the_module_file_and_the_stdlib(client, workspace: Path) -> None:
    path = workspace / "hotline.ccf"
    (module,) = await _definition(client, path, "use orders", len("use o"))
    assert module.uri == uri(workspace / "orders.ccf")
    (stdlib,) = await _definition(client, path, "use stdlib.voicemail", len("use stdlib.v"))
    assert stdlib.uri == uri(ROOT / "stdlib_flows" / "voicemail.ccf")
    assert stdlib.range.start == lsp.Position(0, 0)


def _code_words(path: Path, word: str) -> int:
    """Whole-word occurrences of a word outside comments (the oracle for references)."""
    return sum(len(re.findall(rf"\b{word}\b", line.split("#")[0]))
               for line in path.read_text(encoding="utf-8").split("\n"))


async def test_references_of_a_step_cover_the_flow_and_its_tests(client, workspace) -> None:
    path = workspace / "hotline.ccf"
    found = await _references(client, path, "step main_menu", 6, declaration=True)
    files = [Path(f.uri).name for f in found]
    tests = workspace / "hotline.test.ccf"
    assert files.count("hotline.ccf") == _code_words(path, "main_menu") >= 5
    assert files.count("hotline.test.ccf") == _code_words(tests, "main_menu") >= 3
    lines = path.read_text(encoding="utf-8").split("\n")
    for f in found:
        if f.uri == uri(path):
            r = f.range
            assert lines[r.start.line][r.start.character:r.end.character] == "main_menu"


async def test_references_of_a_sub_flow_reach_the_flows_that_use_it(client, workspace) -> None:
    path = workspace / "orders.ccf"
    found = await _references(client, path, "sub tell_status", 5, declaration=False)
    assert [Path(f.uri).name for f in found] == ["hotline.ccf"]


async def test_references_outside_the_workspace_reach_the_flows_beside_the_file(
        client, tmp_path) -> None:
    """A module opened from outside every workspace folder: the flows of its own folder that
    use it count (a rename would otherwise leave them calling a name that is gone)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "iws" / "orders.ccf", folder)
    shutil.copy(ROOT / "examples" / "iws" / "hotline.ccf", folder)
    path = folder / "orders.ccf"
    found = await _references(client, path, "sub tell_status", 5, declaration=False)
    assert [(Path(f.uri).parent.name, Path(f.uri).name) for f in found] == [
        ("elsewhere", "hotline.ccf")]
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path))))


async def test_a_field_of_a_declared_record_goes_to_its_declaration(client, workspace) -> None:
    """`order.eta` lands on `eta: date?` in `record order:`; its references are the record's
    line and every read of it; a rename is refused (the CRM's data names the field)."""
    path = workspace / "orders.ccf"
    await open_file(client, path)
    here = lsp.TextDocumentIdentifier(uri=uri(path))
    read = position_of(path, "order.eta", offset=len("order.e"))
    found = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=here, position=read))
    assert [(f.range.start.line, f.range.start.character) for f in found] == [
        (position_of(path, "eta: date?").line, 2)]
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=here, position=read, context=lsp.ReferenceContext(
            include_declaration=True)))
    text = path.read_text(encoding="utf-8")
    assert len(refs) == len(re.findall(r"\border\.eta\b", text)) + 1
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=here, position=read))
    assert "date" in hover.contents.value
    with pytest.raises(Exception, match="named by the CRM"):
        await client.text_document_rename_async(lsp.RenameParams(
            text_document=here, position=read, new_name="arrives"))
