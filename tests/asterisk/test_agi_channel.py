"""AgiChannel (runtime/asterisk/agi_channel.py) against a scripted fake
Asterisk on a real 127.0.0.1 socket: the exact command line each op sends,
answered with reply shapes copied from tests/asterisk/captures/."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from doubles.transcript import read_transcript

from asterisk import wires
from asterisk.centre import WAIT_S
from ccdsl.runtime.asterisk.agi import AgiSession, environment_from
from ccdsl.runtime.asterisk.agi_channel import AgiChannel, call_info
from ccdsl.runtime.asterisk.agi_line import AgiSettings, AnswerHooks
from ccdsl.runtime.asterisk.tts import TtsError
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import (
    WAV_HEADER_BYTES,
    DialTarget,
    QueueRequest,
    Sound,
    message_stored,
)
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.errors import CallHungUp, ExternalError

CALL_ID = "1795652892.31"


def ms(seconds: float) -> int:
    """A span the test saw, in whole ms, a ms over for the call's rounding: what a time the
    call measured inside it may be at most."""
    return int(seconds * 1000) + 1


# reply shapes, verbatim from the captures
OK0 = b"200 result=0\n"
OK1 = b"200 result=1\n"
MINUS1 = b"200 result=-1\n"
DEAD = b"511 Command Not Permitted on a dead channel or intercept routine\n"
HANGUP = b"HANGUP\n"
MISSING = b"200 result=-1 endpos=0\n"
ALL_KEYS = '"0123456789*#"'


def header_block(name: str) -> bytes:
    """The agi_ block Asterisk sent at the start of a capture."""
    return b"".join(c.data for c in read_transcript(name)
                    if c.direction == "<<" and c.data.startswith(b"agi_"))


class FakeTts:
    """Renders nothing: the path a TtsRenderer would give, by text."""

    def __init__(self, root: Path, fail: bool = False) -> None:
        self.root = root
        self.fail = fail
        self.said: list[tuple[str, str]] = []

    async def render(self, text: str, language: str) -> str:
        if self.fail:
            raise TtsError("text-to-speech: the program 'espeak-ng' was not found")
        self.said.append((text, language))
        return str(self.root / "tts" / f"t{len(self.said)}")


class Asterisk:
    """The other end: reads our command lines, answers as scripted."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def expect(self, line: bytes, *replies: bytes | float) -> None:
        got = await asyncio.wait_for(self.reader.readuntil(b"\n"), WAIT_S)
        assert got == line
        await self.send(*replies)

    async def answers(self, action, line: bytes, *replies: bytes | float):
        """`action` (a channel's coroutine) runs while this end expects `line` and answers
        `replies`; what the action returns."""
        task = asyncio.create_task(action)
        await self.expect(line, *replies)
        return await task

    async def send(self, *replies: bytes | float) -> None:
        for reply in replies:
            if isinstance(reply, float):
                await asyncio.sleep(reply)
            else:
                self.writer.write(reply)
                await self.writer.drain()

    async def nothing_more(self) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self.reader.readuntil(b"\n"), 0.05)


@contextlib.asynccontextmanager
async def a_call(tmp_path: Path, *, tts: FakeTts | None = None, call_id: str = CALL_ID,
                 say_languages: tuple[str, ...] = ("en",)):
    server, wire, (a_reader, a_writer) = await wires.socket_pair(WAIT_S)
    env = environment_from({"agi_network_script": "main_menu?lang=en", "agi_uniqueid": call_id,
                            "agi_channel": "PJSIP/sipp-00000000", "agi_callerid": "+8613800000001",
                            "agi_extension": "s", "agi_dnid": "5551000"})
    session = AgiSession(wire, env)
    hooks = AnswerHooks()
    agents = {"alice": Agent("alice", extension="100"), "noext": Agent("noext")}
    settings = AgiSettings(sounds_dir=str(tmp_path / "sounds"),
                           recordings_dir=str(tmp_path / "rec"), say_languages=say_languages)
    channel = AgiChannel(session, call_info(env, datetime.now(UTC)), clock=SystemClock(),
                         tts=tts or FakeTts(tmp_path), settings=settings, hooks=hooks,
                         agents=agents.get)
    try:
        yield channel, Asterisk(a_reader, a_writer), hooks
    finally:
        await session.close()
        a_writer.close()
        server.close()


def run(coro):
    return asyncio.run(coro)


def sounds_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sounds" / "en"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "welcome.wav").write_bytes(b"RIFF")
    (folder / "menu.v2.gsm").write_bytes(b"")
    return tmp_path / "sounds"


async def never(agent: str) -> None:
    raise AssertionError("on_answer must not run")


# -- answer, hangup, the line going away ----------------------------------------------------------


def test_answer_once_and_hangup_once(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            await ast.answers(ch.answer(), b"ANSWER\n", OK0)
            await ch.answer()  # answered already: nothing sent
            await ast.answers(ch.hangup(), b"HANGUP\n", OK1, 0.04, HANGUP)
            await ch.hangup()
            await ast.nothing_more()
            assert ch.ended_by == "flow"
            with pytest.raises(CallHungUp):
                await ch.play([Sound("file", "beep", "en")])

    run(main())


def test_511_after_hangup_and_eof_are_hang_ups(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.answer())
            await ast.expect(b"ANSWER\n", DEAD)
            with pytest.raises(CallHungUp):
                await task
            assert ch.ended_by == "caller"
            await ch.hangup()  # the caller is gone: no HANGUP is sent
            await ast.nothing_more()
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.wait(1000))
            await ast.expect(b'EXEC Wait "1.000"\n')
            ast.writer.close()  # the socket closes with no reply
            with pytest.raises(CallHungUp, match="caller hung up"):
                await task

    run(main())


