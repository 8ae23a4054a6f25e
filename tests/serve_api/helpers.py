"""What the tests of `ccf serve`'s API, screen pop and wrap-up share: a
real HTTP server on 127.0.0.1 that keeps what it receives (the desktop a
screen pop reaches), raw HTTP over a socket, and waiting for a condition."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

WAIT_S = 5.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Desktop:
    """An HTTP server on 127.0.0.1 standing for an agent desktop's
    webhook: answers `status` after `delay_s`, keeps every request."""

    status: int = 200
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/ccf/pop"

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head.split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(method, path, headers, body))
            await asyncio.sleep(self.delay_s)
            writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def raw_request(port: int, data: bytes, *, close_write: bool = False,
                      timeout: float = WAIT_S) -> tuple[int, dict[str, str], dict]:
    """Send bytes as they are; the status, headers and JSON body answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if close_write:
            writer.write_eof()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return parse_reply(raw)


def parse_reply(raw: bytes) -> tuple[int, dict[str, str], dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    assert int(headers["content-length"]) == len(body)
    return status, headers, json.loads(body)


async def until(check, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        await asyncio.sleep(0.01)
