"""Between the compiler's spans (1-based lines and code-point columns) and LSP's
positions (0-based, in the client's code units: UTF-16 unless it asked otherwise).

Must not read files itself: callers hand in the lines of the text a span is in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.uris import from_fs_path
from pygls.workspace.position_codec import PositionCodec

from ccdsl.source import Span

# the path each document that is no file (an `untitled:` buffer) is compiled as -> its URI
_NOT_FILES: dict[str, str] = {}


def uri_to_path(uri: str) -> str:
    """The absolute file path of a file: URI. A document that is no file (`untitled:Untitled-1`)
    gets a path of its own in the server's folder (the workspace's, where editors start it),
    so `use` finds the modules beside it; path_to_uri gives its URI back."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        path = os.path.abspath(re.sub(r"[^\w.-]", "_", uri))
        _NOT_FILES[path] = uri
        return path
    return os.path.abspath(unquote(parsed.path))


def path_to_uri(path: str) -> str:
    path = os.path.abspath(path)
    return _NOT_FILES.get(path) or from_fs_path(path) or path


def _units(codec: PositionCodec, line: str, column: int) -> int:
    """Code units of the client before a 0-based code-point column of a line."""
    return codec.client_num_units(line[:column])


def to_position(codec: PositionCodec, lines: Sequence[str], line: int,
                column: int) -> lsp.Position:
    """The LSP position of a 1-based line and code-point column."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return lsp.Position(max(line - 1, 0), _units(codec, text, max(column - 1, 0)))


def to_range(codec: PositionCodec, lines: Sequence[str], span: Span) -> lsp.Range:
    return lsp.Range(to_position(codec, lines, span.line, span.column),
                     to_position(codec, lines, span.end_line, span.end_column))


def from_position(codec: PositionCodec, lines: Sequence[str],
                  position: lsp.Position) -> tuple[int, int]:
    """The 1-based line and code-point column of an LSP position."""
    if not lines:
        return 1, 1
    at = codec.position_from_client_units(list(lines), lsp.Position(position.line,
                                                                     position.character))
    return at.line + 1, at.character + 1


def contains(span: Span, line: int, column: int) -> bool:
    """Whether a 1-based position is inside a span (its end included: a cursor
    just after a name is on it)."""
    if (line, column) < (span.line, span.column):
        return False
    return (line, column) <= (span.end_line, span.end_column)