# -- prompts --------------------------------------------------------------------------------------


def test_play_recorded_prompt_bare_name_and_tts(tmp_path):
    root = sounds_dir(tmp_path)
    tts = FakeTts(tmp_path)

    async def main():
        async with a_call(tmp_path, tts=tts) as (ch, ast, _):
            sounds = [Sound("file", "welcome", "en"), Sound("file", "menu.v2", "en"),
                      Sound("file", "beep", "en"), Sound("tts", "Hello Alice", "en-US")]
            task = asyncio.create_task(ch.play(sounds))
            await ast.expect(f'STREAM FILE "{root}/en/welcome" ""\n'.encode(),
                             b"200 result=0 endpos=242214\n")
            await ast.expect(f'STREAM FILE "{root}/en/menu.v2" ""\n'.encode(),
                             b"200 result=0 endpos=800\n")
            await ast.expect(b'STREAM FILE "beep" ""\n', b"200 result=0 endpos=3440\n")
            await ast.expect(f'STREAM FILE "{tmp_path}/tts/t1" ""\n'.encode(),
                             b"200 result=0 endpos=100\n")
            assert await task is None
            assert tts.said == [("Hello Alice", "en-US")]
            assert [s.text for s in ch.heard()] == ["welcome", "menu.v2", "beep", "Hello Alice"]

    run(main())


def test_a_recorded_message_plays_back_from_the_recordings_folder(tmp_path):
    """The prompt-recording flow plays the take it just recorded
    (`play file "voicemail/prompt-7/CALL"`): RECORD FILE wrote it under
    recordings_dir/voicemail/, so that is where STREAM FILE must point."""
    take = tmp_path / "rec" / "voicemail" / "prompt-7"
    take.mkdir(parents=True)
    (take / f"{CALL_ID}.wav").write_bytes(b"RIFF")

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.play([
                Sound("file", f"voicemail/prompt-7/{CALL_ID}", "en"),
                Sound("file", "voicemail/prompt-8/none", "en")]))
            await ast.expect(f'STREAM FILE "{take}/{CALL_ID}" ""\n'.encode(),
                             b"200 result=0 endpos=8000\n")
            # no such take: left to Asterisk's own sounds, as any unknown name
            await ast.expect(b'STREAM FILE "voicemail/prompt-8/none" ""\n',
                             b"200 result=0 endpos=100\n")
            assert await task is None

    run(main())


def test_barge_in_key_stops_the_prompts(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.play([Sound("file", "a", "en"), Sound("file", "b", "en")],
                                               interrupt_keys="0123456789*#"))
            await ast.expect(f'STREAM FILE "a" {ALL_KEYS}\n'.encode(),
                             b"200 result=53 endpos=1200\n")
            assert await task == "5"
            await ast.nothing_more()  # b is not played

    run(main())


def test_missing_sound_file_is_skipped(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.play([Sound("file", "no-such-file", "en"),
                                                Sound("file", "beep", "en")]))
            await ast.expect(b'STREAM FILE "no-such-file" ""\n', MISSING)
            await ast.expect(b"CHANNEL STATUS\n", b"200 result=6\n")
            await ast.expect(b'STREAM FILE "beep" ""\n', b"200 result=0 endpos=3440\n")
            assert await task is None
            assert [e for e, _ in ch.log.entries].count("sound_missing") == 1

    run(main())


def test_hang_up_mid_prompt(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.play([Sound("file", "demo-congrats", "en")]))
            await ast.expect(b'STREAM FILE "demo-congrats" ""\n', b"200 result=-1 endpos=4000\n")
            # CHANNEL STATUS goes out at once; the HANGUP line comes ~40 ms after the reply
            await ast.expect(b"CHANNEL STATUS\n", 0.04, HANGUP, DEAD)
            with pytest.raises(CallHungUp):
                await task
            assert ch.ended_by == "caller"
            with pytest.raises(CallHungUp):
                await ch.say("digits", "123", "en")
            await ast.nothing_more()

    run(main())


def test_unsafe_sound_names_and_tts_failures(tmp_path):
    async def main():
        async with a_call(tmp_path, tts=FakeTts(tmp_path, fail=True)) as (ch, ast, _):
            for name in ("../../etc/passwd", "/etc/passwd", 'beep" "0', "beep\nHANGUP", ""):
                with pytest.raises(ExternalError, match="sound file name"):
                    await ch.play([Sound("file", name, "en")])
            with pytest.raises(ExternalError, match="espeak-ng") as err:
                await ch.play([Sound("tts", "hello", "en")])
            assert err.value.service == "tts"
            await ast.nothing_more()

    run(main())


# -- keys -----------------------------------------------------------------------------------------


def test_read_digits_first_key_in_the_prompt_then_waits_then_end_key(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.read_digits(
                [Sound("file", "enter-account", "en")], max_digits=6, timeout_ms=5000,
                inter_digit_ms=3000, end_key="#"))
            await ast.expect(f'STREAM FILE "enter-account" {ALL_KEYS}\n'.encode(),
                             b"200 result=49 endpos=800\n")  # "1"
            await ast.expect(b"WAIT FOR DIGIT 3000\n", b"200 result=50\n")  # "2"
            await ast.expect(b"WAIT FOR DIGIT 3000\n", b"200 result=35\n")  # "#"
            got = await task
            assert (got.keys, got.timed_out) == ("12", False)

    run(main())


