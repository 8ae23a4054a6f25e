"""Diagnostics as you type: the same codes, messages and places `ccf validate` reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from tests.ccf_cli import ccf
from tests.lsp.conftest import open_file, replace_text, settles, uri

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_a_good_flow_has_no_diagnostics(client, workspace: Path) -> None:
    assert await open_file(client, workspace / "hotline.ccf") == []


async def test_a_broken_flow_gets_what_validate_reports(client, workspace: Path) -> None:
    path = workspace / "broken.ccf"
    path.write_text("flow broken:\n  languages en-US\n\non start:\n  goto mian\n\n"
                    "step main:\n  play welcom\n  x = 1 + \"a\"\n  hangup\n", encoding="utf-8")
    got = await open_file(client, path)
    result = ccf("validate", "--format", "json", str(path))
    assert result.exit_code == 1
    wanted = json.loads(result.stdout)
    assert [(d.code, d.message.split("\nhelp: ")[0], d.range.start.line + 1,
             d.range.start.character + 1, d.range.end.character + 1) for d in got] == \
        [(w["code"], w["message"], w["line"], w["column"], w["end_column"]) for w in wanted]
    assert all(d.severity == (lsp.DiagnosticSeverity.Error if w["severity"] == "error"
                              else lsp.DiagnosticSeverity.Warning)
               for d, w in zip(got, wanted, strict=True))
    first = got[0]
    assert first.source == "ccf"
    assert first.code_description.href.endswith(f"/explanations/{first.code}.md")
    assert "help: did you mean `main`?" in first.message


async def test_an_edit_updates_and_clears_diagnostics(client, workspace: Path) -> None:
    path = workspace / "orders.ccf"
    good = path.read_text(encoding="utf-8")
    assert await open_file(client, path) == []
    broken = good.replace("sub ", "sub  (", 1)
    diags = await replace_text(client, path, broken, 2)
    assert diags and diags[0].code.startswith("E0")  # a syntax error
    assert await replace_text(client, path, good, 3) == []


async def test_a_module_edited_unsaved_counts_for_the_flow_using_it(
        client, workspace: Path) -> None:
    """hotline.ccf (open since the first test) uses orders.ccf: an unsaved edit of orders.ccf
    that removes what hotline calls is reported in hotline.ccf at once, as `ccf validate`
    would report it after saving."""
    orders, hotline = workspace / "orders.ccf", workspace / "hotline.ccf"
    text = orders.read_text(encoding="utf-8")
    diags = await replace_text(client, orders, text.replace("tell_status", "say_status"), 4)
    assert diags == []
    found = await settles(client, uri(hotline), lambda ds: any("tell_status" in d.message
                                                               for d in ds))
    assert [d.code for d in found if "tell_status" in d.message] == ["E100"], found
    await replace_text(client, orders, text, 5)
    assert await settles(client, uri(hotline), lambda ds: ds == []) == []


async def test_an_untitled_buffer_gets_its_diagnostics_and_answers(client) -> None:
    """A new, never saved buffer (VS Code's `untitled:` URI, which the extension selects)
    is compiled from its text; its diagnostics are published at its own URI."""
    untitled = "untitled:Untitled-1"
    text = "flow u:\n  languages en-US\n\non start:\n  goto mian\n\nstep main:\n  hangup\n"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=untitled, language_id="ccf", version=1, text=text)))
    found = await settles(client, untitled, lambda ds: ds != [])
    assert [(d.code, d.range.start.line) for d in found] == [("E100", 4), ("W200", 6)]
    here = lsp.TextDocumentIdentifier(uri=untitled)
    symbols = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=here))
    assert [s.name for s in symbols] == ["u", "on start", "main"]
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=here))


async def test_an_empty_untitled_buffer_is_named_as_the_editor_names_it(client) -> None:
    """The path an untitled buffer is compiled as is the server's own: a message names
    the buffer by its URI, not by that made-up path."""
    untitled = "untitled:Untitled-7"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=untitled, language_id="ccf", version=1, text="")))
    (found,) = await settles(client, untitled, lambda ds: ds != [])
    assert found.code == "E009"
    assert found.message.startswith("`untitled:Untitled-7` is empty")
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=untitled)))


async def test_a_broken_module_that_is_not_open_shows_on_the_use_line(client, tmp_path) -> None:
    """validate fails on an error in a used module: the open flow says so at the `use`
    that brings the module in, pointing at the error, even when the module is not open."""
    flow = tmp_path / "desk.ccf"
    flow.write_text("flow desk:\n  languages en-US\n\nuse stdlib.survey\nuse billing\n\n"
                    "on start:\n  answer\n  billing.greet()\n  hangup\n", encoding="utf-8")
    (tmp_path / "billing.ccf").write_text(
        "flow billing:\n  languages en-US\n\nsub greet(:\n  hangup\n", encoding="utf-8")
    assert ccf("validate", str(flow)).exit_code == 1
    (found,) = await open_file(client, flow)
    assert (found.code, found.severity, found.range.start.line) == \
        ("E001", lsp.DiagnosticSeverity.Error, 4)
    assert found.message.startswith("the module `billing` has an error: ")
    (where,) = found.related_information
    assert where.location.uri == uri(tmp_path / "billing.ccf")
    assert where.location.range.start.line == 3


async def test_a_used_module_s_warning_shows_on_the_use_line_as_validate_shows_it(
        client, tmp_path) -> None:
    """validate reports a used module's warnings with the flow (and passes): the open flow
    shows each as a warning at its `use` line, pointing at it, and nothing more."""
    flow = tmp_path / "desk.ccf"
    flow.write_text("flow desk:\n  languages en-US\n\nuse billing\n\n"
                    "on start:\n  answer\n  log billing.balance()\n  hangup\n",
                    encoding="utf-8")
    (tmp_path / "billing.ccf").write_text(
        "flow billing:\n  languages en-US\n\nsub balance():\n  unused = 3\n"
        "  return \"unknown\"\n", encoding="utf-8")
    result = ccf("validate", "--format", "json", str(flow))
    assert result.exit_code == 0
    wanted = json.loads(result.stdout)
    (found,) = await open_file(client, flow)
    assert [(found.code, "warning", found.message.split("has a warning: ")[1].split(
        "\nhelp: ")[0])] == [(d["code"], d["severity"], d["message"]) for d in wanted]
    assert (found.severity, found.range.start.line) == (lsp.DiagnosticSeverity.Warning, 3)
    assert found.message.startswith("the module `billing` has a warning: ")
    (where,) = found.related_information
    assert (where.location.uri, where.location.range.start.line) == \
        (uri(tmp_path / "billing.ccf"), 4)


async def test_a_module_changed_on_disk_updates_the_open_flows(client, workspace: Path) -> None:
    """orders.ccf changed outside the editor (a git checkout): the editor's file watcher
    tells the server, and hotline.ccf, open, is checked again at once."""
    orders, hotline = workspace / "orders.ccf", workspace / "hotline.ccf"
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri(orders))))
    await open_file(client, hotline, version=20)
    saved = orders.read_text(encoding="utf-8")
    try:
        orders.write_text(saved.replace("tell_status", "say_status"), encoding="utf-8")
        client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=uri(orders), type=lsp.FileChangeType.Changed)]))
        found = await settles(client, uri(hotline), lambda ds: any(
            "tell_status" in d.message for d in ds))
        assert [d.code for d in found if "tell_status" in d.message] == ["E100"]
    finally:
        orders.write_text(saved, encoding="utf-8")
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
        changes=[lsp.FileEvent(uri=uri(orders), type=lsp.FileChangeType.Changed)]))
    assert await settles(client, uri(hotline), lambda ds: ds == []) == []
