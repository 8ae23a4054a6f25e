"""What the tests of `ccf serve`'s limits share: small flows, a FlowServer
on 127.0.0.1 with a call store, a caller that holds its line, and how a
FastAGI connection ended (served, or turned away to the fallback)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from asterisk.centre import compiled, place, until  # noqa: F401 - for the tests here
from doubles.raw import ScriptBackend

from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.testing.peer.agi_caller import AgiCommand, CallerReport
from ccdsl.runtime.testing.via_asterisk import quiet_tts_command

WAIT_S = 10.0  # real seconds a test waits for what takes well under one

# answered, a wait (EXEC Wait, which a HeldCaller holds), hung up: no prompt,
# so no text-to-speech and no file is opened while the call runs
HOLD_FLOW = """\
flow hold:
  languages en-US

on start:
  answer
  wait 1s
  hangup
"""

# a recorded prompt this host cannot measure, as the call's first command
QUIET_FLOW = """\
flow quiet:
  languages en-US

on start:
  play file "welcome"
  hangup
"""


def flow_ir(folder: Path, text: str) -> dict:
    name = text.split(":", 1)[0].split()[1]
    path = folder / f"{name}.ccf"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return compiled(path)


class HeldCaller(ScriptBackend):
    """A caller whose `wait` lasts `hold_s` real seconds (the EXEC reply is
    held), so calls overlap as a burst of real callers' would."""

    def __init__(self, hold_s: float) -> None:
        super().__init__()
        self.hold_s = hold_s

    async def execute(self, cmd: AgiCommand) -> str | None:
        if cmd.verb == "EXEC":
            await asyncio.sleep(self.hold_s)
        return await super().execute(cmd)


def ending(report: CallerReport) -> str:
    """`served`: the flow ran to its hang-up; `turned away`: the server
    closed the connection without a command (Asterisk goes on after AGI(),
    at the fallback); anything else is `broken`."""
    if report.commands and report.commands[0] == "ANSWER" and report.commands[-1] == "HANGUP":
        return "served"
    if not report.commands and report.closed_by == "server":
        return "turned away"
    return "broken"


class ServerRig:
    """A FlowServer on 127.0.0.1 over `flows` (name -> IR) that gives every
    call `services` (whose history and sink are `store`); `results` keeps
    each call's CallResult by call id. Keyword arguments go to the
    FlowServer (max_calls, header_timeout_s, reply_limits)."""

    def __init__(self, tmp_path: Path, flows: dict[str, dict], store: CallStore,
                 services: Services, *, agents=lambda agent_id: None,
                 **server_options) -> None:
        self.store = store
        self.services = services
        self.results: dict[str, object] = {}
        self.server = FlowServer(
            StaticFlows({name: load_program(ir) for name, ir in flows.items()}),
            lambda info: self.services,
            AgiSettings(sounds_dir=str(tmp_path / "sounds"),
                        recordings_dir=str(tmp_path / "recordings")),
            port=0, tts=TtsRenderer(tmp_path / "tts-cache", quiet_tts_command()),
            agents=agents, clock=services.clock, on_call_ended=self._ended,
            **server_options)
        self.port = 0

    def _ended(self, running, result) -> None:
        self.results[running.info.call_id] = result

    async def __aenter__(self):
        _, self.port = await self.server.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.stop(1.0)
        self.store.close()


class Rig(ServerRig):
    """A ServerRig with a call store, no CRM and no agents."""

    def __init__(self, tmp_path: Path, flows: dict[str, dict], **server_options) -> None:
        store = CallStore(tmp_path / "calls.db")
        services = Services(clock=SystemClock(), crm=None,
                            centre=AmiCentre([], "PJSIP/{extension}"), history=store,
                            sink=store,
                            config=RuntimeConfig(recordings_dir=str(tmp_path / "recordings")))
        super().__init__(tmp_path, flows, store, services, **server_options)
