"""Test blocks run through `ccf serve`'s FastAGI server, with the test peer as Asterisk.

The world is the simulator's plus what Asterisk needs (docs/asterisk.md "Test blocks
through the FastAGI server"). Production code never imports it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
import struct
import tempfile
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.config import agi_script
from ccdsl.runtime.asterisk.files_undo import temp_path
from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import CallInfo, QueueRequest, QueueRing
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import ExternalError, InputError
from ccdsl.runtime.core.events import EventList, FanOut
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.store import StoreError
from ccdsl.runtime.sim import ScriptedCaller, SimCentre, SimChannel
from ccdsl.runtime.sim.faults import faulty_crm, http_transport, unanswered
from ccdsl.runtime.sim.scenario import CallRun, Scenario, WatchedCRM, scenario_centre
from ccdsl.runtime.sim.script import hours_zone
from ccdsl.runtime.sim.store_template import open_store
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine, PeerError
from ccdsl.runtime.testing.peer.ami_mixmonitor import mixmonitor_mute
from ccdsl.runtime.testing.peer.sim_backend import SimBackend, agent_leg
from ccdsl.runtime.testing.runner import TestResult, run_test

AUTO_EXTENSION_BASE = 7000
CALL_TIMEOUT_S = 60.0  # real seconds one call may take end to end before the test gives up
PEER_TIMEOUT_S = 30.0
RESULT_WAIT_S = 10.0  # from the end of a call the server took to its result: a hang bound


class _SwitchClock:
    """The server's clock: the virtual clock of the call now on the testbed
    (one call at a time), so one server serves scenarios that each start
    at their own `at`."""

    def __init__(self, start: datetime) -> None:
        self.target = VirtualClock(start)

    def now(self) -> datetime:
        return self.target.now()

    async def sleep(self, ms: int) -> None:
        await self.target.sleep(ms)


def silent_wav(path: str, ms: int = 100) -> str:
    """A short silent 8 kHz 16-bit mono WAV file (what the test TTS copies),
    written whole or not at all."""
    frames = 8 * ms
    data = b"\0\0" * frames
    header = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
              + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
              + b"data" + struct.pack("<I", len(data)))
    tmp = temp_path(path)
    with open(tmp, "wb") as handle:
        handle.write(header + data)
    os.replace(tmp, path)
    return path


def shared_tts_cache() -> str:
    """The TTS cache the test calls of this user share (the same command
    renders the same text once, across runs too)."""
    path = os.path.join(tempfile.gettempdir(), f"ccf-agi-tts-cache-{os.getuid()}")
    os.makedirs(path, exist_ok=True)
    return path


def quiet_tts_command() -> tuple[str, ...]:
    """A TTS command for tests: copies a short silent WAV (no speech engine
    needed); the text still reaches the renderer's cache sidecar, which is
    how the peer knows what was said. The WAV's path is fixed, so the
    command, and with it the cache key of a text, is the same every run."""
    wav = os.path.join(shared_tts_cache(), "silence.wav")
    if not os.path.exists(wav):
        silent_wav(wav)
    return ("cp", wav, "{out}")


def with_extensions(scenario: Scenario) -> Scenario:
    """The scenario with an extension for every agent (module doc)."""
    taken = {a.extension for a in scenario.agents if a.extension}
    agents = []
    for place, spec in enumerate(scenario.agents):
        if not spec.extension:
            number = AUTO_EXTENSION_BASE + place
            while str(number) in taken:
                number += 1
            taken.add(str(number))
            spec = dataclasses.replace(spec, extension=str(number))
        agents.append(spec)
    return dataclasses.replace(scenario, agents=tuple(agents))


@dataclasses.dataclass
class _Call:
    """What the server's side of the current call needs."""

    services: Services
    centre: SimCentre
    ended: asyncio.Future
    sim: SimChannel | None = None  # the peer's caller, whose channel AMI actions name
    # the server asked for the call's services: it runs the flow and will file a result
    taken: bool = False


