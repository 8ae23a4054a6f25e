"""FastAGI framing and reply parsing (runtime/asterisk/agi.py), proven by
replaying the bytes a real Asterisk 22 sent (tests/asterisk/captures/).

A replay: a fake Asterisk connects to our side over 127.0.0.1 and sends
the transcript's `<<` chunks as recorded, chunk by chunk, in order, each
reply after the command it answers arrived; our AgiSession sends the
commands the `>>` chunks show, and the fake checks they are byte for byte
the recorded ones. Then each reply must be read as the transcript means it.
"""

from __future__ import annotations

import asyncio
import contextlib
import string
from dataclasses import dataclass, field

import pytest
from doubles.transcript import Chunk, read_transcript
from hypothesis import given, settings
from hypothesis import strategies as st

from asterisk import wires
from asterisk.centre import WAIT_S
from ccdsl.runtime.asterisk.agi import (
    AgiArgumentError,
    AgiConnectionClosed,
    AgiProtocolError,
    AgiReply,
    AgiSession,
    command_line,
    parse_reply,
    quote,
    read_environment,
)

# -- plumbing: our side is the FastAGI server, the fake Asterisk connects to it ------------


async def socket_pair():
    """(server, our wire, (asterisk reader, asterisk writer))."""
    return await wires.socket_pair(WAIT_S)


@contextlib.asynccontextmanager
async def a_session():
    """A session (with _env's few headers) on a real socket, and the fake Asterisk's
    (reader, writer) at the other end; both closed when the block ends."""
    server, wire, (a_reader, a_writer) = await socket_pair()
    try:
        yield AgiSession(wire, _env()), a_reader, a_writer
    finally:
        a_writer.close()
        server.close()


def connections(chunks: list[Chunk]) -> list[list[Chunk]]:
    """The data chunks of each connection a capture holds (the panoramisk
    captures were made through a proxy that notes each connection)."""
    conns: list[list[Chunk]] = [[]]
    for chunk in chunks:
        if not chunk.direction:
            if "connection" in chunk.note and "opened" in chunk.note and conns[-1]:
                conns.append([])
            continue
        conns[-1].append(chunk)
    return conns


def answers_in(chunks: list[bytes]) -> list[tuple[int, bool]]:
    """For each chunk Asterisk sent after the header block: how many replies
    it completes, and whether it is only the unsolicited HANGUP line. Counted
    here by the transcript's own shape, independently of agi.py."""
    out, in_usage = [], False
    for data in chunks:
        done = 0
        lines = data.decode().splitlines()
        for line in lines:
            if line == "HANGUP" and not in_usage:
                continue
            if line.startswith("520-"):
                in_usage = True
            elif in_usage:
                if line.startswith("520 "):
                    in_usage, done = False, done + 1
            else:
                done += 1
        out.append((done, done == 0 and not in_usage and all(x == "HANGUP" for x in lines)))
    return out


@dataclass
class Replay:
    env: list[bytes]
    commands: list[bytes]  # the lines our side must send, in order
    replies: list[bytes]  # what Asterisk sent after the header block, chunk by chunk
    received: list[bytes] = field(default_factory=list)


def replay_of(name: str, connection: int = 0, skip: tuple[bytes, ...] = ()) -> Replay:
    chunks = connections(read_transcript(name))[connection]
    first_command = next(i for i, c in enumerate(chunks) if c.direction == ">>")
    env = [c.data for c in chunks[:first_command]]
    sent = b"".join(c.data for c in chunks if c.direction == ">>")
    commands = [line for line in sent.splitlines(keepends=True) if line not in skip]
    replies = [c.data for c in chunks[first_command:] if c.direction == "<<"]
    return Replay(env, commands, replies)


async def act_as_asterisk(replay: Replay, reader, writer) -> None:
    for data in replay.env:
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(0.003)  # one chunk, one read, as recorded
    pending = list(zip(replay.replies, answers_in(replay.replies), strict=True))
    owed = 0
    for _ in replay.commands:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), WAIT_S)
        except asyncio.IncompleteReadError:
            break  # our side closed
        replay.received.append(line)
        owed += 1
        while owed > 0 and pending:
            data, (done, _) = pending.pop(0)
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(0.003)
            owed -= done
        while pending and pending[0][1][1]:  # the async HANGUP line follows at once
            writer.write(pending.pop(0)[0])
            await writer.drain()
        if owed > 0:
            break  # the capture ends here: Asterisk sent nothing more
    writer.close()


