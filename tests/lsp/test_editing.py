"""Formatting (as `ccf fmt`), rename (every reference in the workspace, or a refusal) and
the outline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.ccf_cli import ccf
from tests.lsp.conftest import open_file, position_of, replace_text, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """Text edits applied as an editor does (positions in UTF-16 code units)."""
    lines = text.split("\n")

    def offset(p: lsp.Position) -> int:
        if p.line >= len(lines):
            return len(text)
        line = lines[p.line].encode("utf-16-le")[:p.character * 2].decode("utf-16-le")
        return sum(len(x) + 1 for x in lines[:p.line]) + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                       reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def _format(client, path: Path) -> list[lsp.TextEdit]:
    return await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))


async def test_formatting_gives_what_ccf_fmt_writes(client, workspace: Path) -> None:
    path = workspace / "messy.ccf"
    messy = (workspace / "hotline.ccf").read_text(encoding="utf-8").replace(
        "const vip_priority = 10", "const   vip_priority=10").replace(
        "  answer\n", "  answer   \n\n\n")
    path.write_text(messy, encoding="utf-8")
    await open_file(client, path)
    edits = await _format(client, path)
    assert ccf("fmt", str(path)).exit_code == 0
    assert _apply(messy, edits) == path.read_text(encoding="utf-8") != messy
    assert list(await _format(client, workspace / "hotline.ccf")) == []  # formatted already
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path))))
    path.unlink()  # a second copy of hotline would share its references


async def test_a_file_with_syntax_errors_is_not_formatted(client, workspace: Path) -> None:
    path = workspace / "half.ccf"
    path.write_text("flow half:\n  languages en-US\n\non start:\n  goto (\n", encoding="utf-8")
    await open_file(client, path)
    assert list(await _format(client, path)) == []
    assert client.messages[-1].message == "ccf: not formatted: the file has syntax errors"


async def _rename(client, path: Path, needle: str, offset: int, new_name: str):
    return await client.text_document_rename_async(lsp.RenameParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path)),
        position=position_of(path, needle, offset=offset), new_name=new_name))


def _code(text: str, word: str) -> int:
    return sum(len(re.findall(rf"\b{word}\b", line.split("#")[0])) for line in text.split("\n"))


async def test_rename_a_step_everywhere_in_the_workspace(client, workspace: Path) -> None:
    hotline, tests = workspace / "hotline.ccf", workspace / "hotline.test.ccf"
    await open_file(client, hotline)
    edit = await _rename(client, hotline, "step main_menu", 6, "start_menu")
    assert set(edit.changes) == {uri(hotline), uri(tests)}
    renamed = {}
    for path in (hotline, tests):
        old = path.read_text(encoding="utf-8")
        new = renamed[path] = _apply(old, edit.changes[uri(path)])
        assert _code(new, "main_menu") == 0
        assert _code(new, "start_menu") == _code(old, "main_menu") > 0
    # the renamed flow still checks clean, its tests included
    for path, new in renamed.items():
        path.write_text(new, encoding="utf-8")
    try:
        assert ccf("validate", str(hotline)).exit_code == 0
    finally:
        for path, new in renamed.items():
            path.write_text(new.replace("start_menu", "main_menu"), encoding="utf-8")


async def test_rename_a_sub_flow_reaches_the_flow_that_calls_it(client, workspace) -> None:
    orders = workspace / "orders.ccf"
    await open_file(client, orders)
    edit = await _rename(client, orders, "sub tell_status", 5, "read_status")
    assert set(edit.changes) == {uri(orders), uri(workspace / "hotline.ccf")}
    assert [e.new_text for e in edit.changes[uri(workspace / "hotline.ccf")]] == ["read_status"]


@pytest.mark.parametrize("bad", ["goto", "1st", "main menu", ""])
async def test_rename_refuses_a_keyword_or_a_non_name(client, workspace, bad) -> None:
    with pytest.raises(Exception, match="keyword|not a name"):
        await _rename(client, workspace / "hotline.ccf", "step main_menu", 6, bad)


async def test_rename_refuses_the_standard_library(client, workspace: Path) -> None:
    path = workspace / "hotline.ccf"
    text = path.read_text(encoding="utf-8")
    call = re.search(r"voicemail\.(\w+)\(", text)
    assert call, "hotline.ccf calls into stdlib.voicemail"
    with pytest.raises(Exception, match="standard library"):
        await _rename(client, path, call.group(0), len("voicemail."), "other")


async def test_the_outline_of_a_flow(client, workspace: Path) -> None:
    path = workspace / "hotline.ccf"
    await replace_text(client, path, path.read_text(encoding="utf-8"), 50)
    found = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path))))
    by_name = {s.name: s for s in found}
    assert list(by_name)[:3] == ["hotline", "stdlib.voicemail", "stdlib.survey"]
    assert {"welcome", "service", "to_service", "on start", "main_menu"} <= set(by_name)
    assert [c.name for c in by_name["welcome"].children] == ["zh-CN", "en-US"]
    assert [c.name for c in by_name["service"].children] == ["press 1", "press 2"]
    (menu,) = by_name["main_menu"].children
    assert [k.name for k in menu.children] == ["1", "2", "0", "9", "timeout, invalid",
                                               "exhausted"]
    assert by_name["main_menu"].selection_range.start == lsp.Position(
        path.read_text(encoding="utf-8").split("\n").index("step main_menu:"), 0)


async def test_the_outline_of_a_test_file_lists_its_tests(client, workspace: Path) -> None:
    path = workspace / "hotline.test.ccf"
    await open_file(client, path)
    found = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path))))
    names = re.findall(r'^test "([^"]*)"', path.read_text(encoding="utf-8"), re.M)
    assert [s.name for s in found] == names and names


OUTLINED = """flow desk:
  languages en-US

