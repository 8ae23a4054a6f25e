"""What the language server's tests share: a copy of examples/iws as the workspace, and
`ccf lsp` started once per test module as a subprocess, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parents[2]
SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "ccdsl.cli.main", "lsp"])
TIMEOUT = 60  # seconds for one answer: the machine is shared


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """examples/iws copied (hotline.ccf, its tests, orders.ccf), and a flow with Chinese names."""
    where = tmp_path_factory.mktemp("ws") / "iws"
    shutil.copytree(ROOT / "examples" / "iws", where)
    shutil.copy(ROOT / "tests" / "scenarios" / "unicode_names_line.ccf", where)
    return where


class Published(dict):
    """The client's latest diagnostics per file, counting each publish: a test waits for the
    count to grow, so a publish that lands before it starts waiting (or right behind one for
    another file) is never missed."""

    def __init__(self) -> None:
        super().__init__()
        self.count: Counter[str] = Counter()

    def __setitem__(self, file_uri: str, diagnostics) -> None:
        super().__setitem__(file_uri, diagnostics)
        self.count[file_uri] += 1


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path):
    lsp_client.diagnostics = Published()  # what pytest-lsp's own handler writes to
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(
            general=lsp.GeneralClientCapabilities(
                position_encodings=[lsp.PositionEncodingKind.Utf16])),
        root_uri=workspace.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(workspace.as_uri(), "iws")]))
    yield
    await lsp_client.shutdown_session()


def uri(path: Path) -> str:
    return path.as_uri()


async def published(client: LanguageClient, file_uri: str, before: int) -> list[lsp.Diagnostic]:
    """The file's diagnostics once the server has published them more than `before` times."""
    return await settles(client, file_uri,
                         lambda _: client.diagnostics.count[file_uri] > before)


async def settles(client: LanguageClient, file_uri: str, wanted) -> list[lsp.Diagnostic]:
    """The file's latest published diagnostics once `wanted(diagnostics)` holds (a publish
    that comes right after another may land before anyone waits for it)."""
    found: list[lsp.Diagnostic] = []
    for _ in range(TIMEOUT * 20):
        found = list(client.diagnostics.get(file_uri, ()))
        if wanted(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"diagnostics of {file_uri} never settled within {TIMEOUT} s: {found}")


async def open_file(client: LanguageClient, path: Path, text: str | None = None,
                    version: int = 1) -> list[lsp.Diagnostic]:
    """Open a file in the server (its disk text unless given); its diagnostics."""
    text = path.read_text(encoding="utf-8") if text is None else text
    before = client.diagnostics.count[uri(path)]
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri(path), language_id="ccf", version=version, text=text)))
    return await published(client, uri(path), before)


async def replace_text(client: LanguageClient, path: Path, text: str,
                       version: int) -> list[lsp.Diagnostic]:
    """Replace an open file's whole text, as an editor does; its diagnostics."""
    before = client.diagnostics.count[uri(path)]
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
        [lsp.TextDocumentContentChangeWholeDocument(text=text)]))
    return await published(client, uri(path), before)


def position_of(path: Path, needle: str, nth: int = 0, offset: int = 0) -> lsp.Position:
    """The LSP position (UTF-16) of the nth occurrence of needle in a file, plus offset
    characters: where a test puts the cursor."""
    text = path.read_text(encoding="utf-8")
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += offset
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    return lsp.Position(line, len(text[start:at].encode("utf-16-le")) // 2)
