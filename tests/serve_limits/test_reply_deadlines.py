"""The reply deadlines of many AGI sessions under one timer (agi_deadlines.py): each quiet
peer's command ends at its own limit, answered ones are untouched, a cancellation from
elsewhere stays a cancellation, and no deadline is left behind."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest
from asterisk import wires

from ccdsl.runtime.asterisk import agi_deadlines
from ccdsl.runtime.asterisk.agi import AgiEnvironment, AgiReplyTimeout, AgiSession
from ccdsl.runtime.asterisk.agi_deadlines import TICK_S, deadlines

from .helpers import WAIT_S


async def _pairs(n: int) -> tuple[asyncio.AbstractServer, list[AgiSession], list]:
    """n connected sessions and, for each, the peer's (reader, writer)."""
    peers: list = []
    arrived = asyncio.Event()

    async def asterisk(reader, writer):
        peers.append((reader, writer))
        if len(peers) == n:
            arrived.set()

    server = await asyncio.start_server(asterisk, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sessions = []
    for i in range(n):
        wire = await wires.connect("127.0.0.1", port)
        sessions.append(AgiSession(wire, AgiEnvironment({"agi_uniqueid": f"1.{i}"}, "x")))
    await asyncio.wait_for(arrived.wait(), WAIT_S)
    return server, sessions, peers


def test_each_quiet_command_ends_at_its_own_limit_and_answered_ones_do_not() -> None:
    limits = [0.2, 0.6, 0.4, 1.0]  # in seconds; the odd sessions' peers answer

    async def main():
        server, sessions, peers = await _pairs(len(limits))
        started = time.monotonic()
        ended: dict[int, tuple[float, object]] = {}

        async def one(i: int) -> None:
            try:
                result: object = await sessions[i].command("ANSWER", timeout=limits[i])
            except AgiReplyTimeout as exc:
                result = exc
            ended[i] = (time.monotonic() - started, result)

        tasks = [asyncio.create_task(one(i)) for i in range(len(limits))]
        for i, (reader, writer) in enumerate(peers):
            await reader.readline()
            if i % 2:
                await asyncio.sleep(0.3)  # answered after the quickest peer's limit
                writer.write(b"200 result=0\n")
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT_S)
        left = len(deadlines(asyncio.get_running_loop()))
        server.close()
        return ended, left

    ended, left = asyncio.run(main())
    for i in (0, 2):
        waited, result = ended[i]
        assert isinstance(result, AgiReplyTimeout) and result.timed_out
        assert limits[i] <= waited < limits[i] + TICK_S + 0.5, (i, waited)
    for i in (1, 3):
        waited, result = ended[i]
        assert not isinstance(result, Exception) and result.code == 200, result
    assert left == 0  # every deadline disarmed or met


def test_a_command_cancelled_from_elsewhere_is_cancelled_not_timed_out() -> None:
    async def main():
        server, (session,), _ = await _pairs(1)
        task = asyncio.create_task(session.command("ANSWER", timeout=0.3))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.4)  # past the command's limit: nothing fires for it
        left = len(deadlines(asyncio.get_running_loop()))
        server.close()
        return left, session.closed

    left, closed = asyncio.run(main())
    assert left == 0 and closed is False  # not taken for a quiet peer, whose line is closed


def test_a_closed_loop_leaves_no_deadlines_behind() -> None:
    async def main():
        server, (session,), (peer,) = await _pairs(1)
        answered = asyncio.create_task(session.command("ANSWER", timeout=WAIT_S))
        await peer[0].readline()
        peer[1].write(b"200 result=0\n")
        await answered
        server.close()

    gc.collect()  # the loops of the tests before
    before = len(agi_deadlines._BY_LOOP)
    for _ in range(3):
        asyncio.run(main())
    gc.collect()
    assert len(agi_deadlines._BY_LOOP) == before  # each loop's entry went with its loop
