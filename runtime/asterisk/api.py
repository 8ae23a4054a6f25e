"""`ccf serve`'s local HTTP API: a minimal HTTP/1.1 server on asyncio (docs/asterisk.md).

Must not run calls itself. No web framework: three JSON endpoints do not need one, and
the request limits are easier to hold in our own code than to configure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

log = logging.getLogger("ccdsl.api")

MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024
REQUEST_TIMEOUT_S = 5.0
WRITE_TIMEOUT_S = 5.0
HANDLER_TIMEOUT_S = 15.0  # a handler (a wrap-up logged to a slow CRM) gets this long
MAX_CONNECTIONS = 64

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 408: "Request Timeout", 411: "Length Required",
           413: "Content Too Large", 415: "Unsupported Media Type",
           431: "Request Header Fields Too Large", 500: "Internal Server Error",
           503: "Service Unavailable", 504: "Gateway Timeout"}
_REQUEST_LINE = re.compile(r"^([A-Z]{1,16}) (/[!-~]*) HTTP/1\.([01])$")
_TOKEN_CHARS = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # decoded, without the query string
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON, None without a body


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: tuple = ()) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers


Handler = Callable[[Request, dict[str, str]], Awaitable[Reply]]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern
    methods: dict[str, Handler]


def route(path: str, **methods: Handler) -> Route:
    """A route: `{name}` in the path matches one segment, given to the
    handler by name; methods by name (GET=..., POST=...)."""
    regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return Route(re.compile(f"^{regex}$"), methods)


class ApiServer:
    """The HTTP server (module doc). `routes` say what it serves."""

    def __init__(self, routes: list[Route], *, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None) -> None:
        self.routes = routes
        self.host = host
        self.port = port
        self._token = token
        self._server: asyncio.base_events.Server | None = None
        self._open = 0
        self._tasks: set[asyncio.Task] = set()

    def __repr__(self) -> str:  # no token in reprs or logs
        return f"<ApiServer {self.host}:{self.port} token={'set' if self._token else 'none'}>"

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._accept, self.host, self.port,
                                                  limit=MAX_HEADER_BYTES)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.port = port
        log.info("HTTP API listening on %s:%s", host, port)
        return host, port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    # -- one connection ----------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._open += 1
        try:
            if self._open > MAX_CONNECTIONS:
                reply = _error(503, "too many connections to the API; try again")
            else:
                reply = await self._answer(reader)
            await _send(writer, reply)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away or stopped reading: nothing to tell it
        except Exception:  # noqa: BLE001 - one bad request never stops the server
            log.exception("HTTP API request failed")
        finally:
            self._open -= 1
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader) -> Reply:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                request = await _read_request(reader)
        except TimeoutError:
            return _error(408, f"the request did not arrive within {REQUEST_TIMEOUT_S:g} s")
        except HttpError as exc:
            return _error(exc.status, str(exc), exc.headers)
        if self._token is not None and not _authorised(request, self._token):
            return _error(401, "this API needs `Authorization: Bearer TOKEN` (the token in "
                               "the environment variable [api] token_env names)",
                          (("WWW-Authenticate", 'Bearer realm="ccf"'),))
        for candidate in self.routes:
            match = candidate.pattern.match(request.path)
            if match is None:
                continue
            handler = candidate.methods.get(request.method)
            if handler is None:
                allowed = ", ".join(sorted(candidate.methods))
                return _error(405, f"{request.method} is not allowed on {request.path}; "
                                   f"use {allowed}", (("Allow", allowed),))
            if request.method == "POST" and request.body is None:
                return _error(400, "a JSON body is expected")
            try:
                async with asyncio.timeout(HANDLER_TIMEOUT_S):
                    return await handler(request, match.groupdict())
            except TimeoutError:
                return _error(504, f"no answer within {HANDLER_TIMEOUT_S:g} s")
        return _error(404, f"no such endpoint: {request.path} (the endpoints: GET /status, "
                           "GET /calls/ID, POST /calls/ID/wrapup)")


async def _read_request(reader: asyncio.StreamReader) -> Request:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise HttpError(431, f"the request line and headers exceed {MAX_HEADER_BYTES} "
                             "bytes") from None
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ConnectionError("closed before a request") from None
        raise HttpError(400, "the request ended before its headers did") from None
    if len(head) > MAX_HEADER_BYTES:
        raise HttpError(431, f"the request line and headers exceed {MAX_HEADER_BYTES} bytes")
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise HttpError(400, "the request line and headers must be ASCII") from None
    lines = text[:-4].split("\r\n")
    match = _REQUEST_LINE.match(lines[0])
    if match is None:
        raise HttpError(400, "malformed request line; expected `METHOD /path HTTP/1.1`")
    method, target = match.group(1), match.group(2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN_CHARS.match(name):
            raise HttpError(400, f"malformed header line {line[:60]!r}")
        key = name.lower()
        if key in headers and key in ("content-length", "authorization", "transfer-encoding"):
            raise HttpError(400, f"the header {name} is given twice")
        headers[key] = value.strip()
    body = await _read_body(reader, headers)
    try:
        path = unquote(target.split("?", 1)[0], errors="strict")
    except UnicodeDecodeError:
        raise HttpError(400, "the path's %-escapes are not UTF-8") from None
    return Request(method, path, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> Any:
    if "transfer-encoding" in headers:
        raise HttpError(411, "chunked bodies are not accepted; send a Content-Length")
    length_text = headers.get("content-length")
    if length_text is None:
        return None
    if not length_text.isdigit() or len(length_text) > 12:
        raise HttpError(400, f"Content-Length {length_text[:20]!r} is not a number")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise HttpError(413, f"the body is {length} bytes; at most {MAX_BODY_BYTES} are taken")
    if length == 0:
        return None
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise HttpError(415, "the body must be JSON (Content-Type: application/json)")
    try:
        data = await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise HttpError(400, f"the body ended after {len(exc.partial)} of {length} "
                             "bytes") from None
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, f"the body is not valid JSON: {exc}") from None


def _authorised(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def _error(status: int, message: str, headers: tuple = ()) -> Reply:
    return Reply(status, {"ok": False, "error": message}, tuple(headers))


async def _send(writer: asyncio.StreamWriter, reply: Reply) -> None:
    body = json.dumps(reply.body, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    lines = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Error')}",
             "Content-Type: application/json; charset=utf-8",
             f"Content-Length: {len(body)}", "Connection: close", "Cache-Control: no-store",
             *(f"{k}: {v}" for k, v in reply.headers)]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body)
    await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)


# ---- the endpoints of `ccf serve` --------------------------------------------------------


def centre_routes(status: Callable[[], dict[str, Any]],
                  call: Callable[[str], dict[str, Any] | None],
                  wrapup: Callable[[str, Any], Awaitable[tuple[int, dict[str, Any]]]]
                  ) -> list[Route]:
    """GET /status, GET /calls/{id}, POST /calls/{id}/wrapup over the
    given functions (LiveCentre wires them)."""

    async def get_status(request: Request, params: dict[str, str]) -> Reply:
        return Reply(200, status())

    async def get_call(request: Request, params: dict[str, str]) -> Reply:
        record = call(params["call_id"])
        if record is None:
            return _error(404, f"no call {params['call_id']} in the call store")
        return Reply(200, record)

    async def post_wrapup(request: Request, params: dict[str, str]) -> Reply:
        code, body = await wrapup(params["call_id"], request.body)
        return Reply(code, body)

    return [route("/status", GET=get_status),
            route("/calls/{call_id}", GET=get_call),
            route("/calls/{call_id}/wrapup", POST=post_wrapup)]
