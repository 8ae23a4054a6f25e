"""Injection as tests: caller numbers, caller names and CRM values full of
quotes, spaces, backslashes, line breaks, NUL, `$`, `${...}`, commas,
pipes, `^`, parentheses and path separators travel end to end (the agi_
header -> the flow -> the CRM -> prompts, SAY, recordings, voicemail,
transfers) through a FlowServer on 127.0.0.1. Asserted on the exact bytes
the peer received: every command is one line Asterisk knows, no command
the flow did not ask for, each argument parses back to the value sent or
the op is refused with a clear error event; files appear only under the
configured folders."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from doubles.raw import ScriptBackend

from asterisk.centre import WAIT_S, until
from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.names import file_part
from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core import speech
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.core.values import Record
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine, find_command, parse_args
from ccdsl.runtime.testing.via_asterisk import quiet_tts_command

EVIL = [
    'say "hi"', "it's", "a b  c", "back\\slash\\", "line\nbreak", "cr\rhere", "nul\0here",
    "$HOME", "${SHELL(rm -rf /)}", "a,b,c", "x|y", "up^down", "(paren)", "../../etc/passwd",
    '"\nHANGUP\nEXEC System "touch /tmp/ccf-pwned', "+86 (1) x",
]
IDS = [f"v{i}" for i in range(len(EVIL))]

FLOW = """\
flow inject:
  languages en-US

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  record call
  who = caller.name ?? "nobody"
  play tts "Caller ${who} on ${caller.number}: ${customer.name}."
  voicemail for customer.owner on error -> log "no voicemail"
  transfer number customer.phone on error -> goto refused

step refused:
  play tts "The number cannot be dialled."
  say alpha customer.tier
  say digits caller.number  # the interpreter refuses text that is no digits
  hangup
"""


class EvilCRM:
    """Every caller is a customer whose fields are the evil value."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.asked: list[str] = []

    async def find_customer(self, phone: str):
        self.asked.append(phone)
        v = self.value
        return Record("customer", {"id": "C1", "name": v, "tier": v, "owner": v,
                                   "phone": v})

    async def log_call(self, call) -> None:
        return None

    async def close(self) -> None:
        return None