def test_read_digits_timeout_and_max_digits(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.read_digits(
                [], max_digits=4, timeout_ms=5000, inter_digit_ms=2000, end_key=None))
            await ast.expect(b"WAIT FOR DIGIT 5000\n", b"200 result=55\n")
            await ast.expect(b"WAIT FOR DIGIT 2000\n", OK0)  # timed out, as recorded
            got = await task
            assert (got.keys, got.timed_out) == ("7", True)
            task = asyncio.create_task(ch.read_digits(
                [Sound("file", "p", "en")], max_digits=2, timeout_ms=5000, inter_digit_ms=2000,
                end_key="#", interruptible=False))
            await ast.expect(b'STREAM FILE "p" ""\n', b"200 result=0 endpos=10\n")
            await ast.expect(b"WAIT FOR DIGIT 5000\n", b"200 result=42\n")  # "*"
            await ast.expect(b"WAIT FOR DIGIT 2000\n", b"200 result=48\n")  # "0"
            assert (await task).keys == "*0"

    run(main())


def test_hang_up_mid_wait_for_digit(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.read_digits(
                [], max_digits=1, timeout_ms=15000, inter_digit_ms=15000, end_key=None))
            await ast.expect(b"WAIT FOR DIGIT 15000\n", MINUS1, 0.04, HANGUP)
            with pytest.raises(CallHungUp):
                await task
            with pytest.raises(CallHungUp):
                await ch.wait(10)

    run(main())


# -- say ------------------------------------------------------------------------------------------


def test_say_with_asterisk_sounds_and_by_tts(tmp_path):
    tts = FakeTts(tmp_path)

    async def main():
        async with a_call(tmp_path, tts=tts) as (ch, ast, _):
            for kind, value, line in [
                ("digits", "123", b'SAY DIGITS "123" ""\n'),
                ("digits", "+8613800000001", b'SAY DIGITS "+8613800000001" ""\n'),
                ("number", "42", b'SAY NUMBER "42" ""\n'),
                ("alpha", 'a"b c', b'SAY ALPHA "a\\"b c" ""\n'),
            ]:
                await ast.answers(ch.say(kind, value, "en-US"), line, OK0)
            task = asyncio.create_task(ch.say("date", "2026-11-26", "en"))
            line = await asyncio.wait_for(ast.reader.readuntil(b"\n"), WAIT_S)
            epoch = int(line.split(b'"')[1])
            assert line.startswith(b"SAY DATE ")
            assert datetime.fromtimestamp(epoch, UTC).date().isoformat() == "2026-11-26"
            await ast.send(OK0)
            await task
            task = asyncio.create_task(ch.say("time", "14:30", "en"))
            line = await asyncio.wait_for(ast.reader.readuntil(b"\n"), WAIT_S)
            moment = datetime.fromtimestamp(int(line.split(b'"')[1]), UTC)
            assert line.startswith(b"SAY TIME ") and (moment.hour, moment.minute) == (14, 30)
            await ast.send(OK0)
            await task
            # money, a language Asterisk has no sounds for here, a decimal: text-to-speech
            for kind, value, language in [("money", "12.50", "en"), ("number", "42", "fr"),
                                          ("number", "1.5", "en"), ("digits", "*12", "en")]:
                task = asyncio.create_task(ch.say(kind, value, language))
                path = f"{tmp_path}/tts/t{len(tts.said) + 1}"
                await ast.expect(f'STREAM FILE "{path}" ""\n'.encode(),
                                 b"200 result=0 endpos=100\n")
                await task
            assert tts.said[-4:] == [("12.50", "en"), ("42", "fr"), ("1.5", "en"),
                                     ("*12", "en")]

    run(main())


# -- waits and recordings -------------------------------------------------------------------------


