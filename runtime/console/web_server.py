"""The console's and the HTTP API's web server: uvicorn inside ccf serve's event loop.

Holds the API's connection limits (docs/asterisk.md "Limits"): a client must send its
request line and headers within the header timeout, and past `max_unauthenticated`
connections still sending them the oldest is closed once it has waited YOUNG_S, so slow
clients cannot lock out the rest. Must not install signal handlers: ccf serve owns SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import OrderedDict

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from ccdsl import json_text
from ccdsl.runtime.asterisk import limits
from ccdsl.runtime.asterisk.counted_log import CountedLog

log = logging.getLogger("ccdsl.api")

MAX_HEADER_BYTES = 8 * 1024
KEEP_ALIVE_S = 5.0
# A connection this young is not closed to make room: pages reconnecting all at once (a
# restart) arrive faster than the loop reads their one-write requests. Past BURST times
# the budget, the oldest goes however young.
YOUNG_S = 1.0
BURST = 16
SHUTDOWN_S = 2.0  # requests and streams under way at stop get this long


class HeaderGate:
    """Connections still sending their request head, oldest first (module doc)."""

    def __init__(self, most: int, timeout_s: float) -> None:
        self.most = max(1, most)
        self.timeout_s = timeout_s
        self.evicted = 0
        self.timed_out = 0
        self._waiting: OrderedDict[int, tuple[asyncio.Transport, float]] = OrderedDict()
        self._evictions = CountedLog(
            log, f"HTTP API: more than {self.most} connections without their headers "
                 "(the [api] max_unauthenticated); the oldest were closed")

    def enter(self, key: int, transport: asyncio.Transport) -> None:
        now = time.monotonic()
        while len(self._waiting) >= self.most:
            oldest, since = next(iter(self._waiting.values()))
            if now - since < YOUNG_S and len(self._waiting) < self.most * BURST:
                break  # a burst of new connections, not slow ones
            self._waiting.popitem(last=False)
            oldest.close()
            self.evicted += 1
            self._evictions.note()
        self._waiting[key] = (transport, now)

    def leave(self, key: int) -> bool:
        """The head is in (or the connection gone); True when it was waiting."""
        return self._waiting.pop(key, None) is not None

    @property
    def unauthenticated_now(self) -> int:
        return len(self._waiting)

    def flush(self) -> None:
        self._evictions.flush()


def _guarded(gate: HeaderGate) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol with the gate's header deadline and budget."""

    class Guarded(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _eof = False  # the client closed its side after the request under way

        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            gate.enter(id(self), transport)
            self._deadline = self.loop.call_later(gate.timeout_s, self._too_slow)

        def _too_slow(self) -> None:
            if gate.leave(id(self)) and self.cycle is None:
                gate.timed_out += 1
                body = json_text.dumps({"ok": False, "error": "the request did not arrive "
                                        f"within {gate.timeout_s:g} s"}).encode()
                with contextlib.suppress(Exception):
                    self.transport.write(
                        b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: " + str(len(body)).encode()
                        + b"\r\n\r\n" + body)
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
                gate.leave(id(self))

        def eof_received(self) -> bool:
            """A client that half-closes after its request (`nc -N`, shutdown(SHUT_WR))
            still gets the answer: a handler that awaits the store in a worker
            thread answers after the EOF. A client gone before its whole request
            was in (a body that never came), or between requests, is closed as before."""
            if self.cycle is None or self.cycle.response_complete \
                    or self.conn.their_state not in (h11.DONE, h11.MUST_CLOSE):
                return False
            self._eof = True
            return True

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self._eof and not self.transport.is_closing():
                self.transport.close()  # nothing more can come from the client

        def connection_lost(self, exc) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            gate.leave(id(self))
            super().connection_lost(exc)

    return Guarded


class WebServer:
    """start() -> the bound (host, port); stop()."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0,
                 max_unauthenticated: int = limits.API_MAX_UNAUTHENTICATED,
                 header_timeout_s: float = limits.API_HEADER_TIMEOUT_S) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.gate = HeaderGate(max_unauthenticated, header_timeout_s)
        self._server: uvicorn.Server | None = None
        self._main: asyncio.Task | None = None
        self._socket: socket.socket | None = None
        self._chores: asyncio.Task | None = None

    async def start(self) -> tuple[str, int]:
        config = uvicorn.Config(
            self.app, host=self.host, port=self.port, http=_guarded(self.gate),
            lifespan="off", log_config=None, access_log=False, server_header=False,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES, timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=SHUTDOWN_S, backlog=128)
        config.load()
        # bound here: uvicorn's own bind calls sys.exit on an address in use
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        self._server, self._socket = server, sock
        self._main = asyncio.get_running_loop().create_task(server.main_loop())
        housekeeping = getattr(self.app.state, "housekeeping", None)
        self._chores = asyncio.get_running_loop().create_task(housekeeping()) \
            if housekeeping is not None else None
        host, port = sock.getsockname()[:2]
        self.port = port
        log.info("HTTP API and console listening on %s:%s", host, port)
        return host, port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        if self._chores is not None:  # ended before the server: none outlives the stop
            self._chores.cancel()
            await asyncio.wait([self._chores])
        server.should_exit = True
        if self._main is not None:
            with contextlib.suppress(Exception):
                await self._main
        await server.shutdown(sockets=[self._socket])
        self.gate.flush()