class AgiTestbed:
    """A FlowServer for one flow, and calls into it as Asterisk makes them."""

    def __init__(self, program, ir: dict, *, workdir: str, tts_command: Sequence[str] | None = None,
                 tts_cache: str | None = None, store_path: str | None = None,
                 result_wait_s: float = RESULT_WAIT_S, stores=None) -> None:
        self.program = program
        self.ir = ir
        self.workdir = workdir
        self.flow = program.name  # the FastAGI path the calls ask for
        self.result_wait_s = result_wait_s
        self.clock = _SwitchClock(datetime.now().astimezone())
        self.settings = AgiSettings(sounds_dir=os.path.join(workdir, "sounds"),
                                    recordings_dir=os.path.join(workdir, "recordings"))
        self.tts = TtsRenderer(tts_cache or shared_tts_cache(),
                               tuple(tts_command) if tts_command else quiet_tts_command())
        try:
            # as run_scenario makes it
            self.store = open_store(store_path, workdir, timezone=hours_zone(ir), stores=stores)
        except (OSError, sqlite3.Error, ValueError, StoreError) as exc:
            raise InputError(f"the call store cannot be opened: {exc}") from None
        self.server = FlowServer(StaticFlows({self.flow: program}), self._services_for,
                                 self.settings, host="127.0.0.1", port=0, tts=self.tts,
                                 agents=self._agent, clock=self.clock,
                                 on_call_ended=self._ended)
        self.server.switch = self._switch  # the peer's AMI, for what AGI cannot do
        self.address: tuple[str, int] | None = None
        self.calls = 0
        self._call: _Call | None = None

    async def start(self) -> tuple[str, int]:
        self.address = await self.server.start()
        return self.address

    async def stop(self) -> None:
        await self.server.stop(grace_s=5.0)
        self.store.close()

    # -- the server's side ---------------------------------------------------------

    def _services_for(self, info: CallInfo) -> Services:
        if self._call is None:
            raise RuntimeError(f"call {info.call_id} arrived with no scenario on the testbed")
        self._call.taken = True
        return self._call.services

    def _ring(self, call_id: str, ring: QueueRing, request: QueueRequest) -> None:
        """A queue member's ring at the peer: what ccf serve's AMI link does
        with its AgentCalled / AgentRingNoAnswer (LiveCentre._on_event)."""
        self.server.hooks.ring((call_id,), ring)

    async def _switch(self, action: str, **headers: object) -> AmiMessage:
        """An AMI action of ccf serve's AMI link (a call's MixMonitorMute),
        answered by the peer as Asterisk 22 answers it."""
        texts = {k: str(v) for k, v in headers.items()}
        call = self._call
        if action.lower() == "mixmonitormute" and call is not None and call.sim is not None:
            return await mixmonitor_mute(call.sim, texts)
        if action.lower() == "mixmonitormute":
            return AmiMessage({"Response": "Error", "Message": "No such channel"})
        return AmiMessage({"Response": "Error", "Message": f"Invalid/unknown command: {action}. "
                                                           "Use Action: ListCommands to show "
                                                           "available commands."})

    def _agent(self, agent_id: str) -> Agent | None:
        return self._call.centre.agent(agent_id) if self._call is not None else None

    def _ended(self, running, result) -> None:
        call = self._call
        if call is not None and not call.ended.done():
            call.ended.set_result(result)

    # -- one call -------------------------------------------------------------------

    async def call(self, scenario: Scenario, *, sink=None) -> CallRun:
        """Run the scenario's call through the server; its events, the CRM
        record types it created and the interpreter's result."""
        if self.address is None:
            await self.start()
        host, port = self.address
        self.calls += 1
        folder = os.path.join(self.workdir, f"call-{self.calls}")
        os.makedirs(folder, exist_ok=True)
        try:
            crm = SqliteCRM(os.path.join(folder, "crm.db"))
        except (OSError, sqlite3.Error, ExternalError) as exc:
            raise InputError(f"the CRM cannot be opened: {exc}") from None
        try:
            try:
                for record_type, fields in scenario.crm:
                    crm.upsert(record_type, [dict(fields)])
            except ExternalError as exc:
                raise InputError(f"the CRM fixtures cannot be loaded: {exc}") from None
            return await self._call_with(scenario, crm, host, port, sink)
        finally:
            crm.close_now()

    async def _call_with(self, scenario: Scenario, crm, host: str, port: int,
                         sink) -> CallRun:
        scenario = with_extensions(scenario)
        clock = VirtualClock(scenario.start)
        self.clock.target = clock
        centre = scenario_centre(self.ir, scenario)
        uniqueid = f"{int(scenario.start.timestamp())}.{self.calls}"
        channel = f"PJSIP/caller-{self.calls:08x}"
        language = scenario.language or self.program.default_language or "en"
        # the dialplan passes a caller's language as ?lang= (call_info reads it),
        # and a flow named beyond ASCII percent-encoded (config.agi_script)
        flow = agi_script(self.flow)
        script = f"{flow}?lang={quote(scenario.language)}" if scenario.language else flow
        info = CallInfo(call_id=uniqueid, caller_number=scenario.caller,
                        caller_name=scenario.caller_name, dialled=scenario.dialled,
                        started=scenario.start, channel=channel, language=language)
        sim = SimChannel(info, clock, ScriptedCaller(scenario.actions), centre)
        backend = SimBackend(sim, sounds_dir=self.settings.sounds_dir,
                             agent_interface=self.settings.agent_interface,
                             answered=agent_leg(host, port, timeout=PEER_TIMEOUT_S,
                                                caller_number=scenario.caller,
                                                caller_name=scenario.caller_name or ""),
                             rings=self._ring)
        events = EventList()
        sinks = (events, self.store) if sink is None else (events, self.store, sink)
        config = RuntimeConfig(recordings_dir=self.settings.recordings_dir,
                               random_seed=scenario.seed)
        # ccf serve's CRM and HTTP, faulted as the test says (runtime/sim/faults.py)
        watched = WatchedCRM(faulty_crm(crm, scenario.faults, clock, config.crm_timeout_ms))
        transport = http_transport(scenario.faults, clock)
        services = Services(clock=clock, crm=watched, centre=centre, history=self.store,
                            sink=backend.watch(FanOut(*sinks)), config=config,
                            http_transport=transport)
        loop = asyncio.get_running_loop()
        self._call = _Call(services, centre, loop.create_future(), sim)
        line = CallerLine(script=script, channel=channel, uniqueid=uniqueid,
                          callerid=scenario.caller or None,
                          calleridname=scenario.caller_name or None,
                          dnid=scenario.dialled or None, language=language,
                          extension=scenario.dialled or "s")
        try:
            try:
                async with asyncio.timeout(CALL_TIMEOUT_S):
                    report = await AgiCaller(host, port, backend, line,
                                             timeout=PEER_TIMEOUT_S).run()
            except TimeoutError:
                raise InputError(f"the call over FastAGI did not end within "
                                    f"{CALL_TIMEOUT_S:g} s of real time") from None
            except PeerError as exc:
                raise InputError(f"the call over FastAGI failed: {exc}") from None
            # a call the server takes it asks services for before its first command, so
            # the server closing a connection it never took is known here, not guessed
            # from how long a result takes; a taken call's result follows its socket's end
            not_run = InputError(f"the server closed the FastAGI connection without "
                                 f"running flow {self.flow!r}")
            if report.closed_by == "server" and not self._call.taken:
                raise not_run
            try:
                result = await asyncio.wait_for(self._call.ended, self.result_wait_s)
            except TimeoutError:
                if not self._call.taken:
                    raise not_run from None
                raise InputError(f"the server ran flow {self.flow!r} but filed no result "
                                 f"within {self.result_wait_s:g} s of its end") from None
        finally:
            self._call = None
        return CallRun(events.events, watched.created, result, [], unanswered(transport),
                       sim.log.entries)


async def run_scenario_over_agi(program, ir: dict, scenario: Scenario, *, workdir: str,
                                sink=None, stores=None) -> CallRun:
    """runtime.sim.scenario.run_scenario, through `ccf serve` and the FastAGI
    peer (module doc)."""
    bed = AgiTestbed(program, ir, workdir=workdir, stores=stores)
    await bed.start()
    try:
        return await bed.call(scenario, sink=sink)
    finally:
        await bed.stop()


def run_test_over_agi(ir: dict, test: dict, program=None, stores=None) -> TestResult:
    """Run one test block over FastAGI and judge it as run_test does."""
    return run_test(ir, test, program=program, runner=run_scenario_over_agi, stores=stores)