def test_wait_plain_and_with_music(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            await ast.answers(ch.wait(2500), b'EXEC Wait "2.500"\n', OK0)
            await ast.answers(ch.wait(2600, music="jazz"), b'EXEC MusicOnHold "jazz,3"\n', OK0)
            for music in ("jazz,evil", "a b", "$(x)", "x\ny"):
                with pytest.raises(ExternalError, match="music class"):
                    await ch.wait(1000, music=music)
            await ch.wait(0)
            await ast.nothing_more()
            task = asyncio.create_task(ch.wait(5000))
            await ast.expect(b'EXEC Wait "5.000"\n', MINUS1, 0.04, HANGUP)
            with pytest.raises(CallHungUp):
                await task

    run(main())


def test_recording_paths_are_made_safe(tmp_path):
    rec = tmp_path / "rec"

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            for path, target in [
                (str(rec / "1795652892.31-20261126T002813Z.wav"),
                 f"{rec}/1795652892.31-20261126T002813Z.wav"),
                (str(rec / "sub" / "x y,z.gsm"), f"{rec}/sub/x_y_z.gsm"),
                ("recordings/../../etc/passwd", f"{rec}/passwd.wav"),
                ("recordings/call.mp3", f"{rec}/call.wav"),
            ]:
                await ast.answers(ch.start_recording(path),
                                  f'EXEC MixMonitor "{target}"\n'.encode(), OK0)
            await ast.answers(ch.stop_recording(), b"EXEC StopMixMonitor\n", OK0)

    run(main())


def test_recordings_folder_asterisk_cannot_take(tmp_path):
    odd = tmp_path / "my recordings,x"

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            object.__setattr__(ch.settings, "recordings_dir", str(odd))
            with pytest.raises(ExternalError, match="recordings folder"):
                await ch.start_recording(str(odd / "a.wav"))
            await ast.nothing_more()

    run(main())


# -- dial -----------------------------------------------------------------------------------------


def test_dial_agent_answered_through_the_gosub_hook(tmp_path):
    seen: list[str] = []
    refused: list[ExternalError] = []

    async def main():
        async with a_call(tmp_path) as (ch, ast, hooks):
            async def on_answer(agent: str) -> None:
                seen.append(agent)
                try:  # the flow's `on answered by agent` playing to the caller
                    await ch.play([Sound("file", "beep", "en")])
                except ExternalError as err:
                    refused.append(err)

            dialled = time.monotonic()
            task = asyncio.create_task(ch.dial(DialTarget("agent", "alice", "100"),
                                               ring_ms=20000, on_answer=on_answer))
            await ast.expect(f'EXEC Dial "PJSIP/100,20.000,gtU(ccf-answered^{CALL_ID}^alice)"\n'
                             .encode())
            await asyncio.sleep(0.05)  # it rings
            # the agent answers: the ccf-answered connection fires the hook
            answering = time.monotonic()
            assert await hooks.fire(CALL_ID, "alice") is True
            answered = time.monotonic()
            await asyncio.sleep(0.08)  # they talk
            await ast.send(OK0)  # the agent hung up after talking (the g option)
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", b"200 result=1 (ANSWER)\n")
            outcome = await task
            ended = time.monotonic()
            assert outcome.status == "answered"
            conv = outcome.conversation
            assert (conv.agent, conv.ended_by) == ("alice", "agent")
            # the times are the hook's: ring until it fired, talk since; Dial()'s
            # ANSWEREDTIME_MS would be the caller's whole call on Asterisk 22
            assert 40 <= conv.ring_ms <= ms(answered - dialled)
            assert 70 <= conv.talk_ms <= ms(ended - answering)
            assert await hooks.fire(CALL_ID, "alice") is False  # unregistered after the Dial
            await ast.nothing_more()

    run(main())
    assert seen == ["alice"]
    [err] = refused
    assert str(err).startswith("the line is bridged to the agent; `play`")


@pytest.mark.parametrize("status,expected", [("NOANSWER", "no_answer"), ("BUSY", "busy"),
                                             ("CHANUNAVAIL", "unavailable"),
                                             ("CONGESTION", "failed")])
def test_dial_not_answered(tmp_path, status, expected):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.dial(DialTarget("number", "+1 (555) 123-4567"),
                                               ring_ms=15500, on_answer=never,
                                               caller_id="+15550001"))
            await ast.expect(b'SET VARIABLE CALLERID(num) "+15550001"\n', OK1)
            await ast.expect(f'EXEC Dial "Local/+15551234567@ccf-transfer,15.500,'
                             f'gU(ccf-answered^{CALL_ID}^-)"\n'.encode(), OK0)
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", f"200 result=1 ({status})\n".encode())
            outcome = await task
            assert outcome.status == expected and status in outcome.reason

    run(main())


def test_dial_answered_without_the_gosub_runs_on_answer_after(tmp_path):
    seen = []

    async def on_answer(agent: str) -> None:
        seen.append(agent)

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.dial(DialTarget("agent", "alice"), ring_ms=10000,
                                               on_answer=on_answer))
            await ast.expect(f'EXEC Dial "PJSIP/100,10.000,gtU(ccf-answered^{CALL_ID}^alice)"\n'
                             .encode(), OK0)
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", b"200 result=1 (ANSWER)\n")
            outcome = await task
            assert outcome.status == "answered" and outcome.conversation.agent == "alice"
            assert outcome.conversation.ring_ms == 0  # not known without the hook

    run(main())
    assert seen == ["alice"]


def test_caller_hangs_up_during_dial(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, hooks):
            task = asyncio.create_task(ch.dial(DialTarget("agent", "alice", "100"),
                                               ring_ms=20000, on_answer=never))
            await ast.expect(f'EXEC Dial "PJSIP/100,20.000,gtU(ccf-answered^{CALL_ID}^alice)"\n'
                             .encode(), MINUS1, 0.04, HANGUP)
            with pytest.raises(CallHungUp, match="during the ring"):
                await task
            assert len(hooks) == 0
            await ast.nothing_more()

    run(main())


def test_three_way_is_a_dial(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, hooks):
            async def on_answer(agent):
                return None

            dialled = time.monotonic()
            task = asyncio.create_task(ch.three_way(DialTarget("number", "5551234"),
                                                    ring_ms=5000, on_answer=on_answer))
            await ast.expect(f'EXEC Dial "Local/5551234@ccf-transfer,5.000,'
                             f'gU(ccf-answered^{CALL_ID}^-)"\n'.encode())
            await asyncio.sleep(0.05)  # it rings
            assert await hooks.fire(CALL_ID, "-")
            answered = time.monotonic()
            await ast.send(OK0)
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", b"200 result=1 (ANSWER)\n")
            outcome = await task
            assert outcome.status == "answered" and outcome.conversation.agent is None
            assert 40 <= outcome.conversation.ring_ms <= ms(answered - dialled)

    run(main())


