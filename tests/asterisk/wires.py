"""AgiWire connections on 127.0.0.1 for tests: the server's side of a FastAGI socket, as
ccf serve's acceptor makes it, against a plain asyncio stream for the fake Asterisk."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from ccdsl.runtime.asterisk.agi_wire import AgiWire


async def connect(host: str, port: int) -> AgiWire:
    """A wire to a listening fake Asterisk (the session's side of a test)."""
    _, wire = await asyncio.get_running_loop().create_connection(AgiWire, host, port)
    return wire


async def serve(handler: Callable[[AgiWire], Awaitable[None]]
                ) -> tuple[asyncio.AbstractServer, int]:
    """A listener on 127.0.0.1 that runs `handler(wire)` in a task per connection."""
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task] = set()

    class Wire(AgiWire):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            task = loop.create_task(handler(self))
            running.add(task)
            task.add_done_callback(running.discard)

    server = await loop.create_server(Wire, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def socket_pair(step: float = 2.0) -> tuple[asyncio.AbstractServer, AgiWire, tuple[
        asyncio.StreamReader, asyncio.StreamWriter]]:
    """(server, our wire, (asterisk's reader, asterisk's writer))."""
    accepted: asyncio.Future = asyncio.get_running_loop().create_future()

    async def on_connect(wire: AgiWire) -> None:
        accepted.set_result(wire)

    server, port = await serve(on_connect)
    theirs = await asyncio.open_connection("127.0.0.1", port)
    ours = await asyncio.wait_for(accepted, step)
    return server, ours, theirs
