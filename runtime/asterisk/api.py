"""`ccf serve`'s local HTTP API: a minimal HTTP/1.1 server on asyncio (docs/asterisk.md).

Must not run calls itself. No web framework: three JSON endpoints do not need one, and
the request limits are easier to hold in our own code than to configure (the budgets a
client without its token gets are in api_limits.py; docs/asterisk.md "Limits").
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

from ccdsl.runtime.asterisk import limits
from ccdsl.runtime.asterisk.acceptor import Acceptor
from ccdsl.runtime.asterisk.api_limits import MAX_JSON_DEPTH, Gate, Ticket, too_deep
from ccdsl.runtime.asterisk.counted_log import CountedLog

log = logging.getLogger("ccdsl.api")

MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024
REQUEST_TIMEOUT_S = 5.0  # the whole request; its headers within the shorter header timeout
WRITE_TIMEOUT_S = 5.0
HANDLER_TIMEOUT_S = 15.0  # a handler (a wrap-up logged to a slow CRM) gets this long
MAX_CONNECTIONS = limits.API_MAX_CONNECTIONS  # requests past their headers, at once

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
                 token: str | None = None, max_connections: int | None = None,
                 max_unauthenticated: int = limits.API_MAX_UNAUTHENTICATED,
                 header_timeout_s: float = limits.API_HEADER_TIMEOUT_S) -> None:
        self.routes = routes
        self.host = host
        self.port = port
        self._token = token
        self.max_connections = max_connections  # None: MAX_CONNECTIONS
        self.max_unauthenticated = max_unauthenticated
        self.header_timeout_s = header_timeout_s
        self.gate: Gate | None = None
        self._acceptor: Acceptor | None = None
        self._tasks: set[asyncio.Task] = set()
        self._failures = CountedLog(log, "HTTP API request failed")

    def __repr__(self) -> str:  # no token in reprs or logs
        return f"<ApiServer {self.host}:{self.port} token={'set' if self._token else 'none'}>"

    async def start(self) -> tuple[str, int]:
        slots = self.max_connections or MAX_CONNECTIONS
        self.gate = Gate(slots, self.max_unauthenticated)
        # the gate keeps the budgets; the listener only stops accepting past
        # both (and room for refusals being written), as a last resort
        self._acceptor = Acceptor(self._accept, host=self.host, port=self.port,
                                  limit=slots + 2 * self.max_unauthenticated, backlog=128,
                                  name="HTTP API", logger=log, stream_limit=MAX_HEADER_BYTES)
        host, port = await self._acceptor.start()
        self.port = port
        log.info("HTTP API listening on %s:%s", host, port)
        return host, port

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self._acceptor is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._acceptor.wait_closed(), 2.0)
        if self.gate is not None:
            self.gate.flush()
        self._failures.flush()

    # -- one connection ----------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        assert self.gate is not None
        ticket = self.gate.enter()
        try:
            reply = await self._answer(reader, ticket)
            if reply is not None:
                await _send(writer, reply)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away or stopped reading: nothing to tell it
        except Exception as exc:  # noqa: BLE001 - one bad request never stops the server
            # a line per interval, not a traceback per request (at debug level)
            self._failures.note(f"{type(exc).__name__}: {exc}")
            log.debug("HTTP API request failed", exc_info=True)
        finally:
            self.gate.leave(ticket)
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader, ticket: Ticket) -> Reply | None:
        """The reply to one request; None for a connection closed to make
        room (nothing is said to it). The token is checked on the headers,
        before a request slot is taken and before any body is read."""
        assert self.gate is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        head_s = min(self.header_timeout_s, REQUEST_TIMEOUT_S)
        try:
            async with asyncio.timeout(head_s) as deadline:
                ticket.deadline = deadline
                if ticket.evicted:
                    return None
                method, path, headers = await _read_head(reader)
        except TimeoutError:
            if ticket.evicted:
                return None
            return _error(408, f"the request did not arrive within {head_s:g} s")
        except HttpError as exc:
            return _error(exc.status, str(exc), exc.headers)
        finally:
            ticket.deadline = None
        if self._token is not None and not _authorised(headers, self._token):
            return _error(401, "this API needs `Authorization: Bearer TOKEN` (the token in "
                               "the environment variable [api] token_env names)",
                          (("WWW-Authenticate", 'Bearer realm="ccf"'),))
        if not self.gate.admit(ticket):
            return _error(503, "too many connections to the API: every request slot is "
                               "taken; try again")
        left = max(0.0, REQUEST_TIMEOUT_S - (loop.time() - started))
        try:
            async with asyncio.timeout(left):
                body = await _read_body(reader, headers)
        except TimeoutError:
            return _error(408, f"the request did not arrive within {REQUEST_TIMEOUT_S:g} s")
        except HttpError as exc:
            return _error(exc.status, str(exc), exc.headers)
        request = Request(method, path, headers, body)
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


async def _read_head(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    """The request line and headers: (method, path, headers). No body."""
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
    try:
        path = unquote(target.split("?", 1)[0], errors="strict")
    except UnicodeDecodeError:
        raise HttpError(400, "the path's %-escapes are not UTF-8") from None
    return method, path, headers


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
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise HttpError(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        # the decoder gives up on deep nesting itself: a refusal, not a failure
        raise HttpError(400, f"the body nests lists or objects deeper than {MAX_JSON_DEPTH} "
                             "levels") from None
    if too_deep(body):
        raise HttpError(400, f"the body nests lists or objects deeper than {MAX_JSON_DEPTH} "
                             "levels")
    return body


def _authorised(headers: dict[str, str], token: str) -> bool:
    scheme, _, given = headers.get("authorization", "").partition(" ")
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