@pytest.mark.parametrize("number", ["555,1234", "555;evil", "100&PJSIP/200", "${EVIL}",
                                    "../../x", "1\nHANGUP", "abc", "5551234/1", '"5551234"'])
def test_dial_targets_and_caller_ids_that_would_inject_are_refused(tmp_path, number):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            with pytest.raises(ExternalError, match="not a phone number"):
                await ch.dial(DialTarget("number", number), ring_ms=1000, on_answer=never)
            with pytest.raises(ExternalError, match="not a phone number"):
                await ch.dial(DialTarget("number", "5551234"), ring_ms=1000, on_answer=never,
                              caller_id=number)
            with pytest.raises(ExternalError):
                await ch.transfer(DialTarget("number", number), mode="blind", ring_ms=1000)
            with pytest.raises(ExternalError):
                await ch.dial(DialTarget("agent", "alice", number), ring_ms=1000,
                              on_answer=never)
            await ast.nothing_more()

    run(main())


def test_agent_without_extension_or_with_an_unsafe_id(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            with pytest.raises(ExternalError, match="no extension"):
                await ch.dial(DialTarget("agent", "noext"), ring_ms=1000, on_answer=never)
            with pytest.raises(ExternalError, match="may only use"):
                await ch.dial(DialTarget("agent", "al)ice", "100"), ring_ms=1000,
                              on_answer=never)
            await ast.nothing_more()

    run(main())


def test_a_call_id_the_gosub_cannot_carry(tmp_path):
    async def main():
        async with a_call(tmp_path, call_id="1.2^x,y") as (ch, ast, _):
            with pytest.raises(ExternalError, match="call id"):
                await ch.dial(DialTarget("agent", "alice"), ring_ms=1000, on_answer=never)
            await ast.nothing_more()

    run(main())


# -- queues ---------------------------------------------------------------------------------------


def request(**changes) -> QueueRequest:
    base = dict(queue="support.vip", priority=5, skills={}, max_wait_ms=29500, music="jazz",
                announce_position_ms=None, strategy="ringall", ring_ms=None)
    base.update(changes)
    return QueueRequest(**base)


def test_enqueue_answered_by_an_agent(tmp_path):
    seen = []

    async def on_answer(agent: str) -> None:
        seen.append(agent)

    async def main():
        async with a_call(tmp_path) as (ch, ast, hooks):
            task = asyncio.create_task(ch.enqueue(request(), on_answer=on_answer))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "5"\n', OK1)
            await ast.expect(b'SET VARIABLE CHANNEL(musicclass) "jazz"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-support_vip,ct,,,30,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode())
            await asyncio.sleep(0.05)
            assert await hooks.fire(CALL_ID, "alice")
            await asyncio.sleep(0.05)
            await ast.send(OK0)
            await ast.expect(b"GET VARIABLE QUEUESTATUS\n", OK0)  # unset: answered
            await ast.expect(b"GET VARIABLE QUEUEPOSITION\n", b"200 result=1 (1)\n")
            outcome = await task
            assert (outcome.status, outcome.position) == ("answered", 1)
            assert outcome.conversation.agent == "alice" and outcome.wait_ms >= 40
            assert outcome.conversation.talk_ms >= 40

    run(main())
    assert seen == ["alice"]


@pytest.mark.parametrize("status,expected", [("TIMEOUT", "timeout"), ("FULL", "full"),
                                             ("JOINEMPTY", "empty"), ("LEAVEUNAVAIL", "empty")])
def test_enqueue_not_answered(tmp_path, status, expected):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.enqueue(request(music=None, max_wait_ms=None,
                                                           priority=0), on_answer=never))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "0"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-support_vip,ct,,,,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode(), OK0)
            await ast.expect(b"GET VARIABLE QUEUESTATUS\n", f"200 result=1 ({status})\n".encode())
            await ast.expect(b"GET VARIABLE QUEUEPOSITION\n", b"200 result=1 (3)\n")
            outcome = await task
            assert (outcome.status, outcome.position) == (expected, 3)

    run(main())


def test_enqueue_unknown_queue_and_hang_up_while_waiting(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.enqueue(request(music=None), on_answer=never))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "5"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-support_vip,ct,,,30,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode(), OK0)
            await ast.expect(b"GET VARIABLE QUEUESTATUS\n", OK0)
            await ast.expect(b"GET VARIABLE QUEUEPOSITION\n", OK0)
            await ast.expect(b"GET VARIABLE MEMBERNAME\n", OK0)
            with pytest.raises(ExternalError, match="queues.conf"):
                await task
            task = asyncio.create_task(ch.enqueue(request(music=None), on_answer=never))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "5"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-support_vip,ct,,,30,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode(), MINUS1, 0.04, HANGUP)
            with pytest.raises(CallHungUp, match="the queue"):
                await task
        async with a_call(tmp_path) as (ch, ast, _):
            with pytest.raises(ExternalError, match="music class"):
                await ch.enqueue(request(music="x,y"), on_answer=never)
            await ast.nothing_more()

    run(main())


# -- transfer -------------------------------------------------------------------------------------


