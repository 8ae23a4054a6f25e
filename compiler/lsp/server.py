"""The wiring: a pygls LanguageServer whose handlers hand each request to its feature module.

Must not hold a feature's logic. Every handler is guarded: a bug met on a
half-typed line is logged to the editor and answered with nothing, never a
crashed server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from ccdsl import __version__, ast, installed_version
from ccdsl.compiler.cache_store import Store
from ccdsl.compiler.lsp import completion, diagnostics, formatting, hover, navigation, outline
from ccdsl.compiler.lsp.documents import Documents
from ccdsl.compiler.lsp.positions import from_position, path_to_uri, to_range, uri_to_path
from ccdsl.compiler.lsp.rename import RenameError, rename_spans
from ccdsl.source import Span

log = logging.getLogger("ccdsl.lsp")
# A burst of keystrokes is compiled and published once, this long after its last: a
# 20,000-line flow takes seconds to compile, and a compilation a keystroke would keep
# every hover and completion waiting behind them. A request made meanwhile compiles
# the newest text itself (documents.py caches it for the publish).
PUBLISH_DELAY_S = 0.3


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed: the request was understood and refused, with a reason to show."""

    CODE = -32803


class CcfServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("ccf-lsp", installed_version() or f"{__version__}+unknown")
        self.documents = Documents(Store())
        self._pending: dict[str, asyncio.TimerHandle] = {}

    def range_of(self, span: Span) -> lsp.Range:
        return to_range(self.workspace.position_codec, self.documents.lines(span.file), span)

    def location(self, span: Span) -> lsp.Location:
        return lsp.Location(path_to_uri(span.file), self.range_of(span))

    def cursor(self, uri: str, position: lsp.Position) -> tuple[str, int, int]:
        path = uri_to_path(uri)
        line, column = from_position(self.workspace.position_codec,
                                     self.documents.lines(path), position)
        return path, line, column

    def report_failure(self, what: str, exc: Exception) -> None:
        """A bug met on one request or publish, logged to the editor (the server goes on)."""
        log.exception("ccf lsp: %s failed", what)
        self.window_log_message(lsp.LogMessageParams(
            type=lsp.MessageType.Error,
            message=f"ccf lsp: {what} failed: {type(exc).__name__}: {exc}\n"
            + traceback.format_exc()))

    def publish_soon(self, path: str) -> None:
        """Publish once the author pauses: PUBLISH_DELAY_S after the last call for path."""
        self.cancel_publish(path)
        self._pending[path] = asyncio.get_running_loop().call_later(
            PUBLISH_DELAY_S, self._publish_pending, path)

    def cancel_publish(self, path: str) -> None:
        pending = self._pending.pop(path, None)
        if pending is not None:
            pending.cancel()

    def _publish_pending(self, path: str) -> None:
        self._pending.pop(path, None)
        if path not in self.documents.texts:  # closed meanwhile
            return
        try:
            self.publish(path)
        except Exception as exc:  # a timer's failure has no request to answer
            self.report_failure("publishing diagnostics", exc)

    def publish(self, path: str, dependants: bool = True) -> None:
        """Publish a file's diagnostics; then those of the other open flows that use it
        (an edit of a module can break the flows that call into it)."""
        self._publish(path)
        # the index hover, definition and rename stand on, built now that the diagnostics
        # are out: the author has paused, and the next request finds it ready
        _ = self.documents.compile(path).index
        if not dependants:
            return
        for other in list(self.documents.texts):
            if other != path and self.documents.uses(other, path):
                self._publish(other)

    def _publish(self, path: str) -> None:
        compiled = self.documents.compile(path)
        files = [path, compiled.entry, *(s.path for s in (
            compiled.result.program.test_sources if compiled.result.program else ()))]
        found = diagnostics.by_file(compiled.result.diagnostics, list(dict.fromkeys(files)),
                                    self.range_of)
        found[compiled.entry] = found.get(compiled.entry, []) + diagnostics.in_used_modules(
            compiled.result.diagnostics, set(found), compiled.entry,
            self.documents.lines(compiled.entry), self.range_of)
        for file, diags in found.items():
            if file == path or file in self.documents.texts:
                self.text_document_publish_diagnostics(
                    lsp.PublishDiagnosticsParams(path_to_uri(file), diags))


server = CcfServer()


def guarded(handler):
    """Answer None (and log why to the editor) when a handler fails on input it did not
    foresee; a refusal (RequestFailed) goes to the editor as the request's error."""
    @functools.wraps(handler)
    def run(ls: CcfServer, params):
        try:
            return handler(ls, params)
        except JsonRpcException:
            raise
        except Exception as exc:  # the server outlives a bug met on one request
            ls.report_failure(handler.__name__, exc)
            return None
    return run