@dataclass
class Run:
    env: object
    replies: list[tuple[str, AgiReply | Exception]]
    session: AgiSession
    replay: Replay

    def reply(self, index: int) -> AgiReply:
        got = self.replies[index][1]
        assert isinstance(got, AgiReply), got
        return got


def run_replay(name: str, connection: int = 0, skip: tuple[bytes, ...] = ()) -> Run:
    replay = replay_of(name, connection, skip)

    async def main() -> Run:
        server, wire, (a_reader, a_writer) = await socket_pair()
        asterisk = asyncio.create_task(act_as_asterisk(replay, a_reader, a_writer))
        env = await read_environment(wire, timeout=WAIT_S)
        session = AgiSession(wire, env)
        replies: list[tuple[str, AgiReply | Exception]] = []
        for line in replay.commands:
            command = line.decode().rstrip("\n")
            try:
                replies.append((command, await session.command(command, timeout=WAIT_S)))
            except AgiConnectionClosed as exc:
                replies.append((command, exc))
                break
        await session.close()
        await asyncio.wait_for(asterisk, WAIT_S)
        server.close()
        await server.wait_closed()
        return Run(env, replies, session, replay)

    run = asyncio.run(main())
    # our bytes are the recorded bytes, line for line
    assert run.replay.received == run.replay.commands[:len(run.replay.received)]
    return run


# -- the main session: every reply shape ---------------------------------------------------


def test_session_environment_in_two_chunks():
    run = run_replay("fastagi-session.txt")
    env = run.env
    assert len(env.variables) == 22
    assert list(env.variables)[:3] == ["agi_network", "agi_network_script", "agi_request"]
    assert list(env.variables)[-1] == "agi_threadid"
    assert env.variables["agi_accountcode"] == ""
    assert env.variables["agi_channel"] == "Local/s@ivr-0000000f;2"
    assert env.script == "main_menu" and env.query == {"lang": "en"} and env.args == ()
    assert run.replay.received == run.replay.commands  # every command, byte for byte


def test_session_replies_read_as_recorded():
    run = run_replay("fastagi-session.txt")
    by = {}
    for index, (command, _) in enumerate(run.replies):
        by.setdefault(command, []).append(run.reply(index))
    [answer] = by["ANSWER"][:1]
    assert (answer.code, answer.result, answer.data, answer.endpos) == (200, "0", None, None)
    [played] = by['STREAM FILE demo-congrats ""']
    assert played.value == 0 and played.endpos == 242214 and played.data is None
    [digits] = by["GET DATA beep 3000 4"]
    assert digits.result == "1234" and not digits.timed_out
    [nothing] = by["GET DATA beep 1500 2"]
    assert nothing.result == "" and nothing.timed_out and nothing.value is None
    [got_key] = by["WAIT FOR DIGIT 2000"]
    assert chr(got_key.value) == "5"
    [no_key] = by["WAIT FOR DIGIT 500"]
    assert no_key.value == 0 and not no_key.timed_out
    foo_before, foo_after = by["GET VARIABLE FOO"]
    assert foo_before.value == 1 and foo_before.data == "bar baz"
    assert foo_after.data == "bar baz"  # after the hang-up and its HANGUP line: not shifted
    [full] = by['GET FULL VARIABLE "${CALLERID(all)}|${CHANNEL}"']
    assert full.data == '"Alice" <+8613800000001>|Local/s@ivr-0000000f;2'
    [cid] = by["GET VARIABLE CALLERID(num)"]
    assert cid.data == "+8613800000001"
    [unset] = by["GET VARIABLE DOES_NOT_EXIST"]
    assert unset.value == 0 and unset.data is None
    [bogus] = by["BOGUS CMD"]
    assert bogus.code == 510 and not bogus.ok and bogus.text == "510 Invalid or unknown command"
    [no_app] = by["EXEC NoSuchApp foo"]
    assert no_app.ok and no_app.value == -2
    [missing] = by['STREAM FILE no-such-file ""']
    assert missing.value == -1 and missing.endpos == 0
    status_up, status_dead = by["CHANNEL STATUS"]
    assert status_up.value == 6
    assert status_dead.code == 511
    [hung] = by["WAIT FOR DIGIT 15000"]
    assert hung.ok and hung.value == -1
    assert run.session.hung_up