def test_blind_transfer_to_an_agent_and_to_a_number(tmp_path):
    async def main():
        for target, extension in [(DialTarget("agent", "alice"), "100"),
                                  (DialTarget("number", "555-1234"), "5551234")]:
            async with a_call(tmp_path) as (ch, ast, _):
                task = asyncio.create_task(ch.transfer(target, mode="blind", ring_ms=1000))
                await ast.expect(b'SET CONTEXT "ccf-transfer"\n', OK0)
                await ast.expect(f'SET EXTENSION "{extension}"\n'.encode(), OK0)
                await ast.expect(b'SET PRIORITY "1"\n', OK0)
                assert (await task).status == "transferred"
                assert ch.ended_by == "transfer"
                await ch.hangup()  # transferred: our part is over, nothing is sent
                await ast.nothing_more()

    run(main())


@pytest.mark.parametrize("status,expected", [("ANSWER", "transferred"),
                                             ("NOANSWER", "no_answer"), ("BUSY", "failed")])
def test_attended_transfer(tmp_path, status, expected):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.transfer(DialTarget("agent", "alice"),
                                                   mode="attended", ring_ms=20000))
            # an answered one: -1 when the talk ended, the caller still up, and
            # ccf serve hangs up (else Asterisk would go on at the fallback)
            await ast.expect(b'EXEC Dial "PJSIP/100,20.000,t"\n',
                             b"200 result=-1\n" if status == "ANSWER" else OK0)
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", f"200 result=1 ({status})\n".encode())
            if status == "ANSWER":
                await ast.expect(b"HANGUP\n", b"200 result=1\n")
                await ast.send(b"HANGUP\n")
            assert (await task).status == expected

    run(main())


def test_a_number_is_never_given_the_right_to_transfer(tmp_path):
    # Dial's `t` lets the called party key *2 (features.conf atxfer) and dial on
    # through the centre: agents get it (the console's Atxfer needs it), numbers not
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.transfer(DialTarget("number", "5551234"),
                                                   mode="attended", ring_ms=20000))
            await ast.expect(b'EXEC Dial "Local/5551234@ccf-transfer,20.000"\n',
                             b"200 result=-1\n")
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", b"200 result=1 (ANSWER)\n")
            await ast.expect(b"HANGUP\n", b"200 result=1\n")
            assert (await task).status == "transferred"

    run(main())


# -- voicemail ------------------------------------------------------------------------------------


def test_voicemail_message_ended_by_the_key(tmp_path):
    rec = tmp_path / "rec"

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.voicemail(
                "1000@default", greeting=[Sound("file", "vm-intro", "en"),
                                          Sound("file", "beep", "en")], max_length_ms=60000))
            await ast.expect(b'STREAM FILE "vm-intro" ""\n', b"200 result=0 endpos=8000\n")
            await ast.expect(b'STREAM FILE "beep" ""\n', b"200 result=0 endpos=3440\n")
            await ast.expect(f'RECORD FILE "{rec}/voicemail/1000_default/1795652892.31" "wav" '
                             f'"#" "60000"\n'.encode(), b"200 result=35 (dtmf) endpos=16000\n")
            outcome = await task
            assert outcome.stored and outcome.duration_ms == 2000
            assert outcome.file == f"{rec}/voicemail/1000_default/1795652892.31.wav"
            assert outcome.mailbox == "1000@default"
            assert (rec / "voicemail" / "1000_default").is_dir()

    run(main())


def test_voicemail_hang_up_keeps_the_message_and_the_next_op_hangs_up(tmp_path):
    rec = tmp_path / "rec"

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            outcome = await ast.answers(
                ch.voicemail("../../etc/x\"y", greeting=[], max_length_ms=30000),
                f'RECORD FILE "{rec}/voicemail/____etc_x_y/1795652892.31" "wav" '
                f'"#" "30000"\n'.encode(),
                b"200 result=-1 (hangup) endpos=8000\n", 0.04, HANGUP)
            assert outcome.stored and outcome.duration_ms == 1000
            with pytest.raises(CallHungUp):
                await ch.play([Sound("file", "beep", "en")])
            await ast.nothing_more()

    run(main())


