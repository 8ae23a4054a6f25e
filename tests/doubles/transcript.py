"""Read the Asterisk capture files (shared/asterisk-captures/*.txt) back
into the exact bytes that crossed the socket, chunk by chunk.

Format (the captures' README): a chunk header `## [+t.tttt s] >> N bytes`
or `<< N bytes`, then the chunk's bytes split after every `\\n`, one piece
per line, prefixed `>> ` or `<< `, escaped with `\\r \\n \\t \\\\ \\xNN`.
`## ... NOTE: ...` lines annotate and carry no bytes. `<<` is what
Asterisk sent, `>>` what the client or server under test sent.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# `## [  +1.234s] << 10 bytes`, or as the queue captures write it `## [+1.2345 s] << 10 bytes`
_HEADER = re.compile(r"^## \[\s*\+([0-9.]+) ?s\] (<<|>>) (\d+) bytes$")
_NOTE = re.compile(r"^## \[\s*\+([0-9.]+) ?s\] NOTE: (.*)$")
_BARE_NOTE = re.compile(r"^NOTE (.*)$")  # the queue captures' notes, between chunks
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[rnt\\])")
_SIMPLE = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}


@dataclass(frozen=True)
class Chunk:
    at: float  # seconds since the capture started
    direction: str  # "<<" Asterisk sent it, ">>" the other side did
    data: bytes
    note: str = ""  # for NOTE lines: the annotation (data is empty)


def unescape(text: str) -> bytes:
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        out += text[pos:m.start()].encode("utf-8")
        code = m.group(1)
        out += _SIMPLE[code] if code in _SIMPLE else bytes([int(code[1:], 16)])
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


def captures_dir() -> Path:
    """Where the captures are: $CCF_CAPTURES, else the copy the repository
    keeps in tests/asterisk/captures (verbatim from shared/asterisk-captures,
    so CI replays the same bytes without the shared folder)."""
    env = os.environ.get("CCF_CAPTURES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "asterisk" / "captures"


def read_transcript(name_or_path: str | os.PathLike) -> list[Chunk]:
    """Every chunk and NOTE of a capture file, in order. The byte count of
    each chunk is checked against its header, so a misread is loud."""
    path = Path(name_or_path)
    if not path.is_absolute() and not path.exists():
        path = captures_dir() / path
    chunks: list[Chunk] = []
    current: tuple[float, str, int] | None = None
    data = bytearray()

    def close() -> None:
        nonlocal current, data
        if current is not None:
            at, direction, size = current
            if len(data) != size:
                raise ValueError(f"{path.name}: chunk at +{at}s has {len(data)} bytes, "
                                 f"header says {size}")
            chunks.append(Chunk(at, direction, bytes(data)))
        current, data = None, bytearray()

    for line in path.read_text(encoding="utf-8").splitlines():
        head = _HEADER.match(line)
        if head:
            close()
            current = (float(head.group(1)), head.group(2), int(head.group(3)))
            continue
        note = _NOTE.match(line)
        if note:
            close()
            chunks.append(Chunk(float(note.group(1)), "", b"", note.group(2)))
            continue
        bare = _BARE_NOTE.match(line)
        if bare:
            at = current[0] if current is not None else (chunks[-1].at if chunks else 0.0)
            close()
            chunks.append(Chunk(at, "", b"", bare.group(1)))
            continue
        if current is not None and line[:3] in ("<< ", ">> ") and line[:2] == current[1]:
            data += unescape(line[3:])
    close()
    return chunks


def sent_by_asterisk(chunks: list[Chunk]) -> bytes:
    return b"".join(c.data for c in chunks if c.direction == "<<")


def sent_to_asterisk(chunks: list[Chunk]) -> bytes:
    return b"".join(c.data for c in chunks if c.direction == ">>")


def ami_events(name_or_path: str | os.PathLike) -> list[tuple[float, dict[str, str]]]:
    """The events Asterisk sent in an AMI capture, each with the time of the
    chunk that completed it, headers in order (a repeated header keeps its
    first value)."""
    out: list[tuple[float, dict[str, str]]] = []
    buffer = b""
    for chunk in read_transcript(name_or_path):
        if chunk.direction != "<<":
            continue
        buffer += chunk.data
        while b"\r\n\r\n" in buffer:
            block, buffer = buffer.split(b"\r\n\r\n", 1)
            headers: dict[str, str] = {}
            for line in block.decode("utf-8", "replace").split("\r\n"):
                key, sep, value = line.partition(": ")
                if sep and key not in headers:
                    headers[key] = value
            if "Event" in headers:
                out.append((chunk.at, headers))
    return out
