"""Hostile AGI replies over real sockets (issue 11, item 10): a FastAGI client on
127.0.0.1 answers `ccf serve`'s FlowServer as Asterisk would, except for one command,
which gets a result Asterisk never sends (a huge number, a negative one, letters, a
code that is no key). Each is a protocol error with a defined outcome: the command's
ExternalError (the call's `on error`, else the call ends as `error`), a warning naming
the command and the reply with its control characters escaped, never an internal error
or a traceback, and never keys the caller did not press."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from asterisk.centre import WAIT_S, compiled, until
from doubles import logs

from ccdsl.runtime.asterisk.agi import AgiProtocolError, parse_reply
from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import EventList
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.testing.via_asterisk import quiet_tts_command

caplog_ccdsl = logs.caplog_ccdsl  # the fixture
problems = logs.problems

FLOW = """\
flow replies:
  languages en-US

on start:
  answer
  x = collect digits 1..4 timeout 2s retries 0 prompt file "enter"
  log "got ${x}"
  say number 42
  wait 1s
  voicemail for "desk"
  hangup
"""

WITH_HANDLER = FLOW + """
on error:
  play file "sorry"
  hangup
"""

# what Asterisk answers the commands of FLOW when all goes well
GOOD = {"ANSWER": "200 result=0", "STREAM FILE": "200 result=0 endpos=0",
        "WAIT FOR DIGIT": "200 result=0", "SAY NUMBER": "200 result=0",
        "EXEC": "200 result=0", "RECORD FILE": "200 result=0 (timeout) endpos=0",
        "GET VARIABLE": "200 result=0", "SET VARIABLE": "200 result=1",
        "CHANNEL STATUS": "200 result=6", "HANGUP": "200 result=1"}


class NoHistory:
    def last_agent(self, phone, since=None):
        return None


class NoCentre:
    def agent(self, agent_id):
        return None

    def agents(self):
        return []

    def queue_waiting(self, queue):
        return 0

    def queue_expected_wait_ms(self, queue):
        return 0


def reply_to(command: str, hostile: dict[str, str]) -> str:
    """The reply to one command line: the first hostile reply whose verb
    starts it (each given once), else Asterisk's."""
    for verb in list(hostile):
        if command.startswith(verb):
            return hostile.pop(verb)
    return next((r for v, r in GOOD.items() if command.startswith(v)), "200 result=0")


async def raw_call(port: int, answer: Callable[[str], str]) -> list[str]:
    """One call as Asterisk places it: the agi_ block, then a reply to each
    command until the server closes. The command lines sent, in order."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    header = {"agi_network": "yes", "agi_network_script": "replies", "agi_request":
              "agi://127.0.0.1/replies", "agi_channel": "PJSIP/caller-00000001",
              "agi_language": "en", "agi_uniqueid": "1796000000.1",
              "agi_callerid": "+8613800000001", "agi_calleridname": "Caller",
              "agi_context": "ccf-inbound", "agi_extension": "4008001234",
              "agi_priority": "2", "agi_enhanced": "0.0"}
    writer.write(("".join(f"{k}: {v}\n" for k, v in header.items()) + "\n").encode())
    commands: list[str] = []
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), WAIT_S)
            if not line:
                return commands
            command = line.decode().rstrip("\n")
            commands.append(command)
            writer.write((answer(command) + "\n").encode("utf-8", "surrogateescape"))
            await writer.drain()
    finally:
        writer.close()


def run(tmp_path: Path, flow: str, hostile: dict[str, str]):
    """The call's commands, events and result, with these replies."""
    source = tmp_path / "replies.ccf"
    source.write_text(flow, encoding="utf-8")
    program = load_program(compiled(source))
    events = EventList()
    results = []

    async def main():
        crm = SqliteCRM(tmp_path / "crm.db")
        services = Services(clock=SystemClock(), crm=crm, centre=NoCentre(),
                            history=NoHistory(), sink=events,
                            config=RuntimeConfig(recordings_dir=str(tmp_path / "rec")))
        server = FlowServer(
            StaticFlows({"replies": program}), lambda info: services,
            AgiSettings(sounds_dir=str(tmp_path / "sounds"),
                        recordings_dir=str(tmp_path / "rec")),
            port=0, tts=TtsRenderer(tmp_path / "tts", quiet_tts_command()),
            agents=lambda agent_id: None, clock=SystemClock(),
            on_call_ended=lambda call, result: results.append(result))
        _, port = await server.start()
        try:
            left = dict(hostile)
            commands = await raw_call(port, lambda c: reply_to(c, left))
            await until(lambda: results, "the server to file the call's result")
        finally:
            await server.stop(1.0)
            crm.close_now()
        return commands

    commands = asyncio.run(main())
    assert results, "the server filed no result for the call"
    return commands, events.events, results[0]


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def keys_pressed(events) -> list[str]:
    return [e.data.get("keys") for e in events if e.kind == "keys"]