@server.feature(lsp.INITIALIZED)
@guarded
def initialized(ls: CcfServer, params: lsp.InitializedParams) -> None:
    folders = ls.workspace.folders.values()
    ls.documents.roots = [uri_to_path(f.uri) for f in folders]
    if not ls.documents.roots and ls.workspace.root_uri:
        ls.documents.roots = [uri_to_path(ls.workspace.root_uri)]


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
@guarded
def did_open(ls: CcfServer, params: lsp.DidOpenTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    ls.documents.open(path, params.text_document.text)
    ls.cancel_publish(path)
    ls.publish(path)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
@guarded
def did_change(ls: CcfServer, params: lsp.DidChangeTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    # pygls applies the (incremental) changes to its copy, in the negotiated encoding
    ls.documents.open(path, ls.workspace.get_text_document(params.text_document.uri).source)
    ls.publish_soon(path)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
@guarded
def did_save(ls: CcfServer, params: lsp.DidSaveTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    ls.cancel_publish(path)
    ls.publish(path)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
@guarded
def did_change_watched_files(ls: CcfServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """A .ccf changed, made or deleted outside the editor (a git checkout, another editor):
    every open flow is checked again; one that read none of it is answered from the cache."""
    if any(uri_to_path(change.uri) not in ls.documents.texts for change in params.changes):
        for path in list(ls.documents.texts):
            ls.publish_soon(path)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
@guarded
def did_close(ls: CcfServer, params: lsp.DidCloseTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    ls.cancel_publish(path)
    ls.documents.close(path)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        params.text_document.uri, []))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
@guarded
def on_hover(ls: CcfServer, params: lsp.HoverParams) -> lsp.Hover | None:
    path, line, column = ls.cursor(params.text_document.uri, params.position)
    index = ls.documents.compile(path).index
    text = hover.hover_text(index, path, line, column) if index is not None else None
    if not text:
        return None
    return lsp.Hover(lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
@guarded
def on_definition(ls: CcfServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    path, line, column = ls.cursor(params.text_document.uri, params.position)
    compiled = ls.documents.last_loaded(path)
    if compiled is None:
        return []
    return [ls.location(s) for s in navigation.definition(compiled.index, path, line, column)]


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
@guarded
def on_references(ls: CcfServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    path, line, column = ls.cursor(params.text_document.uri, params.position)
    compiled = ls.documents.last_loaded(path)
    if compiled is None:
        return []
    found = navigation.references(ls.documents, compiled.index, path, line, column,
                                  params.context.include_declaration)
    return [ls.location(o.span) for o in found]


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=[".", " "]))
@guarded
def on_completion(ls: CcfServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    path, line, column = ls.cursor(params.text_document.uri, params.position)
    lines = ls.documents.lines(path)
    before = lines[line - 1][:column - 1] if line <= len(lines) else ""
    compiled = ls.documents.last_loaded(path)
    items = completion.complete(compiled.index if compiled else None, path, line, before)
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
@guarded
def on_formatting(ls: CcfServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    path = uri_to_path(params.text_document.uri)
    text = ls.documents.text(path)
    edits = formatting.format_edits(text, path) if text is not None else None
    if edits is None:
        ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Warning, message="ccf: not formatted: the file has syntax errors"))
        return []
    return edits


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
@guarded
def on_prepare_rename(ls: CcfServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    path, line, column = ls.cursor(params.text_document.uri, params.position)
    compiled = ls.documents.compile(path)
    found = compiled.index.at(path, line, column) if compiled.index else None
    if found is None or found.target[0] in ("builtin", "module", "field"):
        return None
    return ls.range_of(found.span)


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
@guarded
def on_rename(ls: CcfServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit:
    path, line, column = ls.cursor(params.text_document.uri, params.position)
    compiled = ls.documents.compile(path)
    if compiled.index is None:
        raise RequestFailed("the flow does not compile as far as its names: fix its syntax "
                            "errors first")
    try:
        spans = rename_spans(ls.documents, compiled.index, path, line, column,
                             params.new_name)
    except RenameError as exc:
        raise RequestFailed(str(exc)) from None
    changes: dict[str, list[lsp.TextEdit]] = {}
    for span in spans:
        changes.setdefault(path_to_uri(span.file), []).append(
            lsp.TextEdit(ls.range_of(span), params.new_name))
    return lsp.WorkspaceEdit(changes=changes)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@guarded
def on_document_symbol(ls: CcfServer,
                       params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    path = uri_to_path(params.text_document.uri)
    compiled = ls.documents.last_loaded(path)
    if compiled is None:
        return []
    index = compiled.index
    module = index.module_of(path)
    source = module.source if module else index.ctx.sources.get(path)
    if source is None:
        return []
    items = module.module if module else ast.Module(path, ())
    return outline.outline(items, index.program.tests, source, ls.range_of)


def serve(tcp_port: int | None = None) -> None:
    """Serve on stdin/stdout, or on 127.0.0.1:PORT."""
    if tcp_port is None:
        server.start_io()
    else:
        server.start_tcp("127.0.0.1", tcp_port)
