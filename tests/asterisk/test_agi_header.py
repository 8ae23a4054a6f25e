"""The shapes of agi_ header block the server reads, whatever the chunks they come in:
LF or CRLF lines, a CR inside a value, a block of one line, LF lines ended by a CRLF
empty line; the bytes after the block left for the first reply; a fault reported at the
line that has it. (A block that has arrived whole is taken in one go, up to its first empty
line in any of its forms; tests/asterisk/test_agi_header_block.py holds it to these reads.)"""

from __future__ import annotations

import asyncio

import pytest

from asterisk.centre import WAIT_S
from ccdsl.runtime.asterisk.agi import AgiProtocolError, read_environment
from ccdsl.runtime.asterisk.agi_wire import AgiWire

BLOCK = [b"agi_network: yes", b"agi_network_script: main?lang=fr", b"agi_channel: PJSIP/a-1",
         b"agi_uniqueid: 1795.1", b"agi_calleridname: Wang\rWei", b"agi_arg_1: one"]
WANT = {"agi_network": "yes", "agi_network_script": "main?lang=fr",
        "agi_channel": "PJSIP/a-1", "agi_uniqueid": "1795.1", "agi_calleridname": "Wang\rWei",
        "agi_arg_1": "one"}


def read(data: bytes, *, chunk: int = 1 << 16, close: bool = True, limit: int = 64 * 1024,
         timeout: float = WAIT_S):
    """What read_environment makes of `data` arriving in chunks of `chunk` bytes, and the
    line the wire holds after it (the first reply)."""
    async def main():
        wire = AgiWire()

        async def feed():
            for start in range(0, len(data), chunk):
                wire.data_received(data[start:start + chunk])
                await asyncio.sleep(0)
            if close:
                wire.eof_received()

        feeding = asyncio.create_task(feed())
        try:
            env = await read_environment(wire, timeout=timeout, limit=limit)
        except AgiProtocolError as exc:
            await feeding
            return str(exc), b""
        await feeding
        return env, await wire.read_line()

    return asyncio.run(main())


@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
@pytest.mark.parametrize("end", [b"\n", b"\r\n"])
def test_lf_and_crlf_blocks_read_alike(chunk: int, end: bytes) -> None:
    env, after = read(end.join(BLOCK) + end + end + b"200 result=0\n", chunk=chunk)
    assert env.variables == WANT, env
    assert env.script == "main" and env.query == {"lang": "fr"} and env.args == ("one",)
    assert after == b"200 result=0\n"


def test_lf_lines_ended_by_a_crlf_empty_line() -> None:
    env, after = read(b"\n".join(BLOCK[:4]) + b"\n\r\nHANGUP\n", chunk=5)
    assert list(env.variables) == list(WANT)[:4] and after == b"HANGUP\n"


def test_a_block_of_one_line_is_told_what_it_lacks_at_once() -> None:
    message, _ = read(b"agi_network_script: x\n\n", close=False)
    assert "has no agi_uniqueid" in message, message


@pytest.mark.parametrize("chunk", [3, 1 << 16])
def test_the_first_fault_of_the_block_is_the_one_told(chunk: int) -> None:
    lines = [*BLOCK[:3], b"agi_channel: twice", b"not a header", b""]
    message, _ = read(b"\n".join(lines) + b"\n", chunk=chunk)
    assert message == "the agi_ header block sends agi_channel twice"
    message, _ = read(b"\n".join([*BLOCK[:2], b"not a header", b"agi_x: y", b""]) + b"\n",
                      chunk=chunk)
    assert message.startswith("malformed agi_ header line 'not a header'")


def test_a_block_over_its_limit_is_refused_however_it_is_read() -> None:
    big = [b"agi_arg_%d: %s" % (i, b"x" * 100) for i in range(1, 40)]
    message, _ = read(b"\n".join([*BLOCK[:4], *big, b""]) + b"\n", limit=2048)
    assert message == "the agi_ header block is larger than 2048 bytes"


def test_a_block_cut_short_says_how_far_it_got() -> None:
    message, _ = read(b"\n".join(BLOCK[:4]) + b"\nagi_arg_1: on", chunk=6)
    assert message == ("the connection closed before the end of the agi_ header block "
                       "(4 variables read; the block ends with an empty line)")
    message, _ = read(b"agi_network: yes\n")
    assert "(1 variables read" in message