# ---- the good call, for comparison ---------------------------------------------------------


def test_a_call_with_asterisks_own_replies_ends_well(tmp_path, caplog_ccdsl) -> None:
    commands, events, result = run(tmp_path, FLOW, {})
    verbs = [c.split(" ")[0] for c in commands]
    assert verbs[0] == "ANSWER" and commands[-1] == "HANGUP"
    assert any(c.startswith("WAIT FOR DIGIT") for c in commands)
    assert any(c.startswith("SAY NUMBER") for c in commands)
    assert any(c.startswith("EXEC Wait") for c in commands)
    assert any(c.startswith("RECORD FILE") for c in commands)
    assert result.outcome == "hangup" and result.error is None
    assert problems(caplog_ccdsl) == []


# ---- a result that is no answer to the command ----------------------------------------------

HOSTILE = [
    ("WAIT FOR DIGIT", "200 result=99999999999", "a number far beyond any key"),
    ("WAIT FOR DIGIT", "200 result=" + "9" * 5000, "more digits than int() takes"),
    ("WAIT FOR DIGIT", "200 result=-5", "a negative number other than -1"),
    ("WAIT FOR DIGIT", "200 result=abc", "letters"),
    ("WAIT FOR DIGIT", "200 result=", "nothing"),
    ("WAIT FOR DIGIT", "200 result=5", "a control character's code"),
    ("WAIT FOR DIGIT", "200 result=1114112", "beyond Unicode"),
    ("WAIT FOR DIGIT", "200 result=69", "E: no DTMF key"),
    ("WAIT FOR DIGIT", "200 result=\x1b[31m", "an escape sequence"),
    ("STREAM FILE", "200 result=65 endpos=0", "A, not among the escape digits"),
    ("STREAM FILE", "200 result=1234567 endpos=0", "no key at all"),
    ("ANSWER", "200 result=7", "ANSWER answers 0 or -1"),
    ("SAY NUMBER", "200 result=53", "a key, though SAY was given no escape digits"),
    ("EXEC Wait", "200 result=zero", "an application's result in words"),
    ("RECORD FILE", "200 result=99999999 (timeout) endpos=0", "more time left than asked"),
    ("RECORD FILE", "200 result=-9 (hangup) endpos=0", "a negative number other than -1"),
]


@pytest.mark.parametrize(("verb", "reply", "what"), HOSTILE,
                         ids=[f"{v}:{w}" for v, _, w in HOSTILE])
def test_a_result_asterisk_never_sends_is_a_protocol_error(tmp_path, caplog_ccdsl, verb, reply,
                                                           what) -> None:
    commands, events, result = run(tmp_path, FLOW, {verb: reply})
    assert result.outcome == "error", (what, result)
    assert verb in (result.error or "")
    assert "internal error" not in result.error
    shown = reply[:60].replace("\x1b", "\\x1b")
    assert shown in result.error
    errors = [e.data for e in events if e.kind == "error"]
    assert errors and all(e.get("kind") != "internal" for e in errors), errors
    assert commands[-1] == "HANGUP"  # the line is hung up, as after Asterisk's refusal
    said = [w for w in warnings(caplog_ccdsl) if "Asterisk" in w and verb in w]
    assert said and verb in said[0] and shown in said[0], warnings(caplog_ccdsl)
    assert all("\x1b" not in w for w in warnings(caplog_ccdsl))
    assert problems(caplog_ccdsl) == []
    if verb in ("WAIT FOR DIGIT", "STREAM FILE"):
        assert keys_pressed(events) == [], "a bad result became keys"


def test_the_flows_on_error_runs_and_the_line_still_works(tmp_path, caplog_ccdsl) -> None:
    commands, events, result = run(tmp_path, WITH_HANDLER,
                                   {"WAIT FOR DIGIT": "200 result=99999999999"})
    handlers = [e.data["handler"] for e in events if e.kind == "handler_entered"]
    assert handlers == ["start", "error"]
    assert commands[-2].startswith('STREAM FILE "sorry"') and commands[-1] == "HANGUP"
    assert result.outcome == "error" and "WAIT FOR DIGIT" in result.error
    assert problems(caplog_ccdsl) == []


GARBLED = [("WAIT FOR DIGIT", "200 result=1 (unfinished"),
           ("STREAM FILE", "200 result=0 endpos=" + "9" * 5000),
           ("ANSWER", "999 what")]


