"""The agi_ header block taken as many lines at a time as have arrived (AgiWire.take_lines,
agi._read_header) reads as the line-by-line reader does, whatever the chunks: the same
variables, the same first fault, the same bytes left for the first reply, whatever the bytes
(CRs, empty lines, bytes that are no UTF-8; after a fault the connection is closed, so what
is left unread then is no one's)."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from ccdsl.runtime.asterisk import agi
from ccdsl.runtime.asterisk.agi_wire import AgiWire

PIECES = st.sampled_from([b"agi_channel: PJSIP/a-1", b"agi_uniqueid: 1795.1", b"agi_x:",
                          b"agi_network_script: main?lang=fr", b"agi_name: \xe4\xb8", b"\r",
                          b"\r\r", b"", b"not a header", b"agi_arg_1: one\rtwo", b"agi_y: \xff",
                          b"200 result=0"])
ENDS = st.sampled_from([b"\n", b"\r\n"])
DATA = st.lists(st.tuples(PIECES, ENDS), max_size=12).map(
    lambda lines: b"".join(a + b for a, b in lines))


def _read(reader, data: bytes, chunk: int, limit: int, wire_limit: int) -> tuple[object, bytes]:
    async def main() -> tuple[object, bytes]:
        wire = AgiWire(wire_limit)

        async def feed() -> None:
            for start in range(0, len(data), chunk):
                wire.data_received(data[start:start + chunk])
                await asyncio.sleep(0)
            wire.eof_received()

        feeding = asyncio.create_task(feed())
        variables: dict[str, str] = {}
        try:
            await reader(wire, variables, limit)
            got: object = variables
        except agi.AgiProtocolError as exc:
            got = str(exc)
        await feeding
        return got, bytes(wire._buffer)

    return asyncio.run(main())


@settings(max_examples=300, deadline=None)
@given(DATA, st.sampled_from([1, 5, 23, 1 << 16]), st.sampled_from([16, 60, 64 * 1024]),
       st.sampled_from([8, 40, 2 ** 16]))
def test_a_block_taken_in_pieces_reads_as_line_by_line(data: bytes, chunk: int, limit: int,
                                                        wire_limit: int) -> None:
    in_pieces = _read(agi._read_header, data, chunk, limit, wire_limit)
    by_line = _read(agi._read_header_lines, data, chunk, limit, wire_limit)
    if isinstance(by_line[0], str):  # the fault: the connection closes, the rest unread
        assert in_pieces[0] == by_line[0]
    else:
        assert in_pieces == by_line


def test_take_lines_stops_at_the_empty_line() -> None:
    wire = AgiWire()
    wire.data_received(b"agi_channel: x\nagi_uniq")
    assert wire.take_lines(1024) == b"agi_channel: x\n"
    assert wire.take_lines(1024) == b""  # no line end yet: readable() waits
    wire.data_received(b"ueid: 1\n\r\n200 result=0\n")
    assert wire.take_lines(1024) == b"agi_uniqueid: 1\n\r\n"
    assert wire.take_line() == b"200 result=0\n"


def test_take_lines_leaves_what_the_line_reader_must_tell() -> None:
    wire = AgiWire(limit=8)
    wire.data_received(b"agi_channel: x\n\n")
    assert wire.take_lines(1024) is None  # a line past the wire's limit
    wire = AgiWire()
    wire.data_received(b"agi_channel: x\n\n")
    assert wire.take_lines(10) is None  # more than the room left
    assert wire.take_lines(16) == b"agi_channel: x\n\n"
    wire.data_received(b"agi_x")
    wire.eof_received()
    assert wire.take_lines(1024) is None  # EOF without a line end
