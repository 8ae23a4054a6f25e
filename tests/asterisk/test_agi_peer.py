"""The FastAGI test peer sends what Asterisk 22 sends: the agi_ header
block and every reply shape of the captures (tests/asterisk/captures),
replayed over real sockets on 127.0.0.1: a server plays the captured
commands (`>>` chunks) to the peer and compares the peer's bytes with
Asterisk's (`<<` chunks)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from doubles.raw import RawResponder, ScriptBackend, against
from doubles.transcript import captures_dir, read_transcript

from asterisk import wires
from asterisk.centre import WAIT_S, until
from ccdsl.runtime.asterisk.agi import AgiProtocolError, command_line, read_environment
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.sim import HangUp, Press, ScriptedCaller, SimChannel
from ccdsl.runtime.testing.peer.agi_caller import (
    SPECS,
    AgiCaller,
    Backend,
    CallerLine,
    environment,
    find_command,
    header_writes,
    parse_args,
)
from ccdsl.runtime.testing.peer.sim_backend import SimBackend

T0 = datetime(2026, 11, 26, 0, 28, 13, tzinfo=UTC)
HEADER = ("agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language",
          "agi_type", "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname",
          "agi_callingpres", "agi_callingani2", "agi_callington", "agi_callingtns", "agi_dnid",
          "agi_rdnis", "agi_context", "agi_extension", "agi_priority", "agi_enhanced",
          "agi_accountcode", "agi_threadid")


def captured_line(name: str) -> tuple[CallerLine, list[bytes]]:
    """The CallerLine that describes a capture's channel, and the header
    chunks Asterisk sent."""
    chunks = read_transcript(name)
    head: list[bytes] = []
    for chunk in chunks:
        if chunk.direction == ">>":
            break
        if chunk.direction == "<<":
            head.append(chunk.data)
    env = dict(line.split(": ", 1) if ": " in line else (line[:-1], "")
               for line in b"".join(head).decode().split("\n") if line)
    assert tuple(env) == HEADER
    line = CallerLine(script=env["agi_network_script"], channel=env["agi_channel"],
                      uniqueid=env["agi_uniqueid"], callerid=env["agi_callerid"],
                      calleridname=env["agi_calleridname"], dnid=env["agi_dnid"],
                      context=env["agi_context"], extension=env["agi_extension"],
                      priority=int(env["agi_priority"]), threadid=env["agi_threadid"],
                      language=env["agi_language"], request=env["agi_request"])
    return line, head


def exchanges(name: str) -> list[tuple[bytes, bytes]]:
    """(what the server sent, what Asterisk answered) in capture order."""
    out: list[tuple[bytes, bytes]] = []
    for chunk in read_transcript(name):
        if chunk.direction == ">>":
            out.append((chunk.data, b""))
        elif chunk.direction == "<<" and out:
            out[-1] = (out[-1][0], out[-1][1] + chunk.data)
    return out


async def replay(name: str, backend: Backend, line: CallerLine, *,
                 hangup_delay_s: float = 0.0) -> list[tuple[bytes, bytes, bytes, float]]:
    """Play a capture's commands to the peer over a real socket. Returns
    (command, Asterisk's reply bytes, the peer's, seconds until the peer's
    last byte) per command; the header is checked on the way."""
    _, head = captured_line(name)
    steps = exchanges(name)
    results: list[tuple[bytes, bytes, bytes, float]] = []
    header_seen: list[bytes] = []

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        header_seen.append(await asyncio.wait_for(reader.readexactly(len(b"".join(head))), WAIT_S))
        for command, expected in steps:
            started = time.perf_counter()
            writer.write(command)
            got = await asyncio.wait_for(reader.readexactly(len(expected)), WAIT_S)
            results.append((command, expected, got, time.perf_counter() - started))
        writer.close()

    await against(server, backend, line, hangup_delay_s=hangup_delay_s, timeout=WAIT_S)
    assert header_seen == [b"".join(head)]
    return results


def sim_backend(line: CallerLine, actions, *, max_call_ms: int = 2 * 3_600_000,
                **options) -> SimBackend:
    info = CallInfo(call_id=line.uniqueid, caller_number=line.callerid or "",
                    caller_name=line.calleridname, dialled="", started=T0,
                    channel=line.channel, language=line.language)
    clock = VirtualClock(T0)
    sim = SimChannel(info, clock, ScriptedCaller(actions, max_call_ms=max_call_ms),
                     file_durations={"demo-congrats": 30_277, "beep": 430})
    return SimBackend(sim, **options)


# ---- the header block ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fastagi-session.txt", "fastagi-senddtmf.txt",
                                  "fastagi-sip.txt"])
def test_the_header_block_is_asterisks_byte_for_byte(name: str) -> None:
    line, head = captured_line(name)
    assert header_writes(environment(line, "127.0.0.1", 4573)) == head


def test_the_header_names_the_url_args_and_unknown_callers() -> None:
    line = CallerLine(script="hotline?lang=zh", args=("a b", "2"))
    pairs = dict(environment(line, "127.0.0.1", 4599))
    assert pairs["agi_request"] == "agi://127.0.0.1:4599/hotline?lang=zh"
    assert pairs["agi_network_script"] == "hotline?lang=zh"
    assert (pairs["agi_callerid"], pairs["agi_calleridname"], pairs["agi_dnid"]) == (
        "unknown", "unknown", "unknown")
    assert pairs["agi_type"] == "PJSIP"
    keys = [k for k, _ in environment(line, "h", 1)]
    assert keys == [*HEADER, "agi_arg_1", "agi_arg_2"]
    assert (pairs["agi_arg_1"], pairs["agi_arg_2"]) == ("a b", "2")


def test_our_server_reads_the_peers_header() -> None:
    async def main():
        got = []

        async def server(wire):
            got.append(await read_environment(wire, timeout=WAIT_S))
            wire.close()

        srv, port = await wires.serve(server)
        line = CallerLine(script="main_menu?lang=en", callerid="+861", args=("x",))
        await AgiCaller("127.0.0.1", port, Backend(), line, timeout=WAIT_S).run()
        srv.close()
        return got[0]

    env = asyncio.run(main())
    assert (env.script, env.query, env.args) == ("main_menu", {"lang": "en"}, ("x",))
    assert env.variables["agi_callerid"] == "+861"


# ---- every reply shape of the main capture -------------------------------------------


def test_the_main_session_replies_as_asterisk_did() -> None:
    line, _ = captured_line("fastagi-session.txt")
    # the caller keys 1234 into GET DATA, 5 into WAIT FOR DIGIT, lets the
    # second GET DATA time out, and hangs up during WAIT FOR DIGIT 15000
    actions = [Press("1234"), Press("5"), HangUp(after_ms=3_000)]
    backend = sim_backend(line, actions, missing=frozenset({"no-such-file"}))
    results = asyncio.run(replay("fastagi-session.txt", backend, line))
    assert len(results) == len(exchanges("fastagi-session.txt")) == 29
    for command, expected, got, _ in results:
        if command == b'STREAM FILE demo-congrats ""\n':
            # the sample count of the real file; ours is the simulator's length
            assert re.fullmatch(rb"200 result=0 endpos=\d+\n", got), got
        else:
            assert got == expected, (command, expected, got)
    shapes = {got for _, _, got, _ in results}
    for shape in (b"510 Invalid or unknown command\n", b"200 result= (timeout)\n",
                  b"200 result=-1\nHANGUP\n", b"200 result=-1 endpos=0\n",
                  b"511 Command Not Permitted on a dead channel or intercept routine\n",
                  b"200 result=-2\n", b"200 result=53\n", b"200 result=1 (bar baz)\n"):
        assert shape in shapes


def test_the_hangup_line_comes_in_its_own_write_after_the_reply() -> None:
    line, _ = captured_line("fastagi-session.txt")
    backend = sim_backend(line, [Press("1234"), Press("5"), HangUp(after_ms=3_000)],
                          missing=frozenset({"no-such-file"}))

    async def main():
        return await replay("fastagi-session.txt", backend, line, hangup_delay_s=0.04)

    results = asyncio.run(main())
    [(_, _, got, seconds)] = [r for r in results if r[0] == b"WAIT FOR DIGIT 15000\n"]
    assert got == b"200 result=-1\nHANGUP\n"
    assert seconds >= 0.035  # the HANGUP line waited for its own moment


def test_the_senddtmf_session_and_our_own_hangup_command() -> None:
    for name in ("fastagi-senddtmf.txt", "fastagi-sip.txt"):
        line, _ = captured_line(name)
        results = asyncio.run(replay(name, sim_backend(line, [Press("1234")]), line))
        assert [got for _, _, got, _ in results] == [e for _, e in exchanges(name)]
        assert (b"HANGUP\n", b"200 result=1\nHANGUP\n") in [(c, g) for c, _, g, _ in results]


# ---- what Asterisk knows, and on a dead channel ----------------------------------------


def test_the_command_table_is_asterisks() -> None:
    text = (captures_dir() / "agi-commands.txt").read_text(encoding="utf-8")
    rows = [re.match(r"\s*(Yes|No)\s+(.+?)\s{2,}", row) for row in text.splitlines()[2:]]
    listed = {m.group(2).upper(): m.group(1) == "Yes" for m in rows if m}
    assert len(listed) == 47
    assert {verb: spec.dead_ok for verb, spec in SPECS.items()} == listed


@pytest.mark.parametrize(("line", "reply"), [
    ("BOGUS CMD", b"510 Invalid or unknown command\n"),
    ("", b"510 Invalid or unknown command\n"),
    ("STREAM", b"510 Invalid or unknown command\n"),
    ("noop whatever you like", b"200 result=0\n"),
    ('stream file beep ""', b"200 result=0 endpos=0\n"),
    ("WAIT FOR DIGIT", None),
    ("WAIT FOR DIGIT soon", None),
    ("GET VARIABLE", None),
    ("SET VARIABLE ONLY_NAME", None),
    ("ANSWER now", None),
])
def test_unknown_commands_and_usage_errors(line: str, reply: bytes | None) -> None:
    async def main():
        responder = RawResponder([line])
        host, port = await responder.start()
        await AgiCaller(host, port, Backend(), timeout=WAIT_S).run()
        await responder.stop()
        return b"".join(responder.replies[0])

    got = asyncio.run(main())
    if reply is None:
        spec, _ = find_command(line)
        assert spec is not None
        assert got.startswith(b"520-Invalid command syntax.  Proper usage follows:\n")
        assert got.endswith(b"\n520 End of proper usage.\n")
        assert spec.usage.encode() in got
    else:
        assert got == reply


def test_the_stream_file_usage_text_is_asterisks() -> None:
    [(_, expected)] = [(c, e) for c, e in exchanges("fastagi-session.txt")
                       if c == b"STREAM FILE\n"]

    async def main():
        responder = RawResponder(["STREAM FILE"])
        host, port = await responder.start()
        await AgiCaller(host, port, Backend(), timeout=WAIT_S).run()
        await responder.stop()
        return b"".join(responder.replies[0])

    assert asyncio.run(main()) == expected


def test_a_dead_channel_answers_by_the_dead_column() -> None:
    commands = ["ANSWER", "GET VARIABLE X", 'STREAM FILE beep ""', "SET VARIABLE X 1",
                "GET VARIABLE X", "WAIT FOR DIGIT 100", "EXEC Playback beep", "CHANNEL STATUS",
                "SAY DIGITS 12 \"\"", "GET FULL VARIABLE ${X}", "VERBOSE hi 1", "HANGUP",
                "RECORD FILE /tmp/x wav # 1000", "NOOP"]

    async def main():
        responder = RawResponder(commands)
        host, port = await responder.start()
        report = await AgiCaller(host, port, ScriptBackend(hang_up_at=1), timeout=WAIT_S).run()
        await responder.stop()
        return responder.replies[0], report

    replies, report = asyncio.run(main())
    dead = b"511 Command Not Permitted on a dead channel or intercept routine\n"
    assert replies == [b"200 result=-1\n", b"HANGUP\n", b"200 result=0\n", dead,
                       b"200 result=1\n", b"200 result=1 (1)\n", dead, b"200 result=0\n", dead,
                       dead, b"200 result=1 (1)\n", b"200 result=1\n", dead, dead,
                       b"200 result=0\n"]
    assert report.hangup_sent and report.commands == commands


# ---- arguments as res_agi splits them ----------------------------------------------------


@pytest.mark.parametrize("values", [
    ["plain"], [""], ["two words", 'a "quoted" one'], ["back\\slash", "\\\""],
    ["PJSIP/101,20,gU(ccf-answered^1795.3^li)"], ["new\nline", "nul\0", "tab\there"],
    ["中文服务请按9", "/var/lib/ccf/tts/ab12"],
])
def test_our_quoting_reads_back_as_the_same_arguments(values: list[str]) -> None:
    line = command_line("EXEC", *values).decode().rstrip("\n")
    spec, cmd = find_command(line)
    assert spec is not None and cmd is not None and cmd.verb == "EXEC"
    expected = [v.replace("\n", " ").replace("\0", " ") for v in values]
    assert list(cmd.args) == expected


def test_parse_args_is_res_agis() -> None:
    assert parse_args('STREAM FILE demo-congrats ""') == ["STREAM", "FILE", "demo-congrats", ""]
    assert parse_args('GET FULL VARIABLE "${CALLERID(all)}|${CHANNEL}"') == [
        "GET", "FULL", "VARIABLE", "${CALLERID(all)}|${CHANNEL}"]
    assert parse_args('SET VARIABLE FOO "bar baz"') == ["SET", "VARIABLE", "FOO", "bar baz"]
    assert parse_args("a\\ b  c\t d") == ["a b", "c", "d"]
    assert parse_args('x"y z"w') == ["xy zw"]


# ---- byte-level faults ------------------------------------------------------------------


@pytest.mark.parametrize(("header", "message"), [
    ("truncated", "closed before the end of the agi_ header block"),
    ("malformed", "malformed agi_ header line"),
    ("garbage", "malformed agi_ header line"),
    ("oversized", "longer than"),
    ("none", "closed before any agi_ header"),
])
def test_broken_header_blocks_reach_the_server_as_sent(header: str, message: str) -> None:
    async def main():
        errors: list[str] = []

        async def server(wire):
            try:
                await read_environment(wire, timeout=WAIT_S, limit=64 * 1024)
            except AgiProtocolError as exc:
                errors.append(str(exc))
            wire.close()

        srv, port = await wires.serve(server)
        report = await AgiCaller("127.0.0.1", port, ScriptBackend(header=header),
                                 timeout=WAIT_S).run()
        await until(lambda: errors, "the server's error")
        srv.close()
        return errors, report

    errors, report = asyncio.run(main())
    assert len(errors) == 1 and message in errors[0], errors
    assert report.commands == []


def test_a_stalled_header_keeps_the_socket_open_then_closes() -> None:
    async def main():
        seen = []

        async def server(reader, writer):
            started = time.perf_counter()
            data = await reader.read()
            seen.append((data, time.perf_counter() - started))
            writer.close()

        srv = await asyncio.start_server(server, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        await AgiCaller("127.0.0.1", port, ScriptBackend(header="truncated", stall_s=0.2),
                        timeout=WAIT_S).run()
        await until(lambda: seen, "the server to read to the end")
        srv.close()
        return seen[0]

    data, seconds = asyncio.run(main())
    assert data.startswith(b"agi_network: yes\n") and not data.endswith(b"\n\n")
    assert seconds >= 0.15


def test_fixed_replies_early_close_and_a_hangup_at_command_k() -> None:
    commands = [f"VERBOSE step{i} 1" for i in range(1, 21)]

    async def main():
        responder = RawResponder(commands)
        host, port = await responder.start()
        fast = [AgiCaller(host, port, ScriptBackend(), timeout=WAIT_S).run() for _ in range(20)]
        reports = await asyncio.gather(*fast)
        closer = await AgiCaller(host, port, ScriptBackend(close_at=3), timeout=WAIT_S).run()
        hanger = await AgiCaller(host, port, ScriptBackend(hang_up_at=2), timeout=WAIT_S).run()
        await responder.stop()
        return responder, reports, closer, hanger

    responder, reports, closer, hanger = asyncio.run(main())
    assert all(len(r.commands) == 20 and len(r.waits_s) == 20 for r in reports)
    assert all(r.closed_by == "server" for r in reports)
    assert responder.replies[:20] == [[b"200 result=0\n"] * 20] * 20
    assert closer.closed_by == "peer" and len(closer.commands) == 3
    assert responder.replies[20] == [b"200 result=0\n"] * 2
    # VERBOSE is allowed on a dead channel: 200 result=1 after the hang-up
    assert responder.replies[21][:4] == [b"200 result=0\n", b"200 result=-1\n", b"HANGUP\n",
                                         b"200 result=1\n"]
    assert hanger.hangup_sent


def test_a_silent_server_ends_the_peer_with_a_clear_error() -> None:
    from ccdsl.runtime.testing.peer.agi_caller import PeerError

    async def main():
        done = asyncio.Event()

        async def server(reader, writer):
            await done.wait()  # silent until the peer has given up
            writer.close()

        srv = await asyncio.start_server(server, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        try:
            with pytest.raises(PeerError, match="no command for 0.2 s"):
                await AgiCaller("127.0.0.1", port, Backend(), timeout=0.2).run()
        finally:
            done.set()
            srv.close()
        with pytest.raises(PeerError, match="cannot connect"):
            await AgiCaller("127.0.0.1", port, Backend(), timeout=WAIT_S).run()

    asyncio.run(main())


def test_the_captures_are_where_the_peer_reads_them() -> None:
    assert Path(captures_dir(), "fastagi-session.txt").exists()


# ---- the simulated caller behind the commands of the op -> AGI table ---------------------


def drive(backend: Backend, commands: list[str]) -> list[bytes]:
    async def main():
        responder = RawResponder(commands)
        host, port = await responder.start()
        await AgiCaller(host, port, backend, timeout=WAIT_S).run()
        await responder.stop()
        return responder.replies[0]

    return asyncio.run(main())


def test_record_file_ends_by_key_by_limit_and_by_hangup() -> None:
    from ccdsl.runtime.sim.caller import Speak

    line = CallerLine(callerid="+8613800000001")
    # the caller speaks 3 s then # (Asterisk keeps 2.8 s: res_agi cuts the 0.2 s
    # before a key, fastagi-record-silence-audio-dtmf.txt), 10 s cut at 2 s, and
    # hangs up 0.5 s into the third
    backend = sim_backend(line, [Speak(3_000), Speak(10_000), Speak(10_000)],
                          max_call_ms=3_000 + 2_000 + 500)
    record = 'RECORD FILE /rec/voicemail/zhang/c1 wav "#" {}'
    replies = drive(backend, [record.format(5000), record.format(2000), record.format(5000),
                              "GET VARIABLE DIALSTATUS"])
    assert replies == [b"200 result=35 (dtmf) endpos=22400\n",
                       b"200 result=0 (timeout) endpos=16000\n",
                       b"200 result=-1 (hangup) endpos=4000\n", b"HANGUP\n",
                       b"200 result=0\n"]


def test_record_file_of_a_silent_caller_is_a_header_only_file(tmp_path) -> None:
    """As Asterisk 22: silence, then # (or a hang-up) leaves a 44-byte WAV
    and endpos 0; a caller who speaks leaves a file with their audio."""
    from ccdsl.runtime.core.channel import WAV_HEADER_BYTES
    from ccdsl.runtime.sim.caller import Speak

    folder = tmp_path / "voicemail" / "wang"
    folder.mkdir(parents=True)
    record = f'RECORD FILE {folder}/{{}} wav "#" 5000'
    silent = drive(sim_backend(CallerLine(callerid="+8613800000001"), []),
                   [record.format("c1")])
    assert silent == [b"200 result=35 (dtmf) endpos=0\n"]
    assert (folder / "c1.wav").stat().st_size == WAV_HEADER_BYTES
    spoke = drive(sim_backend(CallerLine(callerid="+8613800000001"), [Speak(1_000)]),
                  [record.format("c2")])
    # 1 s said, then #: 0.8 s kept
    assert spoke == [b"200 result=35 (dtmf) endpos=6400\n"]
    assert (folder / "c2.wav").stat().st_size == WAV_HEADER_BYTES + 2 * 6400


def test_dial_sets_what_asterisk_sets_and_numbers_ring_too() -> None:
    from ccdsl.runtime.core.centre import Agent
    from ccdsl.runtime.sim import AgentScript, SimCentre

    centre = SimCentre([(Agent("li", "Li", "8001", {"general": 1}), AgentScript(2_000))],
                       now=T0)
    info = CallInfo("c1", "+8613800000001", None, "", T0, "PJSIP/caller-1")
    sim = SimChannel(info, VirtualClock(T0), ScriptedCaller(()), centre)
    legs: list[tuple[str, str]] = []

    async def leg(call_id: str, agent: str) -> None:
        legs.append((call_id, agent))

    backend = SimBackend(sim, answered=leg)
    # Asterisk 22 sets ANSWEREDTIME / DIALEDTIME of the *caller's* channel
    # (app_dial.c end_bridge_callback): answered at the start, 2 s of ringing
    # and 60 s of talk make both 62 s, not the talk alone
    replies = drive(backend, [
        "ANSWER",
        'EXEC Dial "PJSIP/8001,20.000,gU(ccf-answered^c1^li)"', "GET VARIABLE DIALSTATUS",
        "GET VARIABLE ANSWEREDTIME_MS", "GET VARIABLE DIALEDTIME_MS",
        'EXEC Dial "Local/+862150001234@ccf-transfer,5.000,gU(ccf-answered^c1^-)"',
        "GET VARIABLE DIALSTATUS",
        'EXEC Dial "Local/+862150001234@ccf-transfer,2.000,gU(ccf-answered^c1^-)"',
        "GET VARIABLE DIALSTATUS", "GET VARIABLE ANSWEREDTIME_MS",
        'EXEC Queue "ccf-nosuchqueue,c,,,30,,ccf-answered^c1"', "GET VARIABLE QUEUESTATUS",
        'EXEC NoSuchApp "x"'])
    assert replies == [b"200 result=0\n",
                       b"200 result=0\n", b"200 result=1 (ANSWER)\n", b"200 result=1 (62000)\n",
                       b"200 result=1 (62000)\n", b"200 result=0\n", b"200 result=1 (ANSWER)\n",
                       b"200 result=0\n", b"200 result=1 (NOANSWER)\n", b"200 result=0\n",
                       b"200 result=0\n", b"200 result=0\n", b"200 result=-2\n"]
    assert legs == [("c1", "li"), ("c1", "-")]


def test_say_date_and_time_speak_the_moment_in_the_calls_zone() -> None:
    line = CallerLine(callerid="+8613800000001")
    backend = sim_backend(line, [])
    moment = int(datetime(2026, 12, 3, 9, 30, tzinfo=UTC).timestamp())
    replies = drive(backend, [f'SAY DATE {moment} ""', f'SAY TIME {moment} ""',
                              'SAY DIGITS 0123 ""', 'SAY NUMBER 42 ""', 'SAY ALPHA abc ""',
                              'SAY DIGITS abc ""'])
    assert replies[:5] == [b"200 result=0\n"] * 5
    assert replies[5].startswith(b"520-")
    said = [(d["kind"], d["value"]) for kind, d in backend.sim.log.entries if kind == "said"]
    assert said == [("date", "2026-12-03"), ("time", "09:30"), ("digits", "0123"),
                    ("number", "42"), ("alpha", "abc")]