# the greeting
prompt welcome:
  en-US tts "Welcome."   # said once

step main:
  menu:
    prompt welcome
    1 -> goto done
    timeout, invalid -> play welcome

  # the last key
    exhausted -> hangup


step done:
  hangup
  # nothing after this

"""


def _ends(symbols) -> list[tuple[str, int, int]]:
    out = []
    for s in symbols:
        out.append((s.name, s.range.end.line, s.range.end.character))
        for child in s.children or ():  # inside its parent, as editors nest them
            assert (s.range.start.line, s.range.start.character) <= \
                (child.range.start.line, child.range.start.character)
            assert (child.range.end.line, child.range.end.character) <= \
                (s.range.end.line, s.range.end.character)
        out += _ends(s.children or ())
    return out


async def test_an_outline_symbol_ends_where_its_text_ends(client, tmp_path: Path) -> None:
    """Not at column 0 of the next declaration's line, over blank lines and the comment
    above it: at the end of its last line of code, as editors fold and highlight by it."""
    path = tmp_path / "desk.ccf"
    await open_file(client, path, OUTLINED)
    found = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(path))))
    lines = OUTLINED.split("\n")

    def end_of(text: str) -> tuple[int, int]:
        line = lines.index(text)
        return line, len(text.split("  #")[0].rstrip()) if "  #" in text else len(text)

    assert _ends(found) == [
        ("desk", *end_of("  languages en-US")),
        ("welcome", *end_of('  en-US tts "Welcome."   # said once')),
        ("en-US", *end_of('  en-US tts "Welcome."   # said once')),
        ("main", *end_of("    exhausted -> hangup")),
        ("menu", *end_of("    exhausted -> hangup")),
        ("1", *end_of("    1 -> goto done")),
        ("timeout, invalid", *end_of("    timeout, invalid -> play welcome")),
        ("exhausted", *end_of("    exhausted -> hangup")),
        ("done", *end_of("  hangup")),
    ]
