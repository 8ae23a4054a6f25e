"""The bytes of one FastAGI connection as an asyncio.Protocol: whole lines in, writes held back.

Must not parse lines or know commands (agi.py does). Lines already received are taken
without awaiting anything; a future exists only while a line is awaited and none is here.
"""

from __future__ import annotations

import asyncio
import re

DEFAULT_LIMIT = 2 ** 16  # a line longer than this is no FastAGI line (asyncio's stream limit)


# the end of a block of lines: an empty line (LF alone, or CRs and LF) at the start or after a LF
_EMPTY_LINE = re.compile(rb"(?:^|\n)\r*\n")


class AgiLineTooLong(Exception):
    """More than `limit` bytes arrived without a line end."""


class AgiWire(asyncio.Protocol):
    """One connection's stream (module doc), read by one reader at a time. Reading
    pauses while more than twice `limit` bytes wait unread, as asyncio's
    StreamReader does; a peer at EOF may still be written to (half-close)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._eof = False
        self._error: BaseException | None = None  # what ended the connection, if it failed
        self._waiter: asyncio.Future | None = None  # a reader waiting for a line
        self._reading_paused = False
        self._writing_paused = False
        self._drainer: asyncio.Future | None = None
        self._lost = False
        self._closed: asyncio.Future | None = None

    # -- asyncio.Protocol -----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        # a waiter is woken for a line end or an overrun, never for part of a line.
        # find(), not `in`: bytes.__contains__ first tries its operand as an int and
        # raises and clears a TypeError inside, every time
        if self._waiter is not None and (data.find(b"\n") >= 0 or len(buffer) > self.limit):
            self._wake()
        if not self._reading_paused and len(buffer) > 2 * self.limit and self.transport:
            self.transport.pause_reading()
            self._reading_paused = True

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return True  # keep the transport: the session closes it (StreamReaderProtocol's way)

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = self._eof = True
        self._error = exc
        self._wake()
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            if exc is None:
                drainer.set_result(None)
            else:
                drainer.set_exception(exc)
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        drainer, self._drainer = self._drainer, None
        if drainer is not None and not drainer.done():
            drainer.set_result(None)

    # -- reading ----------------------------------------------------------------------

    def take_line(self) -> bytes | None:
        """The next whole line with its LF, or None when none has arrived yet.
        Raises the connection's error once it failed, AgiLineTooLong past
        `limit`, asyncio.IncompleteReadError (with what is left) at EOF."""
        if self._error is not None:
            raise self._error
        buffer = self._buffer
        end = buffer.find(b"\n")
        if end < 0:
            if len(buffer) > self.limit:
                raise AgiLineTooLong(f"no line end within {self.limit} bytes")
            if self._eof:
                partial = bytes(buffer)
                buffer.clear()
                raise asyncio.IncompleteReadError(partial, None)
            return None
        if end > self.limit:
            raise AgiLineTooLong(f"a line of {end} bytes, more than {self.limit}")
        return self._cut(end + 1)

    def take_lines(self, room: int) -> bytes | None:
        """The whole lines here, up to and including the first empty one (the
        end of the agi_ header block), at most `room` bytes of them; b"" while
        no line end has arrived. None when take_line must read on instead, to
        tell what is wrong: more than `room` bytes, a line past this wire's
        limit, EOF without a line end, a failed connection. Nothing is taken then."""
        if self._error is not None:
            return None
        buffer = self._buffer
        found = _EMPTY_LINE.search(buffer)
        end = found.end() if found is not None else buffer.rfind(b"\n") + 1
        if end == 0:
            # b"" only when readable() will wait: no line end, no EOF, no overrun
            return None if self._eof or len(buffer) > self.limit else b""
        if end > room or end > self.limit:
            return None
        return self._cut(end)

    def _cut(self, end: int) -> bytes:
        """The buffer's first `end` bytes, taken; reading resumed once there is room."""
        buffer = self._buffer
        taken = bytes(buffer[:end])
        del buffer[:end]
        if self._reading_paused and len(buffer) <= self.limit and self.transport:
            self._reading_paused = False
            self.transport.resume_reading()
        return taken

    def readable(self) -> asyncio.Future:
        """A future done once take_line has something to say (a line, EOF, an error)."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        if self._eof or self._buffer.find(b"\n") >= 0 or len(self._buffer) > self.limit:
            self._wake()
        return waiter

    async def read_line(self) -> bytes:
        """The next whole line, waited for (take_line's errors)."""
        line = self.take_line()
        while line is None:
            await self.readable()
            line = self.take_line()
        return line

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- writing ------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def backed_up(self) -> bool:
        """Bytes wait in the transport's buffer (the socket did not take them all)."""
        return bool(self.transport is not None and self.transport.get_write_buffer_size())

    async def drain(self) -> None:
        """Wait while the transport's buffer is over its high-water mark
        (StreamWriter.drain's rules: ConnectionResetError once the connection is lost)."""
        if self._error is not None:
            raise self._error
        if self.transport is not None and self.transport.is_closing():
            await asyncio.sleep(0)  # let connection_lost run, as StreamWriter.drain does
        if self._lost:
            raise ConnectionResetError("Connection lost")
        if not self._writing_paused:
            return
        drainer = self._drainer = asyncio.get_running_loop().create_future()
        await drainer

    # -- closing --------------------------------------------------------------------------

    def peer(self) -> object:
        return self.transport.get_extra_info("peername") if self.transport else None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    async def wait_closed(self) -> None:
        if self._closed is not None:
            await self._closed
