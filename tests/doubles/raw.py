"""Byte-level control of the FastAGI peer, for fault tests and the benchmark.

`ScriptBackend` drives an `AgiCaller` (peer/agi_caller.py) without a
simulated caller: every command gets one fixed reply (`200 result=0`, as
fast as the socket goes: bench/fastagi.py's 20 commands a call), and a
fault can be put anywhere:

- `header`: "whole" (as Asterisk sends it), "truncated" (cut in the middle
  of a line, then nothing), "malformed" (a line that is no `agi_key: value`),
  "garbage" (bytes that are no text), "oversized" (a 70 KB variable), or
  "none" (connect and send nothing);
- `close_after_header`: end the connection right after the header (with
  `stall_s` of silence first: a peer that never finishes its header);
- `close_at=k`: on the k-th command, close the socket instead of replying;
- `hang_up_at=k`: the caller hangs up during the k-th command: it gets
  `200 result=-1`, the async `HANGUP` line follows, later commands get
  511 or 200 as a dead channel answers (the caller does that part).

`RawResponder` is the other side at its simplest: a FastAGI server that
reads the environment and sends a fixed list of commands, one per reply,
then closes. The benchmark runs the same peer against it and against
`ccf serve`; the peer's own tests use it. `against` runs the peer against
a server a test writes (a capture's commands played back).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from ccdsl.runtime.testing.peer.agi_caller import (
    AgiCaller,
    AgiCommand,
    Backend,
    CallerLine,
    CallerReport,
)

HEADERS = ("whole", "truncated", "malformed", "garbage", "oversized", "none")


class ScriptBackend(Backend):
    """Fixed replies and scripted faults (module doc)."""

    def __init__(self, *, header: str = "whole", reply: str = "200 result=0",
                 close_after_header: bool = False, stall_s: float = 0.0,
                 close_at: int | None = None, hang_up_at: int | None = None) -> None:
        if header not in HEADERS:
            raise ValueError(f"header {header!r} is not one of: {', '.join(HEADERS)}")
        super().__init__()
        self.header_mode = header
        self.reply = reply
        self.close_after_header = close_after_header or header in ("truncated", "none")
        self.stall_s = stall_s
        self.close_at = close_at
        self.hang_up_at = hang_up_at
        self.count = 0  # commands received

    def header(self, writes: list[bytes]) -> list[bytes]:
        block = b"".join(writes)
        mode = self.header_mode
        if mode == "truncated":
            cut = block.index(b"agi_uniqueid") + 7  # inside a line, no end of block
            return [block[:cut]]
        if mode == "malformed":
            lines = block.split(b"\n")
            lines[3] = b"this line is not an agi variable"
            return [b"\n".join(lines)]
        if mode == "garbage":
            return [b"\x00\xff\xfe GET / HTTP/1.1\r\n\x80\x81\n\n"]
        if mode == "oversized":
            return [block.replace(b"agi_calleridname: ", b"agi_calleridname: " + b"A" * 70_000,
                                  1)]
        if mode == "none":
            return []
        return writes

    async def after_header(self) -> bool:
        if not self.close_after_header:
            return True
        if self.stall_s > 0:
            await asyncio.sleep(self.stall_s)
        return False

    async def execute(self, cmd: AgiCommand) -> str | None:
        self.count += 1
        if self.close_at is not None and self.count >= self.close_at:
            return None
        if self.hang_up_at is not None and self.count == self.hang_up_at:
            self.hung_up = True
            return "200 result=-1"
        if self.hung_up:
            return await super().execute(cmd)  # what a dead channel still answers
        return self.reply


@dataclass
class RawResponder:
    """A minimal FastAGI server: read the environment, send `commands` one
    per reply, close. `environments` keeps each connection's header block;
    `replies` each connection's reply lines (HANGUP lines included)."""

    commands: Sequence[str]
    host: str = "127.0.0.1"
    port: int = 0
    timeout: float = 10.0
    keep: bool = True
    # asyncio's default listen backlog (100) loses connections when a
    # thousand callers connect at once: half got EOF before their header
    backlog: int = 4096
    environments: list[bytes] = field(default_factory=list)
    replies: list[list[bytes]] = field(default_factory=list)
    served: int = 0
    _server: asyncio.base_events.Server | None = None

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  backlog=self.backlog)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.port = port
        return host, port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), self.timeout)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got: list[bytes] = []
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\n\n"), self.timeout)
            if self.keep:
                self.environments.append(head)
                self.replies.append(got)
            for command in self.commands:
                writer.write(command.encode() + b"\n")
                line = await self._reply(reader, got)
                if not line:
                    break
            self.served += 1
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError,
                TimeoutError):
            pass
        finally:
            writer.close()

    async def _reply(self, reader: asyncio.StreamReader, got: list[bytes]) -> bytes:
        """One reply: HANGUP lines before it are kept and skipped, a 520
        reply is read to its last line. b"" at EOF."""
        while True:
            line = await asyncio.wait_for(reader.readline(), self.timeout)
            if self.keep and line:
                got.append(line)
            if line == b"HANGUP\n":
                continue
            if line.startswith(b"520-"):
                while line and not line.startswith(b"520 "):
                    line = await asyncio.wait_for(reader.readline(), self.timeout)
                    if self.keep and line:
                        got.append(line)
            return line


async def against(serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
                  backend: Backend, line: CallerLine, *, timeout: float = 5.0,
                  hangup_delay_s: float = 0.0) -> CallerReport:
    """The peer (`backend` on `line`) against a FastAGI server on 127.0.0.1
    whose one connection `serve` handles; once `serve` has returned, the
    peer's report (which must say the server closed the connection)."""
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await serve(reader, writer)
        done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        report = await AgiCaller("127.0.0.1", port, backend, line, timeout=timeout,
                                 hangup_delay_s=hangup_delay_s).run()
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        server.close()
    assert report.closed_by == "server"
    return report
