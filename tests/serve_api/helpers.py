"""What the tests of `ccf serve`'s API, screen pop and wrap-up share: a
real HTTP server on 127.0.0.1 that keeps what it receives (the desktop a
screen pop reaches), raw HTTP over a socket, and waiting for a condition."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from asterisk.centre import until  # noqa: F401 - for the tests here

WAIT_S = 30.0  # a bound on a hang (asterisk.centre.WAIT_S)


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
    """Send bytes as they are (with the Host header HTTP/1.1 requires added to
    a request without one, and Connection: close, so the answer ends with the
    connection); the status, headers and JSON body answered (a text body as
    {"error": text})."""
    head, sep, rest = data.partition(b"\r\n")
    if head.endswith(b" HTTP/1.1") and b"\r\nhost:" not in data.lower():
        data = head + sep + b"Host: 127.0.0.1\r\nConnection: close\r\n" + rest
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
    if "content-length" in headers:
        assert int(headers["content-length"]) == len(body)
    if headers.get("content-type", "").startswith("application/json"):
        return status, headers, json.loads(body)
    return status, headers, {"ok": False, "error": body.decode("utf-8", "replace")}


def api_context(status, call, wrapup, *, token: str | None = None):
    """The three endpoints' view of a centre (the console's pages are not used), with a desk
    of no agents and a store of no forms for the console's housekeeping, which runs beside."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from ccdsl.runtime.operations.console_settings import ConsoleSettings
    store = SimpleNamespace(call=call, query=lambda sql, args=(): [])
    return SimpleNamespace(mode="asterisk", status=status, store=store, wrapup=wrapup,
                           api_token=token, settings=ConsoleSettings(),
                           desk=SimpleNamespace(all=list), now=lambda: datetime.now(UTC))


async def start_api(status, call, wrapup, *, token: str | None = None, slots: int = 64,
                    **limits):
    """ccf serve's web server on a free port of 127.0.0.1 over the given functions;
    `limits`: WebServer's max_unauthenticated and header_timeout_s."""
    from ccdsl.runtime.console.app import build_app
    from ccdsl.runtime.console.web_server import WebServer
    server = WebServer(build_app(api_context(status, call, wrapup, token=token),
                                 api_slots=slots), port=0, **limits)
    await server.start()
    return server