def test_voicemail_nothing_said_and_file_not_writable(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            outcome = await ast.answers(
                ch.voicemail("1000", greeting=[], max_length_ms=5000),
                f'RECORD FILE "{tmp_path}/rec/voicemail/1000/1795652892.31" "wav" '
                f'"#" "5000"\n'.encode(), b"200 result=0 (timeout) endpos=0\n")
            assert not outcome.stored and outcome.file is None
            task = asyncio.create_task(ch.voicemail("1000", greeting=[], max_length_ms=5000))
            await ast.expect(f'RECORD FILE "{tmp_path}/rec/voicemail/1000/1795652892.31" "wav" '
                             f'"#" "5000"\n'.encode(), b"200 result=-1 (writefile)\n")
            with pytest.raises(ExternalError, match="could not write"):
                await task

    run(main())


def test_voicemail_a_header_only_file_is_no_message(tmp_path):
    """Asterisk 22 answers RECORD FILE for a silent caller who presses #
    with a 44-byte WAV: its header and no audio. Nothing was stored."""
    rec = tmp_path / "rec"
    folder = rec / "voicemail" / "wang"

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            outcome = await ast.answers(
                ch.voicemail("wang", greeting=[], max_length_ms=5000),
                f'RECORD FILE "{folder}/1795652892.31" "wav" "#" "5000"\n'.encode(),
                b"200 result=35 (dtmf) endpos=0\n")
            assert not outcome.stored and outcome.file is None and outcome.duration_ms == 0
            # even when Asterisk counts samples, a header-only file holds no message
            (folder / "1795652892.31.wav").write_bytes(b"RIFF" + bytes(WAV_HEADER_BYTES - 4))
            outcome = await ast.answers(
                ch.voicemail("wang", greeting=[], max_length_ms=5000),
                f'RECORD FILE "{folder}/1795652892.31" "wav" "#" "5000"\n'.encode(),
                b"200 result=35 (dtmf) endpos=800\n")
            assert not outcome.stored and outcome.file is None

    run(main())


@pytest.mark.parametrize("duration_ms,file_bytes,stored", [
    (0, None, False),            # nothing said, no file to look at
    (0, WAV_HEADER_BYTES, False),  # nothing said: the header only
    (2000, WAV_HEADER_BYTES, False),  # a length, yet the file is only a header
    (2000, None, True),           # the file is on Asterisk's host: its length decides
    (2000, WAV_HEADER_BYTES + 32_000, True),
    (0, WAV_HEADER_BYTES + 32_000, False),
])
def test_the_stored_rule(duration_ms, file_bytes, stored):
    assert message_stored(duration_ms, file_bytes) is stored


# -- refused commands, the call's facts, the hooks ------------------------------------------------


def test_a_command_asterisk_refuses_is_an_external_error(tmp_path):
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.wait(1000))
            await ast.expect(b'EXEC Wait "1.000"\n', b"510 Invalid or unknown command\n")
            with pytest.raises(ExternalError, match="Invalid or unknown command"):
                await task
            task = asyncio.create_task(ch.stop_recording())
            await ast.expect(b"EXEC StopMixMonitor\n",
                             b"520-Invalid command syntax.  Proper usage follows:\n", 0.01,
                             b"Usage text\n520 End of proper usage.\n")
            with pytest.raises(ExternalError, match="Invalid command syntax"):
                await task
            task = asyncio.create_task(ch.answer())  # the next reply is not shifted
            await ast.expect(b"ANSWER\n", OK0)
            await task

    run(main())


def test_call_info_from_the_captured_environments():
    started = datetime(2026, 11, 26, tzinfo=UTC)
    blocks = {}
    for name in ("fastagi-session.txt", "fastagi-sip.txt"):
        data = header_block(name)
        variables = dict(line.split(": ", 1) if ": " in line else (line[:-1], "")
                         for line in data.decode().splitlines() if line)
        blocks[name] = environment_from(variables)
    main = call_info(blocks["fastagi-session.txt"], started)
    assert (main.call_id, main.caller_number, main.caller_name, main.dialled, main.channel,
            main.language) == ("1795652892.31", "+8613800000001", "Alice", "",
                               "Local/s@ivr-0000000f;2", "en")
    sip = call_info(blocks["fastagi-sip.txt"], started)
    # the SIP call has a DNID: what sipp dialled (it asked for `s`), kept as given
    assert (sip.dialled, sip.channel, sip.language) == ("s", "PJSIP/sipp-00000000", None)
    anonymous = environment_from({"agi_network_script": "f", "agi_uniqueid": "1.2",
                                  "agi_channel": "PJSIP/x-1", "agi_callerid": "unknown",
                                  "agi_calleridname": "unknown", "agi_dnid": "5551000",
                                  "agi_extension": "s"})
    info = call_info(anonymous, started)
    assert (info.caller_number, info.caller_name, info.dialled) == ("", None, "5551000")
    assert call_info(environment_from({**anonymous.variables, "agi_calleridname": ""}),
                     started).caller_name is None


def test_answer_hooks_without_a_call():
    hooks = AnswerHooks()
    assert asyncio.run(hooks.fire("nope", "alice")) is False
    calls = []

    async def hook(agent):
        calls.append(agent)

    hooks.register("c1", hook)
    assert asyncio.run(hooks.fire("c1", "bob")) is True and calls == ["bob"]
    hooks.unregister("c1")
    hooks.unregister("c1")
    assert len(hooks) == 0


def test_the_sound_index_notices_a_prompt_added_later(tmp_path, monkeypatch):
    from ccdsl.runtime.asterisk import agi_media

    index = agi_media._SoundIndex()
    root = str(tmp_path)
    settings = AgiSettings(sounds_dir=root, recordings_dir="")
    assert index.file("late", "en", settings) == "late"  # Asterisk's own, as far as it knows
    os.makedirs(tmp_path / "en")
    (tmp_path / "en" / "late.ulaw").write_bytes(b"")
    assert index.file("late", "en", settings) == "late"  # remembered for a few seconds
    monkeypatch.setattr(agi_media._SoundIndex, "TTL_S", 0.0)
    index2 = agi_media._SoundIndex()
    assert index2.file("late", "en", settings) == f"{root}/en/late"