@pytest.mark.parametrize(("verb", "reply"), GARBLED, ids=[v for v, _ in GARBLED])
def test_a_garbled_reply_line_ends_the_call_as_an_error(tmp_path, caplog_ccdsl, verb,
                                                        reply) -> None:
    """Not a reply one can read: the session cannot be trusted after it (a
    late reply would answer the wrong command), so nothing more is sent,
    not even the handler's commands, and the connection closes (Asterisk's
    dialplan goes on after AGI()); still an error with a record, never an
    internal one."""
    commands, events, result = run(tmp_path, WITH_HANDLER, {verb: reply})
    assert commands[-1].startswith(verb)
    assert result.outcome == "error" and verb in result.error
    assert all(e.data.get("kind") != "internal" for e in events if e.kind == "error")
    assert any(verb in w for w in warnings(caplog_ccdsl))
    assert problems(caplog_ccdsl) == []


def test_a_bad_result_of_channel_status_is_an_error(tmp_path, caplog_ccdsl) -> None:
    # STREAM FILE's -1 makes the line ask CHANNEL STATUS whether the caller is there
    commands, events, result = run(tmp_path, FLOW, {"STREAM FILE": "200 result=-1 endpos=0",
                                                    "CHANNEL STATUS": "200 result=-7"})
    assert "CHANNEL STATUS" in commands
    assert result.outcome == "error" and "CHANNEL STATUS" in result.error
    assert problems(caplog_ccdsl) == []


def test_a_bad_result_of_get_variable_is_an_error(tmp_path, caplog_ccdsl) -> None:
    flow = FLOW.replace("  wait 1s\n", "  queue service\n").replace(
        "on start:", "queue service skills [general] max_wait 20s\n\non start:")
    commands, events, result = run(tmp_path, flow, {"GET VARIABLE": "200 result=7 (x)"})
    assert any(c.startswith("GET VARIABLE") for c in commands)
    assert result.outcome == "error" and "GET VARIABLE" in result.error
    assert problems(caplog_ccdsl) == []


# ---- what Asterisk may send is taken as it is ---------------------------------------------------


def test_a_b_c_d_are_keys_a_wait_for_digit_may_return(tmp_path, caplog_ccdsl) -> None:
    _, events, result = run(tmp_path, FLOW, {"WAIT FOR DIGIT": "200 result=65"})
    assert keys_pressed(events)[0] == "A"
    assert result.error is None and result.outcome == "hangup"
    assert problems(caplog_ccdsl) == []


def test_a_key_that_stops_a_prompt_is_taken(tmp_path, caplog_ccdsl) -> None:
    _, events, result = run(tmp_path, FLOW, {"STREAM FILE": "200 result=49 endpos=800"})
    assert keys_pressed(events)[0] == "1"
    assert result.error is None


def test_record_files_silence_result_is_the_time_left(tmp_path, caplog_ccdsl) -> None:
    # RECORD FILE with silence detection answers the milliseconds left (a capture
    # of Asterisk 22: `200 result=4985 (timeout) endpos=8160`)
    _, _, result = run(tmp_path, FLOW, {"RECORD FILE": "200 result=4985 (timeout) endpos=8160"})
    assert result.error is None


# ---- the reply parser itself ----------------------------------------------------------------


@pytest.mark.parametrize("result", ["99999999999", "9" * 5000, "-2147483649", "2147483648"])
def test_a_result_beyond_a_c_int_has_no_value(result) -> None:
    assert parse_reply(f"200 result={result}").value is None


def test_an_endpos_beyond_any_file_is_a_protocol_error() -> None:
    with pytest.raises(AgiProtocolError, match="endpos"):
        parse_reply("200 result=0 endpos=" + "9" * 5000)
    assert parse_reply("200 result=0 endpos=9223372036854775807").endpos == 2 ** 63 - 1


@pytest.mark.parametrize("held", ["9" * 5000, "99999999999999999999"])
def test_queue_variables_beyond_any_number_are_unknown(tmp_path, caplog_ccdsl, held) -> None:
    """GET VARIABLE's value is Asterisk's text: a queue position or hold time
    too long for a number is no number (and no overflow of the clock)."""
    flow = FLOW.replace("  wait 1s\n", "  queue service\n").replace(
        "on start:", "queue service skills [general] max_wait 20s\n\non start:")
    _, events, result = run(tmp_path, flow, {
        "GET VARIABLE QUEUESTATUS": "200 result=0",
        "GET VARIABLE QUEUEPOSITION": f"200 result=1 ({held})",
        "GET VARIABLE MEMBERNAME": "200 result=1 (li)",
        "GET VARIABLE QEHOLDTIME": f"200 result=1 ({held})"})
    assert all(e.data.get("kind") != "internal" for e in events if e.kind == "error"), \
        [e.data for e in events if e.kind == "error"]
    assert [e.data["agent"] for e in events if e.kind == "agent_answered"] == ["li"]
    assert [e.data["position"] for e in events if e.kind == "queue_left"] == [0]
    assert result.agent == "li" and result.error is None
    assert problems(caplog_ccdsl) == []
