"""`ccf serve` with its console for the browser tests, on an event loop of its own thread.

A LiveCentre + ServedCentre from a ccf.toml written here (AMI: the AMI double, whose app_queue
rings the queue's members; FastAGI and the console on free ports), a SQLite CRM with one
customer, console users (agents zhang and li, supervisor sup with device 2001), and one caller
through the FastAGI peer who keys 1 in a menu, an order number, and queues for an agent.

The AMI double announces the call's channels as Asterisk does (the caller's at the join, the
member's as it rings, both bridged at the answer), so ccf serve's AMI mirror knows them. The
conversation lasts until the test calls `end_conversation()` (app_queue waits on a listener;
the peer's talk time is virtual and would otherwise end it at once).
"""

from __future__ import annotations

import asyncio
import textwrap
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from asterisk.centre import compiled, write_config
from doubles.ami_server import AmiPeer
from doubles.ami_sync import read_by

from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE, render_dialplan
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.console_users import new_user, save_users
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.sim.caller import Press
from ccdsl.runtime.sim.scenario import scenario_centre, simulation
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine
from ccdsl.runtime.testing.peer.app_queue import Phone
from ccdsl.runtime.testing.peer.sim_backend import SimBackend, agent_leg

SECRET = "browser-ami-secret"
PASSWORD = "correct horse battery"
DIALLED = "4008001234"
CALLER = "+8613800000001"
CALL_ID = "1797000000.21"
CALLER_CHANNEL = "PJSIP/trunk-00000021"
ORDER = "20261128"
SUPERVISOR_DEVICE = "2001"
WAIT_S = 10.0

FLOW = textwrap.dedent("""\
    flow desk:
      languages en-US

    queue service:
      skills [general]
      max_wait 120s
      ring 5s
      strategy "ringall"

    wrapup:
      reason: text
      resolved: bool
      order_number: text?

    prompt menu_choices:
      en-US tts "For an order's status press 1."

    prompt enter_order:
      en-US tts "Please enter your order number, followed by the hash key."

    on start:
      answer
      customer = crm.customer(phone: caller.number) on error -> customer = null
      record call
      goto main_menu

    step main_menu:
      menu retries 2 timeout 5s:
        prompt menu_choices
        1 -> goto order_lookup
        timeout, invalid -> goto agent
        exhausted -> goto agent

    step order_lookup:
      order_no = collect digits 6..10 end "#" timeout 10s retries 2 prompt enter_order
      goto agent

    step agent:
      queue service
      hangup

    on answered by agent:
      screen_pop customer, call
    """)

# both agents logged out at the start: Ready (from the desk) puts zhang in the queue
AGENTS = textwrap.dedent("""\
    [[agents]]
    id = "zhang"
    name = "Zhang Wei"
    extension = "8001"
    skills = { general = 8 }
    state = "offline"

    [[agents]]
    id = "li"
    name = "Li Na"
    extension = "8002"
    skills = { general = 6 }
    state = "offline"
    """)

CUSTOMER = {"id": "C1001", "name": "Chen Jing", "phone": CALLER, "tier": "gold",
            "owner": "zhang"}


def write_centre(folder: Path, ami_port: int, customer: dict[str, Any]) -> Path:
    """ccf.toml, the agents file, the users file and the CRM of the test centre."""
    (folder / "agents.toml").write_text(AGENTS, encoding="utf-8")
    save_users(folder / "console-users.json", {
        "zhang": new_user("zhang", "agent", PASSWORD, "Zhang Wei"),
        "li": new_user("li", "agent", PASSWORD, "Li Na"),
        "sup": new_user("sup", "supervisor", PASSWORD, "Sun Supervisor")})
    crm = SqliteCRM(folder / "crm.db")
    crm.upsert("customer", [customer])
    crm.close_now()
    return write_config(folder, ami_port, agents="agents.toml",
                        numbers=f'"{DIALLED}" = "desk"',
                        extra=f'[console]\nusers = "console-users.json"\n'
                              f'supervisor_devices = {{ sup = "{SUPERVISOR_DEVICE}" }}\n')


def desk_flow(folder: Path) -> dict:
    source = folder / "desk.ccf"
    source.write_text(FLOW, encoding="utf-8")
    return compiled(source)


