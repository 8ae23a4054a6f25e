"""`[fastagi] hosts` with two real `ccf serve` FastAGI servers, the generated dialplan run as
Asterisk 22.10.1 ran it (docs/asterisk.md, "Tried on Asterisk 22.10.1 (2026-12-07)"): a call
handed back by the first worker goes to the fallback, never to the next worker, even when
Asterisk counted a failed command on it (a missing sound file leaves AGISTATUS=FAILURE); a
call the first worker does not take (full, or stopping) goes on to the next."""

from __future__ import annotations

import asyncio
import contextlib
import tomllib
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.config import config_from_document
from ccdsl.runtime.asterisk.config_servers import REACHED_VARIABLE
from ccdsl.runtime.asterisk.dialplan import EXTENSIONS_FILE, render_dialplan
from ccdsl.runtime.asterisk.flowstore import Bundle
from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim import SimCentre
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine
from ccdsl.runtime.testing.via_asterisk import quiet_tts_command
from tests.multi_server.dialplan_runner import AsteriskLine, run_extension

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "iws" / "ccf.toml"
FLOW = """\
flow hotline:
  languages en-US

prompt missing:
  en-US file "trial/not-there"

on start:
  answer
  play missing
  menu retries 0 timeout 20s:
    prompt missing
    1 -> hangup
    timeout, invalid -> hangup
    exhausted -> hangup
"""


def _program(tmp_path: Path):
    source = tmp_path / "hotline.ccf"
    source.write_text(FLOW, encoding="utf-8")
    result = compile_file(str(source))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    return result.ir, load_program(result.ir)


def _config(hosts: list[str]):
    doc = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["fastagi"] = {**doc["fastagi"], "hosts": hosts}
    doc["shutdown"] = {"fallback": "0@operators"}
    return config_from_document(doc, EXAMPLE, {})


def _server(tmp_path: Path, name: str, program, store: CallStore, failover: bool) -> FlowServer:
    work = tmp_path / name
    services = Services(clock=SystemClock(), crm=None, centre=SimCentre([]), history=store,
                        sink=store, config=RuntimeConfig(recordings_dir=str(work)))
    server = FlowServer(StaticFlows({"hotline": program}), lambda info: services,
                        AgiSettings(sounds_dir=str(work / "sounds"), recordings_dir=str(work)),
                        port=0, tts=TtsRenderer(work / "tts", quiet_tts_command()),
                        agents=lambda agent_id: None, clock=SystemClock(),
                        marks_reach=failover)  # as service.py does for [fastagi] hosts
    return server


@contextlib.asynccontextmanager
async def _two_workers(tmp_path: Path, ir: dict, program):
    """Two workers of one store started, and the inbound dialplan listing both in turn:
    (first, second, the extensions text, first's port, second's port)."""
    store = CallStore(tmp_path / "calls.db")
    first = _server(tmp_path, "w1", program, store, failover=True)
    second = _server(tmp_path, "w2", program, store, failover=True)
    try:
        _, port1 = await first.start()
        _, port2 = await second.start()
        config = _config([f"127.0.0.1:{port1}", f"127.0.0.1:{port2}"])
        text = render_dialplan(config, Bundle("test", {"hotline": ir},
                                              config.numbers))[EXTENSIONS_FILE]
        yield first, second, text, port1, port2
    finally:
        await first.stop(grace_s=0)
        await second.stop(grace_s=0)
        store.close()


def test_a_call_handed_back_after_a_missing_sound_goes_to_the_fallback(tmp_path: Path):
    ir, program = _program(tmp_path)

    async def main():
        async with _two_workers(tmp_path, ir, program) as (first, second, text, port1, _):
            waits = 0

            async def on_wait(line: AsteriskLine) -> str | None:
                nonlocal waits
                waits += 1
                if waits == 1:  # the first worker stops: its call is handed back
                    await first.stop(grace_s=0)
                    return None
                return line.hang_up()

            line = AsteriskLine(on_wait=on_wait)
            reached, went = await run_extension(text, "4008001234", line)
        return reached, went, line, second.served, port1

    reached, went, line, served_by_second, port1 = asyncio.run(main())
    # as Asterisk: the missing file failed a command, so the AGI ended with FAILURE ...
    assert "File trial/not-there does not exist in any format" in line.verbose
    assert line.variables["AGISTATUS"] == "FAILURE"
    # ... but the worker had taken the call: the dialplan goes on to the fallback
    assert reached == [f"agi://127.0.0.1:{port1}/hotline"] and served_by_second == 0
    assert went == "Goto(operators,0,1)"


