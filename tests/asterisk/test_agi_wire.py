"""AgiWire's lines are asyncio.StreamReader.readuntil(b"\\n")'s, whatever the chunks: the same
lines, the same partial line at EOF, an overrun at the same line. (The wire replaced the
stream reader on ccf serve's FastAGI connections: runtime/asterisk/agi_wire.py.)"""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.runtime.asterisk.agi_wire import AgiLineTooLong, AgiWire

# bytes rich in line ends and CRs, so chunks split lines anywhere
CHUNKS = st.lists(st.binary(max_size=24).map(lambda b: b.replace(b"\x01", b"\n")
                                             .replace(b"\x02", b"\r")), max_size=10)


def by_stream_reader(chunks: list[bytes], limit: int) -> list[object]:
    async def main() -> list[object]:
        reader = asyncio.StreamReader(limit=limit)
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        got: list[object] = []
        while True:
            try:
                got.append(await reader.readuntil(b"\n"))
            except asyncio.IncompleteReadError as exc:
                return [*got, ("eof", exc.partial)]
            except asyncio.LimitOverrunError:
                return [*got, "too long"]

    return asyncio.run(main())


def by_wire(chunks: list[bytes], limit: int, *, waits: bool) -> list[object]:
    """The wire's lines; `waits`: each one through read_line, as a reply not yet here is."""
    async def main() -> list[object]:
        wire = AgiWire(limit)
        got: list[object] = []

        async def feed() -> None:
            for chunk in chunks:
                await asyncio.sleep(0)
                wire.data_received(chunk)
            await asyncio.sleep(0)
            wire.eof_received()

        feeding = asyncio.create_task(feed()) if waits else None
        if not waits:
            for chunk in chunks:
                wire.data_received(chunk)
            wire.eof_received()
        try:
            while True:
                try:
                    got.append(await wire.read_line() if waits else wire.take_line())
                except asyncio.IncompleteReadError as exc:
                    return [*got, ("eof", exc.partial)]
                except AgiLineTooLong:
                    return [*got, "too long"]
        finally:
            if feeding is not None:
                await feeding

    return asyncio.run(main())


@settings(max_examples=300, deadline=None)
@given(chunks=CHUNKS, limit=st.integers(min_value=2, max_value=40))
def test_the_wire_reads_what_the_stream_reader_reads(chunks: list[bytes], limit: int) -> None:
    want = by_stream_reader(chunks, limit)
    assert by_wire(chunks, limit, waits=False) == want
    assert by_wire(chunks, limit, waits=True) == want


def test_a_line_not_yet_complete_is_none_until_its_end_comes() -> None:
    wire = AgiWire()
    wire.data_received(b"200 resu")
    assert wire.take_line() is None
    wire.data_received(b"lt=0\nHANG")
    assert wire.take_line() == b"200 result=0\n" and wire.take_line() is None


def test_reading_pauses_past_twice_the_limit_and_resumes_once_taken() -> None:
    class Transport:
        paused = False

        def pause_reading(self) -> None:
            self.paused = True

        def resume_reading(self) -> None:
            self.paused = False

    wire = AgiWire(8)
    wire.transport = transport = Transport()  # type: ignore[assignment]
    wire.data_received(b"1234567\n" * 3)
    assert transport.paused
    assert wire.take_line() == b"1234567\n" and transport.paused  # 16 left: not yet
    assert wire.take_line() == b"1234567\n" and not transport.paused
