"""Language server benchmark: `ccf lsp` as an editor drives it while an author types into
the 2,000-step flow of bench/compile.py.

Times, over stdio with pygls' client: the first diagnostics after opening the flow;
then ten keystrokes sent as fast as an editor sends them, followed at once by a
hover: how long the hover waits, how long until the diagnostics of the last
keystroke arrive, and how many times the flow was published (each publish is a
compilation of the whole flow); then the outline (documentSymbol) of the flow and a
second hover with nothing typed since.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compile import STEPS, generate  # noqa: E402

KEYSTROKES = 10
# a hover while typing waits for one compilation of the newest text and its index (about
# half a compilation more), not one compilation a keystroke: at most this many times
# what the first diagnostics (one compilation) took
TARGET_HOVER_RATIO = 2.0
TARGET_PUBLISHES = 3  # ten keystrokes in a burst: not ten compilations
# VS Code asks for the outline (and breadcrumbs) after every pause in typing
TARGET_OUTLINE_S = 2.0


def _ccf() -> list[str]:
    script = Path(sys.executable).parent / "ccf"
    return [str(script), "lsp"] if script.exists() else \
        [sys.executable, "-m", "ccdsl.cli.main", "lsp"]


async def run(path: Path, text: str) -> dict[str, float]:
    client = LanguageClient("bench", "1")
    published: list[tuple[float, int | None]] = []
    arrived = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(params: lsp.PublishDiagnosticsParams) -> None:
        published.append((time.perf_counter(), params.version))
        arrived.set()

    await client.start_io(*_ccf())
    await client.initialize_async(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=path.parent.as_uri()))
    client.initialized(lsp.InitializedParams())
    uri = path.as_uri()
    doc = lsp.TextDocumentIdentifier(uri)
    began = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri, "ccf", 1, text)))
    await arrived.wait()
    first = time.perf_counter() - began

    # type "abcdefghij" into the comment that opens the file, one character a keystroke
    published.clear()
    began = time.perf_counter()
    for n in range(KEYSTROKES):
        at = lsp.Position(0, 1 + n)
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=2 + n),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(at, at),
                                                  text="abcdefghij"[n])]))
    hover = await client.text_document_hover_async(lsp.HoverParams(
        doc, lsp.Position(text.split("\n").index("step closing:"), 6)))
    hovered = time.perf_counter() - began
    while not published or published[-1][1] not in (None, 1 + KEYSTROKES):
        arrived.clear()
        try:
            await asyncio.wait_for(arrived.wait(), 60)
        except TimeoutError:
            break
    settled = published[-1][0] - began if published else float("nan")
    began = time.perf_counter()
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(doc))
    outlined = time.perf_counter() - began
    began = time.perf_counter()
    await client.text_document_hover_async(lsp.HoverParams(doc, lsp.Position(5, 6)))
    hovered_again = time.perf_counter() - began
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    assert hover is not None, "no hover on `step closing`"
    assert len(symbols) > STEPS, "the outline lacks steps"
    return {"first": first, "hover": hovered, "settled": settled,
            "publishes": len(published), "outline": outlined, "hover_again": hovered_again}


def main() -> int:
    text = generate()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.ccf"
        path.write_text(text, encoding="utf-8")
        got = asyncio.run(run(path, text))
    lines = text.count("\n")
    print(f"ccf lsp on the generated flow: {STEPS} steps, {lines} lines\n")
    print(f"first diagnostics after didOpen           {got['first']:7.2f} s")
    print(f"hover after {KEYSTROKES} keystrokes in a burst       {got['hover']:7.2f} s")
    print(f"diagnostics of the last keystroke         {got['settled']:7.2f} s")
    print(f"publishes for the {KEYSTROKES} keystrokes             {got['publishes']:7d}")
    print(f"outline (documentSymbol) after that       {got['outline']:7.2f} s")
    print(f"a second hover, nothing typed since       {got['hover_again']:7.2f} s")
    ok_hover = got["hover"] <= TARGET_HOVER_RATIO * got["first"]
    ok_publishes = got["publishes"] <= TARGET_PUBLISHES
    ok_outline = got["outline"] <= TARGET_OUTLINE_S
    print(f"\ntarget: hover while typing <= {TARGET_HOVER_RATIO} x first diagnostics: "
          f"{'met' if ok_hover else 'NOT met'}")
    print(f"target: publishes for a burst of {KEYSTROKES} keystrokes <= {TARGET_PUBLISHES}: "
          f"{'met' if ok_publishes else 'NOT met'}")
    print(f"target: outline of the flow <= {TARGET_OUTLINE_S:.1f} s: "
          f"{'met' if ok_outline else 'NOT met'}")
    return 0 if ok_hover and ok_publishes and ok_outline else 1


if __name__ == "__main__":
    sys.exit(main())