def test_520_usage_block_is_read_whole_and_the_next_reply_is_aligned():
    run = run_replay("fastagi-session.txt")
    commands = [c for c, _ in run.replies]
    at = commands.index("STREAM FILE")
    usage = run.reply(at)
    assert usage.code == 520 and not usage.ok
    lines = usage.text.split("\n")
    assert lines[0] == "520-Invalid command syntax.  Proper usage follows:"
    assert lines[-1] == "520 End of proper usage."
    assert len(lines) == 7
    nxt = run.reply(at + 1)
    assert commands[at + 1] == 'STREAM FILE no-such-file ""'
    assert nxt.value == -1 and nxt.endpos == 0
    assert run.reply(at + 2).value == 1  # VERBOSE


def test_after_hangup_511_for_live_only_commands_and_200_for_the_rest():
    run = run_replay("fastagi-session.txt")
    tail = run.replies[-7:]
    shapes = [(c, r.code, r.result) for c, r in tail]
    assert shapes == [
        ("GET VARIABLE FOO", 200, "1"),
        ('STREAM FILE beep ""', 511, ""),
        ("ANSWER", 511, ""),
        ("EXEC Playback beep", 200, "0"),
        ('SET VARIABLE AFTER "hangup"', 200, "1"),
        ("CHANNEL STATUS", 511, ""),
        ("NOOP", 200, "0"),
    ]


def test_senddtmf_and_sip_sessions_our_hangup_then_the_async_line():
    for name in ("fastagi-senddtmf.txt", "fastagi-sip.txt"):
        run = run_replay(name)
        assert run.replay.received == run.replay.commands
        assert run.env.script == "short" and run.env.query == {}
        assert [(c, r.code, r.result, r.data) for c, r in run.replies] == [
            ("ANSWER", 200, "0", None),
            ("GET DATA beep 8000 4", 200, "1234", None),
            ("GET VARIABLE CALLERID(all)", 200, "1", '"Alice" <+8613800000001>'),
            ("HANGUP", 200, "1", None),
            ("NOOP", 200, "0", None),  # the HANGUP line in between is not its reply
        ]
        assert run.session.hung_up
    assert run.env.variables["agi_channel"] == "PJSIP/sipp-00000000"
    assert run.env.variables["agi_dnid"] == "s"


# -- one test per panoramisk 1.4 FastAGI fault the captures record ----------------------------


def test_panoramisk_520_shift_is_not_ours():
    """panoramisk read one line after `520-...` and then failed NOOP with
    ValueError (panoramisk-results-run1.txt); the NOOP reply is 200 result=0."""
    # GET DATA beep 1500 2 got no reply: panoramisk wrote the next commands while it
    # ran, and res_agi's GET DATA returns without a reply when a new command
    # arrives (handle_getdata: `if (res == 2) /* New command */`). Our session
    # never pipelines, so it is left out of the replay.
    run = run_replay("fastagi-panoramisk-run1.txt", connection=1,
                     skip=(b"GET DATA beep 1500 2\n",))
    commands = [c for c, _ in run.replies]
    assert commands[:4] == ["ANSWER", "GET DATA beep 3000 4", "STREAM FILE", "NOOP"]
    assert run.reply(2).code == 520 and run.reply(2).text.endswith("520 End of proper usage.")
    assert (run.reply(3).code, run.reply(3).result) == (200, "0")
    assert run.reply(4).data == "+8613800000001"  # GET VARIABLE CALLERID(num)
    assert run.reply(5).value == 1  # SET VARIABLE
    assert run.reply(6).data == "bar baz"  # GET VARIABLE FOO


def test_panoramisk_timeout_flag_kept():
    """panoramisk turned `200 result= (timeout)` into ('', ''): the timeout
    flag was lost."""
    run2 = run_replay("fastagi-panoramisk-run2.txt", connection=1)
    [empty] = [r for c, r in run2.replies if c == "GET DATA beep 1500 2"]
    assert empty.result == "" and empty.timed_out
    run1 = run_replay("fastagi-panoramisk-run1.txt", connection=1,
                      skip=(b"GET DATA beep 1500 2\n",))
    some = run1.reply(1)
    assert some.result == "1" and some.timed_out  # one digit, then the timeout


