"""FastAGI timeouts that fit each command (issue 11, item 5): a client that
connects and sends no header is released after the header timeout (one log
line for many of them); a peer that sends the header and then goes quiet
ends its call at the first command's own limit with a clear line and the
outcome `error`, where one 600 s timeout held it before. The limits
themselves are read from each command line."""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from pathlib import Path

from asterisk import wires

from ccdsl.runtime.asterisk.agi import AgiEnvironment, AgiReplyTimeout, AgiSession
from ccdsl.runtime.asterisk.agi_timeouts import BRIDGE_SLACK_S, SLACK_S, ReplyLimits
from ccdsl.runtime.testing.peer.agi_caller import CallerLine, environment, header_writes

from .helpers import QUIET_FLOW, WAIT_S, Rig, flow_ir, until


def test_silent_clients_are_released_after_the_header_timeout(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ccdsl")
    ir = flow_ir(tmp_path, QUIET_FLOW)

    async def main():
        async with Rig(tmp_path, {"quiet": ir}, header_timeout_s=0.3) as rig:
            clients = [await asyncio.open_connection("127.0.0.1", rig.port) for _ in range(30)]
            started = time.monotonic()
            ends = await asyncio.gather(*(asyncio.wait_for(reader.read(), WAIT_S)
                                          for reader, _ in clients))
            waited = time.monotonic() - started
            for _, writer in clients:
                writer.close()
            return ends, waited, rig.server.served

    ends, waited, served = asyncio.run(main())
    assert ends == [b""] * 30 and served == 0  # closed by the server, nothing run
    assert 0.25 <= waited < WAIT_S
    lines = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    # the first at once, the other 29 counted in one line (written at stop)
    assert len(lines) == 2 and "not complete within 0.3 s" in lines[0], lines
    assert "29 time(s) since the last such line, 30 in all" in lines[1], lines


# a prompt this host cannot measure: prompt_timeout + slack, 0.5 s here
QUICK = ReplyLimits(prompt_timeout_s=0.2, slack_s=0.3)


async def _quiet_call(rig: Rig, uniqueid: str):
    """A call of the quiet flow on `rig`: its header sent, its first command
    read (reader, writer, that command line); nothing is answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", rig.port)
    line = CallerLine(script="quiet", channel=f"PJSIP/q-{uniqueid}", uniqueid=uniqueid,
                      callerid="+8613800000001")
    writer.write(b"".join(header_writes(environment(line, "127.0.0.1", rig.port))))
    await writer.drain()
    return reader, writer, await asyncio.wait_for(reader.readline(), WAIT_S)


def test_a_peer_quiet_after_the_header_ends_its_call_at_the_command_limit(
        tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="ccdsl")
    ir = flow_ir(tmp_path, QUIET_FLOW)

    async def main():
        async with Rig(tmp_path, {"quiet": ir}, reply_limits=QUICK) as rig:
            reader, writer, command = await _quiet_call(rig, "1795830000.1")
            started = time.monotonic()
            rest = await asyncio.wait_for(reader.read(), WAIT_S)  # never answered
            waited = time.monotonic() - started
            writer.close()
            await until(lambda: "1795830000.1" in rig.results, "the call's result")
            return command, rest, waited, rig.results["1795830000.1"], rig.server.calls

    command, rest, waited, result, running = asyncio.run(main())
    assert command.startswith(b'STREAM FILE "welcome"')
    assert rest == b"" and 0.4 <= waited < WAIT_S and running == {}
    assert result.outcome == "error" and "no reply to STREAM FILE within 0.5 s" in result.error
    quiet = [r.getMessage() for r in caplog.records if "no reply from Asterisk" in r.getMessage()]
    assert len(quiet) == 1 and "call 1795830000.1" in quiet[0] and "outcome error" in quiet[0]
    assert not [r for r in caplog.records if r.exc_info]


def _wav(path: Path, seconds: float, rate: int = 8000) -> None:
    data = b"\0\0" * int(seconds * rate)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    path.write_bytes(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
                     + b"fmt " + struct.pack("<I", 16) + fmt
                     + b"data" + struct.pack("<I", len(data)) + data)


def test_each_command_gets_a_limit_from_its_own_line(tmp_path: Path) -> None:
    limits = ReplyLimits(prompt_timeout_s=120.0)
    asked = 600.0  # what the channel asks for a prompt
    _wav(tmp_path / "welcome.wav", 2.5)
    (tmp_path / "beep.gsm").write_bytes(b"\0" * 1650 * 3)  # 3 s of GSM
    assert limits.limit("STREAM FILE", [str(tmp_path / "welcome"), ""], asked) == 2.5 + SLACK_S
    assert limits.limit("STREAM FILE", [str(tmp_path / "beep"), ""], asked) == 3 + SLACK_S
    # Asterisk's own sound (a bare name): the prompt timeout
    assert limits.limit("STREAM FILE", ["beep", ""], asked) == 120 + SLACK_S
    assert limits.limit("GET DATA", [str(tmp_path / "welcome"), "5000", "4"], asked) \
        == 2.5 + 20 + SLACK_S
    assert limits.limit("SAY DIGITS", ["20261128", ""], asked) == 8 + SLACK_S
    assert limits.limit("SAY DATE", ["1795652892", ""], asked) == 10 + SLACK_S
    # the channel's own limits stand: a key wait, a wait, a recording
    assert limits.limit("WAIT FOR DIGIT 5000", [], 15.0) == 15.0
    assert limits.limit("RECORD FILE", ["/r/vm/1", "wav", "#", "60000"], 70.0) == 70.0
    bridge = 8 * 3600.0
    dial = "PJSIP/8001,15.000,gU(ccf-answered^1795.1^li)"
    assert limits.limit("EXEC Dial", [dial], bridge) == 15 + BRIDGE_SLACK_S
    # an attended transfer's Dial() says nothing when answered: the bridge limit
    assert limits.limit("EXEC Dial", ["PJSIP/8001,15.000"], bridge) == bridge
    queue = 'ccf-service,c,,,300,,"ccf-answered,1795.1"'
    assert limits.limit("EXEC Queue", [queue], bridge) == 300 + BRIDGE_SLACK_S
    assert limits.limit("EXEC Queue", ['ccf-service,c,,,,,"ccf-answered,1795.1"'], bridge) \
        == bridge  # no max wait: as long as the caller waits


def test_an_answered_dial_waits_for_the_conversation_not_the_ring() -> None:
    # the answered Gosub (or AMI's BridgeEnter) extends the reply's wait
    async def main():
        ready = asyncio.Event()
        peer: list = []

        async def asterisk(reader, writer):
            peer.append((reader, writer))
            ready.set()

        server = await asyncio.start_server(asterisk, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        wire = await wires.connect("127.0.0.1", port)
        await ready.wait()
        env = AgiEnvironment({"agi_uniqueid": "1795.1"}, "x")
        session = AgiSession(wire, env)
        a_reader, a_writer = peer[0]
        answered = asyncio.create_task(session.command("EXEC Dial", "PJSIP/8001,0.2",
                                                       timeout=0.3))
        await a_reader.readline()
        await asyncio.sleep(0.1)
        assert session.extend_reply_timeout(5.0)
        await asyncio.sleep(0.5)  # past the ring's limit
        a_writer.write(b"200 result=0\n")
        reply = await asyncio.wait_for(answered, WAIT_S)
        # without it, the same wait is a quiet peer
        quiet = AgiSession(await wires.connect("127.0.0.1", port), env)
        try:
            await quiet.command("EXEC Dial", "PJSIP/8001,0.2", timeout=0.3)
        except AgiReplyTimeout as exc:
            timed_out = exc
        wire.close()
        server.close()
        return reply, timed_out, session.extend_reply_timeout(5.0)

    reply, timed_out, idle = asyncio.run(main())
    assert reply.code == 200
    assert timed_out.service == "asterisk" and timed_out.timed_out
    assert idle is False  # no reply awaited: nothing to extend


def test_the_server_extends_a_running_call_that_ami_says_was_answered(tmp_path: Path) -> None:
    # what LiveCentre does on AgentConnect / BridgeEnter of the call's channel
    ir = flow_ir(tmp_path, QUIET_FLOW)

    async def main():
        async with Rig(tmp_path, {"quiet": ir}, reply_limits=QUICK) as rig:
            reader, writer, first = await _quiet_call(rig, "1795830000.2")
            extended = rig.server.extend_call("1795830000.2")
            unknown = rig.server.extend_call("1795830000.99")
            await asyncio.sleep(0.8)  # past the prompt's 0.5 s
            writer.write(b"200 result=0 endpos=800\n")
            await writer.drain()
            second = await asyncio.wait_for(reader.readline(), WAIT_S)
            writer.write(b"200 result=1\n")
            await writer.drain()
            await until(lambda: "1795830000.2" in rig.results, "the call's result")
            writer.close()
            return first, extended, unknown, second, rig.results["1795830000.2"]

    first, extended, unknown, second, result = asyncio.run(main())
    assert first.startswith(b"STREAM FILE") and extended and not unknown
    assert second.startswith(b"HANGUP") and result.outcome == "hangup"