def test_the_mark_is_the_first_command_only_with_several_hosts(tmp_path: Path):
    ir, program = _program(tmp_path)
    assert _config(["127.0.0.1:4573", "127.0.0.1:4574"]).workers.failover
    assert not _config(["127.0.0.1:4573"]).workers.failover

    async def first_command(failover: bool) -> str:
        store = CallStore(tmp_path / f"calls-{failover}.db")
        server = _server(tmp_path, f"w-{failover}", program, store, failover)
        _, port = await server.start()
        line = AsteriskLine(on_wait=_hang_up)
        try:
            report = await AgiCaller("127.0.0.1", port, line, CallerLine(script="hotline"),
                                     timeout=20).run()
        finally:
            await server.stop(grace_s=0)
            store.close()
        return report.commands[0], port

    marked, port = asyncio.run(first_command(True))
    assert marked == f'SET VARIABLE "{REACHED_VARIABLE}" "127.0.0.1:{port}"'
    assert asyncio.run(first_command(False))[0] == "ANSWER"  # one worker: as before


async def _hang_up(line: AsteriskLine) -> str:
    return line.hang_up()


def test_a_full_worker_passes_the_call_to_the_next(tmp_path: Path):
    """A worker at its max_calls takes no call: it marks the channel REFUSED_MARK and the
    dialplan tries the next worker, where one worker would have sent it to the fallback."""
    ir, program = _program(tmp_path)

    async def main():
        async with _two_workers(tmp_path, ir, program) as (full, second, text, port1, port2):
            full.max_calls = 0  # every call over its limit
            line = AsteriskLine(on_wait=_hang_up)
            reached, went = await run_extension(text, "4008001234", line)
        return reached, went, line, full, second.served, port1, port2

    reached, went, line, full, served_by_second, port1, port2 = asyncio.run(main())
    assert full.refused == 1 and served_by_second == 1
    assert reached == [f"agi://127.0.0.1:{port1}/hotline", f"agi://127.0.0.1:{port2}/hotline"]
    assert line.variables[REACHED_VARIABLE] == f"127.0.0.1:{port2}"
    assert went == "hung up"  # the caller hung up in the second worker's menu


def test_a_stopping_worker_passes_the_call_to_the_next(tmp_path: Path):
    ir, program = _program(tmp_path)

    async def main():
        async with _two_workers(tmp_path, ir, program) as (stopping, _, text, port1, port2):
            held = asyncio.Event()

            async def hold(line: AsteriskLine) -> str:
                await held.wait()
                return line.hang_up()

            first_call = asyncio.ensure_future(run_extension(text, "4008001234",
                                                             AsteriskLine(on_wait=hold)))
            await _until(lambda: stopping.calls)  # the first call runs on the first worker
            stop = asyncio.ensure_future(stopping.stop(grace_s=5))
            await _until(lambda: stopping.stopping)  # its call still running: a new one comes
            line = AsteriskLine(on_wait=_hang_up)
            try:
                reached, went = await run_extension(text, "4008001234", line)
            finally:
                held.set()
                await stop
                await first_call
        return reached, went, line, port1, port2

    reached, went, line, port1, port2 = asyncio.run(main())
    assert reached == [f"agi://127.0.0.1:{port1}/hotline", f"agi://127.0.0.1:{port2}/hotline"]
    assert line.variables[REACHED_VARIABLE] == f"127.0.0.1:{port2}"
    assert went == "hung up"


async def _until(check, limit_s: float = 10.0) -> None:
    async def wait() -> None:
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), limit_s)