def test_panoramisk_hangup_shift_is_not_ours():
    """panoramisk took the async HANGUP line for the reply to the next
    command, so every later reply was off by one (run 2)."""
    run = run_replay("fastagi-panoramisk-run2.txt", connection=1)
    assert run.replay.received == run.replay.commands
    tail = [(c, r.code, r.result, r.data) for c, r in run.replies[-5:-1]]
    assert tail == [
        ("WAIT FOR DIGIT 15000", 200, "-1", None),
        ("GET VARIABLE FOO", 200, "1", "bar baz"),
        ('STREAM FILE beep ""', 511, "", None),
        ("NOOP", 200, "0", None),
    ]
    # the capture ends before Asterisk answered panoramisk's last NOOP (panoramisk
    # closed first): here the fake Asterisk closes, and that is a closed connection
    assert run.replies[-1][0] == "NOOP"
    assert isinstance(run.replies[-1][1], AgiConnectionClosed)
    assert run.session.hung_up


def test_panoramisk_511_and_minus_one_classification():
    """panoramisk reported 511 as AGIUnknownError and `200 result=-1` as
    AGIAppError. Here 511 is a reply of its own code that marks the channel
    dead, and result=-1 a plain 200 reply whose value the caller reads."""
    run = run_replay("fastagi-panoramisk-run2.txt", connection=1)
    [dead] = [r for c, r in run.replies if c == 'STREAM FILE beep ""']
    assert dead.code == 511 and not dead.ok and dead.text.startswith("511 Command Not Permitted")
    [minus] = [r for c, r in run.replies if c == "WAIT FOR DIGIT 15000"]
    assert minus.ok and minus.value == -1
    [no_app] = [r for c, r in run.replies if c == "EXEC NoSuchApp x"]
    assert no_app.ok and no_app.value == -2
    [bogus] = [r for c, r in run.replies if c == "BOGUS CMD"]
    assert bogus.code == 510


def test_panoramisk_route_with_query_string():
    """panoramisk matched routes against `main_menu?lang=en` and said "No
    route"; our environment names the script without its query."""
    run = run_replay("fastagi-panoramisk-run1.txt", connection=1,
                     skip=(b"GET DATA beep 1500 2\n",))
    assert run.env.script == "pano"

    async def main():
        server, wire, (_, a_writer) = await socket_pair()
        [data] = [c.data for c in connections(read_transcript("fastagi-panoramisk-run1.txt"))[0]]
        a_writer.write(data)
        await a_writer.drain()
        env = await read_environment(wire, timeout=WAIT_S)
        a_writer.close()
        server.close()
        return env

    env = asyncio.run(main())
    assert env.variables["agi_network_script"] == "main_menu?lang=en"
    assert env.script == "main_menu" and env.query == {"lang": "en"}


def test_hangup_line_and_eof_in_one_chunk_after_the_reply():
    """run 1: `200 result=-1\\nHANGUP\\n` in one chunk, then Asterisk sent
    nothing more (panoramisk had closed). Our next command reads the pending
    HANGUP line, then EOF: a closed connection, the line hung up."""
    run = run_replay("fastagi-panoramisk-run1.txt", connection=1,
                     skip=(b"GET DATA beep 1500 2\n",))
    command, last = run.replies[-1]
    assert command == "GET VARIABLE FOO"
    assert isinstance(last, AgiConnectionClosed)
    assert run.replies[-2][0] == "WAIT FOR DIGIT 15000" and run.reply(-2).value == -1
    assert run.session.hung_up


# -- reply lines on their own -------------------------------------------------------------------


def test_reply_shapes_from_the_readme():
    record = parse_reply("200 result=-1 (hangup) endpos=1600")
    assert (record.value, record.data, record.endpos) == (-1, "hangup", 1600)
    dtmf = parse_reply("200 result=35 (dtmf) endpos=8000")
    assert chr(dtmf.value) == "#" and dtmf.data == "dtmf"
    assert parse_reply("200 result=0 (timeout) endpos=24000").timed_out
    one_line = parse_reply("520 Invalid command syntax.  Proper usage not available.")
    assert one_line.code == 520
    paren = parse_reply("200 result=1 (a (nested) value) endpos=3")
    assert paren.data == "a (nested) value" and paren.endpos == 3


@pytest.mark.parametrize("line", ["HELLO", "200 okay", "200 result=1 junk", "404 Not here",
                                  "", "20 result=1"])
def test_garbage_lines_are_protocol_errors(line):
    with pytest.raises(AgiProtocolError):
        parse_reply(line)