def test_enqueue_without_the_answered_gosub_reads_the_member_from_app_queue(tmp_path):
    """A dialplan whose Queue() gosub did not run (seen on a real Asterisk
    before the gosub argument was quoted): the agent comes from MEMBERNAME,
    the wait from QEHOLDTIME, and on_answer still runs, after the talk."""
    answered: list[str] = []

    async def on_answer(agent: str) -> None:
        answered.append(agent)

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.enqueue(request(music=None), on_answer=on_answer))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "5"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-support_vip,ct,,,30,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode(), OK0)
            await ast.expect(b"GET VARIABLE QUEUESTATUS\n", b"200 result=1 (CONTINUE)\n")
            await ast.expect(b"GET VARIABLE QUEUEPOSITION\n", b"200 result=1 (1)\n")
            await ast.expect(b"GET VARIABLE MEMBERNAME\n", b"200 result=1 (li)\n")
            await ast.expect(b"GET VARIABLE QEHOLDTIME\n", b"200 result=1 (7)\n")
            outcome = await task
            assert outcome.status == "answered"
            assert outcome.conversation.agent == "li"
            assert outcome.wait_ms == 7000
            await ast.nothing_more()

    run(main())
    assert answered == ["li"]


def test_a_minus_one_to_get_variable_is_the_caller_gone(tmp_path):
    """After Queue() returns, a -1 to GET VARIABLE QUEUESTATUS ends the call
    as a hang-up (not as a queue that did not take the call)."""
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.enqueue(request(music=None), on_answer=never))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "5"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-support_vip,ct,,,30,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode(), OK0)
            await ast.expect(b"GET VARIABLE QUEUESTATUS\n", MINUS1)
            with pytest.raises(CallHungUp, match="QUEUESTATUS"):
                await task

    run(main())


def test_a_wait_or_recording_on_a_dead_channel_is_the_caller_gone(tmp_path):
    """Asterisk answers EXEC with 200 even on a dead channel (the captures:
    Playback after the hang-up gave `200 result=0`); the HANGUP line before
    that reply is what tells the channel the caller has gone."""
    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.wait(1500))
            await ast.expect(b'EXEC Wait "1.500"\n', HANGUP, OK0)
            with pytest.raises(CallHungUp, match="a wait"):
                await task
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.start_recording(str(tmp_path / "rec" / "c1.wav")))
            await ast.expect(f'EXEC MixMonitor "{tmp_path}/rec/c1.wav"\n'.encode(), HANGUP, OK0)
            with pytest.raises(CallHungUp, match="start recording"):
                await task

    run(main())


def test_an_answered_attended_transfer_hangs_up_as_the_capture_needs(tmp_path):
    """Asterisk 22.10.1 (captures/fastagi-queue-key-attended-transfer.txt):
    after the party hung up, Dial() answered -1 with DIALSTATUS ANSWER and
    the caller's channel up; the AGI ending there sent the caller on to the
    next priority, the [shutdown] fallback. ccf serve hangs up instead."""
    sent = [c.data for c in read_transcript("fastagi-queue-key-attended-transfer.txt")
            if c.direction == "<<"]
    dial_reply, status_reply = sent[sent.index(b"200 result=1 (ANSWER)\n") - 1:][:2]
    assert dial_reply == b"200 result=-1\n"

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.transfer(DialTarget("number", "5551234"),
                                                   mode="attended", ring_ms=20000))
            await ast.expect(b'EXEC Dial "Local/5551234@ccf-transfer,20.000"\n', dial_reply)
            await ast.expect(b"GET VARIABLE DIALSTATUS\n", status_reply)
            await ast.expect(b"HANGUP\n", b"200 result=1\n")
            assert (await task).status == "transferred"
            assert ch.ended_by == "transfer"

    run(main())


def test_a_queue_with_messages_sets_the_channels_language_and_reads_a_key_exit(tmp_path):
    """Asterisk 22.10.1 (captures/fastagi-queue-key-hangup.txt): app_queue
    picks the messages' files by CHANNEL(language), so ccf serve sets it to
    the language the messages speak; on key 2 Queue() answered 0, QUEUESTATUS
    empty, CONTEXT the key context and EXTEN the key."""
    from ccdsl.runtime.core.channel import QueueMessage

    sent = [c.data for c in read_transcript("fastagi-queue-key-hangup.txt")
            if c.direction == "<<"]
    at = sent.index(b"200 result=1 (ccf-service-keys)\n")
    queue_reply, status, position, context, exten = sent[at - 3:at + 2]
    message = QueueMessage("still_waiting", (Sound("tts", "Thank you for waiting.", "en-US"),))

    async def main():
        async with a_call(tmp_path) as (ch, ast, _):
            task = asyncio.create_task(ch.enqueue(
                request(queue="service", messages=(message,), message_every_ms=8000,
                        keys="12"), on_answer=None))
            await ast.expect(b'SET VARIABLE QUEUE_PRIO "5"\n', OK1)
            await ast.expect(b'SET VARIABLE QUEUESTATUS ""\n', OK1)
            await ast.expect(b'SET VARIABLE CHANNEL(musicclass) "jazz"\n', OK1)
            await ast.expect(b'SET VARIABLE CHANNEL(language) "en-US"\n', OK1)
            await ast.expect(f'EXEC Queue "ccf-service,ct,,,30,,\\"ccf-answered,{CALL_ID}\\""\n'
                             .encode(), queue_reply)
            await ast.expect(b"GET VARIABLE QUEUESTATUS\n", status)
            await ast.expect(b"GET VARIABLE QUEUEPOSITION\n", position)
            await ast.expect(b"GET VARIABLE CONTEXT\n", context)
            await ast.expect(b"GET VARIABLE EXTEN\n", exten)
            outcome = await task
            assert (outcome.status, outcome.key, outcome.left_position) == ("key", "2", 1)

    run(main())