class Centre:
    """ccf serve (AMI double, FastAGI, console) on a thread's event loop; the
    test drives the browser on its own thread and reads what happened here."""

    def __init__(self, folder: Path, *, customer: dict[str, Any] | None = None,
                 caller_name: str = "") -> None:
        self.folder = folder
        self.customer = customer or CUSTOMER
        self.caller_name = caller_name
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ccf-serve",
                                       daemon=True)
        self.peer: AmiPeer | None = None
        self.live: LiveCentre | None = None
        self.served: ServedCentre | None = None
        self.url = ""
        self.call_task: asyncio.Future | None = None
        self.connected = threading.Event()  # AgentConnect of the call was sent
        self._talking: asyncio.Event | None = None
        self.call_error: BaseException | None = None

    # -- life --------------------------------------------------------------------------

    def run(self, coro, timeout: float = WAIT_S):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> Centre:
        self.thread.start()
        self.run(self._start(), 30)
        return self

    async def _start(self) -> None:
        self._talking = asyncio.Event()
        peer = self.peer = AmiPeer(users={"ccf": SECRET}, queues=("ccf-service",))
        await peer.start()
        config = load_config(write_centre(self.folder, peer.port, self.customer),
                             environ={"CCF_AMI_SECRET": SECRET})
        self.config = config
        self.ir = desk_flow(self.folder)
        FlowStore(config.flows_dir).deploy({"desk": self.ir}, numbers=config.numbers,
                                           note="browser")
        # what `ccf deploy` writes to queues_ccf.conf, as app_queue reads it
        bundle = SimpleNamespace(flows={"desk": self.ir}, numbers=config.numbers)
        peer.app_queue.load_conf(render_dialplan(config, bundle)[QUEUES_FILE])
        # zhang's phone answers after a second of ringing (virtual time); li's never
        peer.app_queue.phones.update({"zhang": Phone(answer_after_ms=1_000, talk_ms=30_000),
                                      "li": Phone(answer_after_ms=None)})
        live = self.live = LiveCentre(config, port=0, api_port=0)
        served = self.served = ServedCentre(live)
        _, self.agi_port = await served.start()
        assert live.api_address is not None, live.api_error
        self.url = f"http://{live.api_address[0]}:{live.api_address[1]}"
        read_by(peer, live.ami)
        peer.app_queue.listeners.append(self._on_queue_event)

    def stop(self) -> None:
        try:
            if self._talking is not None:
                self.loop.call_soon_threadsafe(self._talking.set)
            if self.live is not None:
                self.run(self.live.stop(1.0), 20)
            if self.peer is not None:
                self.run(self.peer.stop(), 10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    # -- the call ----------------------------------------------------------------------

    def _on_queue_event(self, event: dict[str, object]):
        """At the call's AgentConnect (the double has bridged its channels by
        then): app_queue waits until the conversation ends."""
        if event.get("Event") != "AgentConnect" or event.get("Uniqueid") != CALL_ID:
            return None
        self.connected.set()
        assert self._talking is not None
        return self._talking.wait()

    def end_conversation(self) -> None:
        assert self._talking is not None
        self.loop.call_soon_threadsafe(self._talking.set)

    def place_call(self) -> None:
        """The caller dials in (on the centre's loop; returns at once)."""
        self.call_task = asyncio.run_coroutine_threadsafe(self._call(), self.loop)

    async def _call(self) -> None:
        peer, ir = self.peer, self.ir
        assert peer is not None
        agents = load_agents(str(self.folder / "agents.toml"))
        scenario = simulation(ir, caller=CALLER, dialled=DIALLED, agents=agents,
                              at="2026-12-07 10:00 UTC")
        info = CallInfo(call_id=CALL_ID, caller_number=CALLER,
                        caller_name=self.caller_name or None, dialled=DIALLED,
                        started=scenario.start, channel=CALLER_CHANNEL, language="en-US")
        caller = ScriptedCaller([Press("1"), Press(ORDER + "#")])
        sim = SimChannel(info, VirtualClock(scenario.start), caller,
                         scenario_centre(ir, scenario))
        backend = SimBackend(sim, app_queue=peer.app_queue,
                             answered=agent_leg("127.0.0.1", self.agi_port, timeout=60,
                                                caller_number=CALLER,
                                                caller_name=self.caller_name))
        line = CallerLine(script="desk", channel=CALLER_CHANNEL, uniqueid=CALL_ID,
                          callerid=CALLER, calleridname=self.caller_name or None,
                          dnid=DIALLED, language="en-US", extension=DIALLED)
        try:
            await AgiCaller("127.0.0.1", self.agi_port, backend, line, timeout=60).run()
        except BaseException as exc:
            self.call_error = exc
            raise

    def call_done(self, timeout: float = WAIT_S) -> None:
        assert self.call_task is not None
        self.call_task.result(timeout)

    # -- what happened -------------------------------------------------------------------

    def actions(self, name: str) -> list[dict]:
        assert self.peer is not None
        return [dict(a) for a in list(self.peer.actions) if a.get("Action") == name]

    def record(self) -> dict | None:
        assert self.live is not None and self.live.store is not None
        return self.run(self._record())

    async def _record(self):
        return self.live.store.call(CALL_ID)

    def until(self, check, what: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
            time.sleep(0.05)