def test_garbage_reply_makes_the_session_unusable():
    async def main():
        async with a_session() as (session, a_reader, a_writer):
            a_writer.write(b"I am not Asterisk\n")
            await a_writer.drain()
            with pytest.raises(AgiProtocolError, match="no AGI reply"):
                await session.command("NOOP", timeout=WAIT_S)
            with pytest.raises(AgiProtocolError, match="unusable"):
                await session.command("NOOP", timeout=WAIT_S)

    asyncio.run(main())


def test_no_reply_within_the_timeout():
    async def main():
        async with a_session() as (session, a_reader, a_writer):
            with pytest.raises(AgiProtocolError, match="no reply to NOOP within 0.1 s"):
                await session.command("NOOP", timeout=0.1)
            assert await a_reader.readuntil(b"\n") == b"NOOP\n"
            a_writer.write(b"200 result=0\n")  # too late: it must never answer a later command
            with pytest.raises(AgiProtocolError, match="unusable"):
                await session.command("ANSWER", timeout=WAIT_S)

    asyncio.run(main())


def test_hangup_line_arriving_before_the_reply_in_flight():
    async def main():
        async with a_session() as (session, a_reader, a_writer):
            task = asyncio.create_task(session.command('STREAM FILE beep ""', timeout=WAIT_S))
            assert await a_reader.readuntil(b"\n") == b'STREAM FILE beep ""\n'
            a_writer.write(b"HANGUP\n")
            await a_writer.drain()
            await asyncio.sleep(0.02)
            a_writer.write(b"200 result=-1 endpos=1200\n")
            reply = await task
            assert (reply.value, reply.endpos) == (-1, 1200) and session.hung_up

    asyncio.run(main())


# -- the header block: what a broken peer sends --------------------------------------------------


def _env():
    from ccdsl.runtime.asterisk.agi import environment_from

    return environment_from({"agi_network_script": "t", "agi_uniqueid": "1.1",
                             "agi_channel": "Local/s@t-1;2"})


def header_error(data: bytes, *, close: bool = True, limit: int = 64 * 1024,
                 timeout: float = WAIT_S) -> str:
    async def main():
        server, wire, (_, a_writer) = await socket_pair()
        for start in range(0, len(data), 97):  # several chunks
            a_writer.write(data[start:start + 97])
            await a_writer.drain()
        if close:
            a_writer.close()
        try:
            with pytest.raises(AgiProtocolError) as err:
                await read_environment(wire, timeout=timeout, limit=limit)
        finally:
            a_writer.close()
            server.close()
        return str(err.value)

    return asyncio.run(main())


GOOD_BLOCK = b"".join(c.data for c in connections(read_transcript("fastagi-session.txt"))[0]
                      if c.direction == "<<" and c.data.startswith(b"agi_"))


def test_header_block_in_many_chunks_is_read():
    async def main():
        server, wire, (_, a_writer) = await socket_pair()

        async def dribble():
            for start in range(0, len(GOOD_BLOCK), 50):
                a_writer.write(GOOD_BLOCK[start:start + 50])
                await a_writer.drain()
                await asyncio.sleep(0.002)

        task = asyncio.create_task(dribble())
        env = await read_environment(wire, timeout=WAIT_S)
        await task
        a_writer.close()
        server.close()
        return env

    env = asyncio.run(main())
    assert len(env.variables) == 22 and env.variables["agi_threadid"] == "139861812057792"


def test_header_block_truncated():
    message = header_error(GOOD_BLOCK[:300])
    assert "closed before the end of the agi_ header block" in message
    assert "variables read" in message


def test_header_block_without_its_empty_line():
    assert "closed before the end" in header_error(GOOD_BLOCK[:-1])


def test_header_closed_before_anything():
    assert header_error(b"") == "the connection closed before any agi_ header was sent"


def test_header_malformed_line():
    message = header_error(b"agi_network: yes\nGET / HTTP/1.1\n\n")
    assert message.startswith("malformed agi_ header line 'GET / HTTP/1.1'")


def test_header_oversized():
    block = b"".join(b"agi_arg_%d: %s\n" % (i, b"x" * 500) for i in range(1, 200)) + b"\n"
    assert "larger than 4096 bytes" in header_error(block, limit=4096)


def test_header_never_finished_times_out():
    message = header_error(GOOD_BLOCK[:200], close=False, timeout=0.2)
    assert message.startswith("the agi_ header block was not complete within 0.2 s")


def test_header_without_the_variables_a_call_needs():
    assert "no agi_uniqueid" in header_error(b"agi_network: yes\nagi_network_script: x\n\n")


