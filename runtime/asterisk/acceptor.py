"""The accept loop of `ccf serve`'s listeners: at most `limit` connections open, errors backed off.

Must not read or write a connection (its handler does). Used instead of asyncio.start_server,
whose accept logs a traceback on every retry once files run out (docs/asterisk.md "Limits").
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Awaitable, Callable

from ccdsl.runtime.asterisk.agi_wire import DEFAULT_LIMIT, AgiWire
from ccdsl.runtime.asterisk.counted_log import CountedLog

# accept() failing for want of a resource: the connection stays in the listen
# backlog and can be taken once a file or some memory is free again
RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
BACKOFF_S = (0.05, 1.0)  # the first wait after such a failure, doubling up to the second
LOG_INTERVAL_S = 10.0

Handler = Callable[[AgiWire], Awaitable[None]]


class Acceptor:
    """Listens on host:port and runs `handler(wire)` for each connection,
    one task each. While `limit` connections are open no more
    are accepted: the next ones wait in the kernel's listen backlog
    (`backlog`). An accept() that fails for want of files or memory is
    retried after a growing pause (BACKOFF_S), and logged as one line per
    LOG_INTERVAL_S with a count, never as one traceback per attempt."""

    def __init__(self, handler: Handler, *, host: str, port: int, limit: int, backlog: int,
                 name: str, logger: logging.Logger, stream_limit: int = DEFAULT_LIMIT) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.limit = max(1, limit)
        self.backlog = backlog
        self.name = name
        self.stream_limit = stream_limit
        self.open = 0  # connections accepted and not yet finished
        self.accepted = 0
        self.accept_errors = CountedLog(
            logger, f"{name}: accept() failed; connections wait in the listen backlog",
            interval_s=LOG_INTERVAL_S)
        self.at_limit = CountedLog(
            logger, f"{name}: {self.limit} connections open, the limit; new connections wait "
                    "in the listen backlog", interval_s=LOG_INTERVAL_S)
        self._failures = CountedLog(logger, f"{name}: a connection failed",
                                    interval_s=LOG_INTERVAL_S)
        self._sockets: list[socket.socket] = []
        self._loops: list[asyncio.Task] = []
        self._room = asyncio.Event()

    @property
    def sockets(self) -> list[socket.socket]:
        return list(self._sockets)

    async def start(self) -> tuple[str, int]:
        """Bind every address the host resolves to (as asyncio.start_server
        does); the first one's (host, port). OSError when it cannot bind."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        try:
            seen: set = set()
            port = self.port
            for family, _, _, _, address in infos:
                if (family, address[0]) in seen:
                    continue
                seen.add((family, address[0]))
                # one port for all addresses: port 0 takes the first one's
                sock = socket.create_server((address[0], port), family=family,
                                            backlog=self.backlog)
                sock.setblocking(False)
                self._sockets.append(sock)
                port = sock.getsockname()[1]
        except OSError:
            self._close_sockets()
            raise
        for sock in self._sockets:
            self._loops.append(loop.create_task(self._accept_loop(sock),
                                                name=f"{self.name}-accept"))
        host, self.port = self._sockets[0].getsockname()[:2]
        return host, self.port

    def close(self) -> None:
        """Stop accepting (connections already open run on)."""
        for task in self._loops:
            task.cancel()
        self._close_sockets()
        self.accept_errors.flush()
        self.at_limit.flush()

    async def wait_closed(self) -> None:
        loops, self._loops = self._loops, []
        if loops:
            await asyncio.gather(*loops, return_exceptions=True)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets = []

    # -- accepting ---------------------------------------------------------------------

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        delay = BACKOFF_S[0]
        while True:
            while self.open >= self.limit:
                self.at_limit.note()
                self._room.clear()
                await self._room.wait()
            try:
                conn, _ = await loop.sock_accept(sock)
            except (ConnectionAbortedError, InterruptedError):
                continue  # the client gave up while it waited: nothing to serve
            except OSError as exc:
                if exc.errno not in RESOURCE_ERRNOS and sock.fileno() == -1:
                    return  # closed under us
                self.accept_errors.note(f"{exc.strerror or exc}; retrying every "
                                        f"{BACKOFF_S[0]:g}-{BACKOFF_S[1]:g} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_S[1])
                continue
            delay = BACKOFF_S[0]
            self.open += 1
            self.accepted += 1
            loop.create_task(self._run(conn))

    async def _run(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        transport = None
        try:
            wire = AgiWire(self.stream_limit)
            try:
                transport, _ = await loop.connect_accepted_socket(lambda: wire, conn)
            except OSError:
                conn.close()
                return
            await self.handler(wire)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the handler's bug must not stop the listener
            self._failures.note(f"{type(exc).__name__}: {exc}")
        finally:
            if transport is not None:
                transport.close()
            self.open -= 1
            self._room.set()