class Tap:
    """A relay between the peer and the server that keeps every byte the
    server sent (the peer's view of the wire)."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.received = bytearray()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def _relay(self, reader, writer) -> None:
        up_reader, up_writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self.target), WAIT_S)

        async def pipe(src, dst, keep: bool) -> None:
            try:
                while data := await src.read(65536):
                    if keep:
                        self.received.extend(data)
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


def compiled(tmp_path: Path) -> dict:
    path = tmp_path / "inject.ccf"
    path.write_text(FLOW, encoding="utf-8")
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    return result.ir


def files_under(root: Path) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}


async def one_call(tmp_path: Path, work: Path, value: str, *, callerid: str,
                   calleridname: str, uniqueid: str = "1795670000.1"):
    ir = compiled(tmp_path)
    store = CallStore(work / "calls.db")
    crm = EvilCRM(value)
    clock = SystemClock()
    recordings, cache = work / "recordings", work / "tts-cache"
    services = Services(clock=clock, crm=crm, centre=AmiCentre([], "PJSIP/{extension}"),
                        history=store, sink=store,
                        config=RuntimeConfig(recordings_dir=str(recordings)))
    results = {}
    server = FlowServer(StaticFlows({"inject": load_program(ir)}), lambda info: services,
                        AgiSettings(sounds_dir=str(work / "sounds"),
                                    recordings_dir=str(recordings)),
                        port=0, tts=TtsRenderer(cache, quiet_tts_command()),
                        agents=lambda agent_id: None, clock=clock,
                        on_call_ended=lambda call, result: results.update(r=result))
    _, port = await server.start()
    tap = Tap(port)
    await tap.start()
    try:
        line = CallerLine(script="inject", uniqueid=uniqueid, callerid=callerid,
                          calleridname=calleridname)
        backend = ScriptBackend()
        report = await AgiCaller("127.0.0.1", tap.port, backend, line, timeout=WAIT_S).run()
        # the server files the result as it closes the socket; no flow ran: nothing to file
        await until(lambda: "r" in results or server.served == 0, "the call's result filed")
        record = store.call(uniqueid)
        events = store.events(uniqueid)
    finally:
        await tap.stop()
        await server.stop(1.0)
        store.close()
    return bytes(tap.received), report, record, events, crm, results.get("r")


def header_safe(value: str) -> str:
    """What a caller id can carry in the agi_ block: a line break would end
    the header line (the header itself is tested on its own below)."""
    return value.replace("\n", " ")


@pytest.mark.parametrize("value", EVIL, ids=IDS)
def test_values_travel_end_to_end_without_breaking_a_command(value: str,
                                                            tmp_path: Path) -> None:
    work = tmp_path / "centre"
    work.mkdir()
    number = header_safe(value)
    before = files_under(tmp_path.parent)
    wire, report, record, events, crm, result = asyncio.run(
        one_call(tmp_path, work, value, callerid=number, calleridname=number))
    after = files_under(tmp_path.parent)

    # every command is one line Asterisk knows; nothing follows the last one
    assert wire.endswith(b"\n")
    lines = wire[:-1].split(b"\n")
    commands = []
    for raw in lines:
        text = raw.decode("utf-8")
        assert "\r" not in text and "\0" not in text, text
        spec, cmd = find_command(text)
        assert spec is not None and cmd is not None, text
        commands.append(cmd)
    assert [c.line for c in commands] == report.commands
    verbs = [c.verb for c in commands]
    # only what the flow asked for: answer, record, the prompt, the digits
    # and letters (SAY or text-to-speech), the voicemail, the refusal
    assert verbs[:2] == ["ANSWER", "EXEC"] and verbs[-1] == "HANGUP", verbs
    assert set(verbs) <= {"ANSWER", "EXEC", "STREAM FILE", "SAY DIGITS", "SAY ALPHA",
                          "RECORD FILE", "HANGUP", "SET CONTEXT", "SET EXTENSION",
                          "SET PRIORITY"}, verbs
    assert [c.args[0] for c in commands if c.verb == "EXEC"] == ["MixMonitor"]
    assert crm.asked == [number]  # the CRM got the number as the header carried it

    # what was spoken: each TTS file says exactly the text the flow made
    cache = str(work / "tts-cache")
    spoken = []
    for cmd in commands:
        if cmd.verb == "STREAM FILE" and cmd.args[0] != "beep":  # the voicemail's tone
            assert os.path.dirname(cmd.args[0]) == cache, cmd.line
            with open(cmd.args[0] + ".json", encoding="utf-8") as handle:
                spoken.append(json.load(handle)["text"])
    assert spoken[0] == f"Caller {number} on {number}: {value}."
    says = {c.verb: c.args[0] for c in commands if c.verb.startswith("SAY ")}
    if "SAY ALPHA" in says:
        assert says["SAY ALPHA"] == value
    else:
        # not printable: spoken by text-to-speech, letter by letter like SAY ALPHA
        assert spoken[-1] == speech.spoken("alpha", value, "en-US")
    errors = [e["data"]["message"] for e in events if e["kind"] == "error"]
    digits = number.lstrip("+").isdigit()
    if digits:
        assert says["SAY DIGITS"] == number
    else:
        assert "SAY DIGITS" not in says
        assert f"`say digits` cannot say text {number!r}".replace("'", '"') in errors \
            or any(m.startswith("`say digits` cannot say text") for m in errors), errors

    # the recording and the voicemail: files under the recordings folder only
    recordings = os.path.realpath(work / "recordings")
    [mix] = [c for c in commands if c.verb == "EXEC"]
    assert os.path.realpath(mix.args[1]).startswith(recordings + os.sep), mix.line
    [vm] = [c for c in commands if c.verb == "RECORD FILE"]
    assert parse_args(vm.line)[2:] == list(vm.args)
    assert os.path.realpath(vm.args[0]) == os.path.join(
        recordings, "voicemail", file_part(value), file_part("1795670000.1"))

    # the number cannot be dialled: refused before anything reached Asterisk
    assert "SET EXTENSION" not in verbs
    assert any("is not a phone number that can be dialled" in m for m in errors), errors
    assert "The number cannot be dialled." in spoken

    # a refused `say digits` ends the call as an error, with its record
    assert record is not None and record["outcome"] == ("hangup" if digits else "error")
    assert result is not None and result.outcome == record["outcome"]
    created = after - before
    allowed = ("recordings", "tts-cache", "calls.db")
    outside = [f for f in created
               if not os.path.relpath(f, os.path.relpath(work, tmp_path.parent))
               .startswith(allowed)
               and not f.endswith("inject.ccf")]
    assert outside == [], outside
    assert not (tmp_path.parent / "etc").exists() and not Path("/tmp/ccf-pwned").exists()


def test_a_dialable_crm_number_with_separators_reaches_asterisk_plain(tmp_path: Path) -> None:
    work = tmp_path / "centre"
    work.mkdir()
    wire, report, record, events, crm, result = asyncio.run(
        one_call(tmp_path, work, "+86 (21) 5000-1234", callerid="+8613800000001",
                 calleridname="Chen"))
    assert b'SET EXTENSION "+862150001234"\n' in wire
    assert record["outcome"] == "transfer"


@pytest.mark.parametrize("name", ["two\nlines", "x\n\nagi_extra: 1", "ends\n",
                                  "dup\nagi_callerid: 999"])
def test_a_line_break_in_the_header_never_becomes_a_command(name: str, tmp_path: Path) -> None:
    """A caller name with a line break breaks the agi_ block (res_agi
    sends it as it is): the server refuses the block or reads the rest as
    it can; it never sends a command built from it, and the next call runs."""
    work = tmp_path / "centre"
    work.mkdir()
    wire, report, record, events, crm, result = asyncio.run(
        one_call(tmp_path, work, "Chen", callerid="+8613800000001", calleridname=name))
    for raw in wire.split(b"\n"):
        if raw:
            spec, _ = find_command(raw.decode("utf-8"))
            assert spec is not None, raw
    assert b"agi_" not in wire and b"999" not in wire
    if record is not None:
        assert record["outcome"] is not None
    again = tmp_path / "again"
    again.mkdir()
    _, report2, record2, *_ = asyncio.run(
        one_call(tmp_path, again, "Chen", callerid="+8613800000001", calleridname="Chen",
                 uniqueid="1795670000.2"))
    assert record2["outcome"] == "transfer" or record2["outcome"] == "hangup"


def test_the_call_record_names_the_recording_file_mixmonitor_writes(tmp_path: Path) -> None:
    """Asterisk's uniqueids have a dot ("1795670000.1"); the call record's
    `recording` must be the file MixMonitor was told to write, or the
    recording can never be found from the record."""
    work = tmp_path / "centre"
    work.mkdir()
    wire, report, record, events, crm, result = asyncio.run(
        one_call(tmp_path, work, "Chen", callerid="+8613800000001", calleridname="Chen"))
    [mix] = [find_command(c)[1] for c in report.commands if c.startswith("EXEC MixMonitor")]
    assert record["recording"] == mix.args[1]
