"""RECORD FILE with a silent caller: what a real Asterisk 22.10.1 said
(tests/asterisk/captures/fastagi-record-silence-*.txt) against what the
FastAGI test peer says, replayed over a real socket on 127.0.0.1.

Only reads the captures and drives the peer; never changes them. Where the
peer cannot say what Asterisk said, because the simulator's silent caller
does not do what Asterisk's did, a test pins the difference and says why."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from doubles.raw import against
from doubles.transcript import Chunk, read_transcript

from ccdsl.runtime.asterisk.agi import command_line
from ccdsl.runtime.core.channel import WAV_HEADER_BYTES, CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.sim.caller import Action, Speak
from ccdsl.runtime.testing.peer.agi_caller import (
    Backend,
    CallerLine,
    environment,
    find_command,
    header_writes,
)
from ccdsl.runtime.testing.peer.sim_backend import SimBackend

T0 = datetime(2026, 12, 6, 10, 46, 34, tzinfo=UTC)
CAPTURED_FOLDER = "/tmp/recsil/rec/"  # where Asterisk wrote; a test's own folder replaces it
# the captures made with the command exactly as ccf serve sends it (every argument quoted)
AS_SERVED = ("timeout", "dtmf", "hangup", "zero")
_SIZE_NOTE = re.compile(r"\.wav: (\d+) bytes on disk after the reply$")
_ENDPOS = re.compile(rb"endpos=(\d+)")


def capture(case: str) -> list[Chunk]:
    return read_transcript(f"fastagi-record-silence-{case}.txt")


def record_command(chunks: list[Chunk]) -> tuple[bytes, bytes, int]:
    """The RECORD FILE line sent, Asterisk's reply to it (the bytes before the
    next command) and the size of the file it left (the NOTE after it)."""
    sent = next(i for i, c in enumerate(chunks) if c.data.startswith(b"RECORD FILE"))
    reply = b""
    size = -1
    for chunk in chunks[sent + 1:]:
        if chunk.direction == ">>":
            break
        if chunk.direction == "<<":
            reply += chunk.data
        elif (found := _SIZE_NOTE.search(chunk.note)) is not None:
            size = int(found.group(1))
    return chunks[sent].data, reply, size


def captured_line(chunks: list[Chunk]) -> CallerLine:
    head = b"".join(c.data for c in chunks[:next(i for i, c in enumerate(chunks)
                                                 if c.direction == ">>")])
    env = dict(row.split(": ", 1) for row in head.decode().split("\n") if ": " in row)
    line = CallerLine(script=env["agi_network_script"], channel=env["agi_channel"],
                      uniqueid=env["agi_uniqueid"], callerid=env["agi_callerid"],
                      calleridname=env["agi_calleridname"], dnid=env["agi_dnid"],
                      context=env["agi_context"], extension=env["agi_extension"],
                      priority=int(env["agi_priority"]), threadid=env["agi_threadid"],
                      request=env["agi_request"])
    # the peer's header is Asterisk's, byte for byte (Asterisk split it into 2 or 3 reads)
    assert b"".join(header_writes(environment(line, "127.0.0.1", 4580))) == head
    return line


def exchanges(chunks: list[Chunk], folder: Path) -> list[tuple[bytes, list[bytes]]]:
    """(command, Asterisk's writes until the next command), the captured
    recordings folder replaced by `folder`."""
    out: list[tuple[bytes, list[bytes]]] = []
    for chunk in chunks:
        if chunk.direction == ">>":
            out.append((chunk.data.replace(CAPTURED_FOLDER.encode(), f"{folder}/".encode()), []))
        elif chunk.direction == "<<" and out:
            out[-1][1].append(chunk.data)
    return out


def replay(chunks: list[Chunk], backend: Backend, folder: Path, *,
           hangup_delay_s: float = 0.0) -> list[tuple[bytes, list[bytes], bytes]]:
    """Send the capture's commands to the peer; per command, (command,
    Asterisk's writes, the peer's bytes). The peer's reply is read line by
    line, as many lines as Asterisk sent, so a different endpos still reads."""
    line = captured_line(chunks)
    steps = exchanges(chunks, folder)
    results: list[tuple[bytes, list[bytes], bytes]] = []

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await asyncio.wait_for(reader.readline(), 5) != b"\n":
            pass  # the agi_ block, checked above
        for command, writes in steps:
            writer.write(command)
            got = b""
            for _ in range(b"".join(writes).count(b"\n")):
                got += await asyncio.wait_for(reader.readline(), 5)
            results.append((command, writes, got))
        writer.close()

    asyncio.run(against(server, backend, line, hangup_delay_s=hangup_delay_s))
    return results


def silent_caller(chunks: list[Chunk], actions: tuple[Action, ...] = (), *,
                  max_call_ms: int = 3_600_000) -> SimBackend:
    """The simulator's caller on the captured channel; with no actions, one
    who says nothing and never presses a key."""
    line = captured_line(chunks)
    info = CallInfo(call_id=line.uniqueid, caller_number=line.callerid or "",
                    caller_name=line.calleridname, dialled="", started=T0,
                    channel=line.channel, language=line.language)
    sim = SimChannel(info, VirtualClock(T0), ScriptedCaller(actions, max_call_ms=max_call_ms))
    return SimBackend(sim)


# ---- what the captures show ------------------------------------------------------------


@pytest.mark.parametrize("case", AS_SERVED)
def test_the_captured_command_is_the_one_ccf_serve_sends(case: str) -> None:
    sent, _, _ = record_command(capture(case))
    _, cmd = find_command(sent.decode().rstrip("\n"))
    assert cmd is not None and cmd.verb == "RECORD FILE"
    base, fmt, keys, limit = cmd.args
    # AgiChannel.voicemail: RECORD FILE <base> wav "#" <max ms>, no offset, BEEP or s=
    assert command_line("RECORD FILE", base, "wav", "#", limit) == sent
    assert (fmt, keys) == ("wav", "#")


@pytest.mark.parametrize(("case", "reply"), [
    ("timeout", b"200 result=0 (timeout) endpos=0\n"),  # after the full 5000 ms
    ("dtmf", b"200 result=35 (dtmf) endpos=0\n"),  # # after 3 s of silence
    ("hangup", b"200 result=-1 (hangup) endpos=0\nHANGUP\n"),  # the HANGUP line ~40 ms later
    ("zero", b"200 result=0 (timeout) endpos=0\n"),  # a limit of 0 ms: at once
    ("beep-s", b"200 result=0 (timeout) endpos=0\n"),  # s=3 never fires without audio
])
def test_a_caller_who_sends_no_audio_leaves_only_a_wav_header(case: str, reply: bytes) -> None:
    _, got, size = record_command(capture(case))
    assert got == reply
    assert size == WAV_HEADER_BYTES  # what message_stored calls "nothing stored"


@pytest.mark.parametrize("case", ["audio-dtmf", "audio-beep-s"])
def test_a_line_carrying_silent_audio_leaves_that_audio(case: str) -> None:
    """A phone line keeps sending (silent) audio: Asterisk stores it, a
    header and 2 bytes a sample of endpos, so such a file is more than a
    header (docs/asterisk.md: only a line sending no audio leaves 44 bytes)."""
    _, got, size = record_command(capture(case))
    found = _ENDPOS.search(got)
    assert found is not None and int(found.group(1)) > 0
    assert size == WAV_HEADER_BYTES + 2 * int(found.group(1))


# ---- the peer against them ---------------------------------------------------------------


def test_the_peer_answers_hash_after_silence_as_asterisk_did(tmp_path: Path) -> None:
    chunks = capture("dtmf")
    results = replay(chunks, silent_caller(chunks), tmp_path)
    assert [got for _, _, got in results] == [b"".join(w) for _, w, _ in results]
    (left,) = tmp_path.iterdir()
    assert left.suffix == ".wav" and left.stat().st_size == WAV_HEADER_BYTES


def test_the_peer_answers_a_zero_limit_as_asterisk_did(tmp_path: Path) -> None:
    chunks = capture("zero")
    results = replay(chunks, silent_caller(chunks), tmp_path)
    assert [got for _, _, got in results] == [b"".join(w) for _, w, _ in results]
    (left,) = tmp_path.iterdir()
    assert left.stat().st_size == WAV_HEADER_BYTES


def test_a_line_where_nothing_happens_times_out_as_asterisk_did(tmp_path: Path) -> None:
    # the peer's base Backend: no caller, no key, the limit passes
    chunks = capture("timeout")
    results = replay(chunks, Backend(), tmp_path)
    assert [got for _, _, got in results] == [b"".join(w) for _, w, _ in results]


def test_a_hang_up_while_recording_is_answered_in_asterisks_form(tmp_path: Path) -> None:
    """`200 result=-1 (hangup) endpos=N`, then the HANGUP line in a write of
    its own; NOOP still answers on the dead channel. The simulator's caller
    can hang up while recording only while speaking, so N is not 0 here."""
    chunks = capture("hangup")
    backend = silent_caller(chunks, (Speak(10_000),), max_call_ms=3_000)
    results = replay(chunks, backend, tmp_path, hangup_delay_s=0.04)
    (_, writes, got), = [r for r in results if r[0].startswith(b"RECORD FILE")]
    assert writes == [b"200 result=-1 (hangup) endpos=0\n", b"HANGUP\n"]
    assert got == b"200 result=-1 (hangup) endpos=24000\nHANGUP\n"
    assert [got for c, _, got in results if c == b"NOOP\n"] == [b"200 result=0\n"]


def test_the_simulators_silent_caller_ends_the_recording_at_once(tmp_path: Path) -> None:
    """The known difference. Asterisk kept recording the silent caller for
    the whole 5000 ms and answered `(timeout)`; with a hang-up or a # it
    answers when that comes. The simulator's caller who says nothing ends
    the recording at once (docs/runtime.md, Speak), so the peer answers what
    Asterisk answers for a # at once, and no virtual time passes. Making the
    peer wait would part it from the simulator, which tests/asterisk/
    test_scenarios_agi.py holds it to, to the millisecond."""
    chunks = capture("timeout")
    backend = silent_caller(chunks)
    before = backend.clock.now()
    results = replay(chunks, backend, tmp_path)
    (_, writes, got), = [r for r in results if r[0].startswith(b"RECORD FILE")]
    assert writes == [b"200 result=0 (timeout) endpos=0\n"]
    assert got == b"200 result=35 (dtmf) endpos=0\n"
    assert backend.clock.now() == before