def test_header_duplicate_variable():
    assert "agi_channel twice" in header_error(
        b"agi_channel: a\nagi_channel: b\n\n")


def test_agi_arguments_in_order():
    async def main():
        server, wire, (_, a_writer) = await socket_pair()
        a_writer.write(b"agi_network_script: f?x=1&lang=fr&empty=\nagi_uniqueid: 9.1\n"
                       b"agi_channel: PJSIP/a-1\nagi_arg_2: two\nagi_arg_10: ten\n"
                       b"agi_arg_1: one\n\n")
        await a_writer.drain()
        env = await read_environment(wire, timeout=WAIT_S)
        a_writer.close()
        server.close()
        return env

    env = asyncio.run(main())
    assert env.args == ("one", "two", "ten")
    assert env.script == "f" and env.query == {"x": "1", "lang": "fr", "empty": ""}


# -- quoting: nothing a value holds can change the command ----------------------------------------


def parse_args(line: str) -> list[str]:
    """res_agi's parse_args, rule for rule: spaces and tabs split words
    outside quotes, a double quote toggles quoting (and starts a word after
    whitespace, so `""` is an empty word), a backslash makes the next
    character literal."""
    argv: list[str] = []
    cur: list[str] | None = None
    quoted = escaped = False
    whitespace = True
    for ch in line:
        if ch == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                cur = []
                argv.append("")
                whitespace = False
            escaped = False
            continue
        if ch in " \t" and not quoted and not escaped:
            whitespace = True
            if cur is not None:
                argv[-1] = "".join(cur)
                cur = None
            continue
        if ch == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            cur = []
            argv.append("")
            whitespace = False
        assert cur is not None
        cur.append(ch)
        argv[-1] = "".join(cur)
        escaped = False
    return argv


NASTY = [
    'say "hi"', "two words", "back\\slash", 'end\\', "new\nline", "carriage\rreturn",
    "nul\0byte", "${SHELL}", "../../etc/passwd", "a,b|c", "\"\" \\\" ''", "\nHANGUP\n",
    "x\"\nEXEC System rm -rf /\n", "tab\there", "", " ", "ünïcødé 中文",
]


def on_the_wire(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ").replace("\0", " ")


@pytest.mark.parametrize("value", NASTY)
def test_quote_round_trips_through_parse_args(value):
    line = command_line("SET VARIABLE", "X", value)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert b"\r" not in line and b"\0" not in line
    assert parse_args(line.decode()[:-1]) == ["SET", "VARIABLE", "X", on_the_wire(value)]


@given(st.lists(st.text(alphabet=string.printable + "\0\u00e9\u4e2d", max_size=30), max_size=4))
@settings(max_examples=200, deadline=None)
def test_any_arguments_stay_one_line_and_round_trip(values):
    line = command_line("EXEC Dial", *values)
    assert line.count(b"\n") == 1
    assert parse_args(line.decode()[:-1]) == ["EXEC", "Dial", *map(on_the_wire, values)]


def test_quote_escapes_exactly():
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote("line\nbreak") == '"line break"'
    assert quote("") == '""'


def test_verb_with_a_line_break_or_too_long_is_refused():
    with pytest.raises(AgiArgumentError):
        command_line("NOOP\nHANGUP")
    with pytest.raises(AgiArgumentError, match="8191 bytes"):
        command_line("SET VARIABLE", "X", "y" * 9000)


def test_nasty_values_reach_the_peer_as_one_command_each():
    """Over a real socket: each command is exactly one line on the wire and
    the fake Asterisk reads back the value, whatever it held."""
    async def main():
        async with a_session() as (session, a_reader, a_writer):
            seen = []

            async def asterisk():
                for _ in NASTY:
                    line = await asyncio.wait_for(a_reader.readuntil(b"\n"), WAIT_S)
                    seen.append(parse_args(line.decode()[:-1]))
                    a_writer.write(b"200 result=1\n")
                    await a_writer.drain()

            task = asyncio.create_task(asterisk())
            for value in NASTY:
                reply = await session.command("SET VARIABLE", "X", value, timeout=WAIT_S)
                assert reply.value == 1
            await asyncio.wait_for(task, WAIT_S)
            # nothing more was sent: no value smuggled in a second command
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(a_reader.readuntil(b"\n"), 0.05)
        return seen

    seen = asyncio.run(main())
    assert seen == [["SET", "VARIABLE", "X", on_the_wire(v)] for v in NASTY]
