"""`ccf serve --simulate`: the console over a simulated centre, for demos, training and tests.

Generated callers run the flows in real time; the agents file's agents answer by themselves
except those a person is logged in to the console as. Must not reach a phone system.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ccdsl.runtime.asterisk.callback import SimOriginator, make_plan, run_callback
from ccdsl.runtime.console.app import build_app
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.flow_pictures import FlowDrawings
from ccdsl.runtime.console.serve import keep_pops
from ccdsl.runtime.console.web_server import WebServer
from ccdsl.runtime.core.events import FanOut
from ccdsl.runtime.core.ir import Program
from ccdsl.runtime.core.services import RuntimeConfig
from ccdsl.runtime.operations.agent_desk import AgentDesk
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.operations.callback_dialler import POLL_S, CallbackDialler, QueueLine
from ccdsl.runtime.operations.callback_hold import Holds
from ccdsl.runtime.operations.callback_policy import DEFAULT_POLICY, CallbackPolicy
from ccdsl.runtime.operations.callback_rows import CallbackRows
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.console_users import User, new_user, save_users
from ccdsl.runtime.operations.held_wrapups import HeldSaves
from ccdsl.runtime.operations.live_calls import StatusTracker
from ccdsl.runtime.operations.live_feed import LiveFeed
from ccdsl.runtime.operations.screenpop import ScreenPop
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_runs import this_process
from ccdsl.runtime.operations.wrapup import WrapupDesk
from ccdsl.runtime.sim.live_centre import SimLiveCentre

log = logging.getLogger("ccdsl.serve")

DEMO_SUPERVISOR = "supervisor"
MIN_POLL_S = 0.05  # the dialler's shortest look interval, however fast the centre runs


@dataclass
class SimOptions:
    calls_per_minute: float = 4.0
    speed: float = 1.0
    seed: int = 0
    start_at: datetime | None = None  # the centre's clock starts there (None: now)
    host: str = "127.0.0.1"
    port: int = 8573
    callbacks: CallbackPolicy = DEFAULT_POLICY  # in-queue call-backs' retries ([callbacks])
    customer_answer_ms: int | None = 5000  # a called-back customer answers after (None: never)


def demo_users(folder: Path, agents: Sequence[AgentSpec]) -> tuple[str, dict[str, str]]:
    """A users file for a demo: every agent and a supervisor, each with a
    fresh random password (shown once, at start); its path and the passwords."""
    passwords = {spec.id: secrets.token_urlsafe(9) for spec in agents}
    passwords[DEMO_SUPERVISOR] = secrets.token_urlsafe(9)
    users: dict[str, User] = {
        uid: new_user(uid, "supervisor" if uid == DEMO_SUPERVISOR else "agent", pw)
        for uid, pw in passwords.items()}
    path = folder / "console-users.json"
    save_users(path, users)
    return str(path), passwords


class _Each:
    """Sends events to the sinks a list holds when they come (the desk is made later)."""

    def __init__(self, sinks: list) -> None:
        self.sinks = sinks

    def emit(self, event) -> None:
        for sink in self.sinks:
            sink.emit(event)


@dataclass
class SimulatedConsole:
    """start() -> the console's (host, port); stop()."""

    flows: Mapping[str, Program]
    agents: Sequence[AgentSpec]
    crm: object
    store: CallStore
    settings: ConsoleSettings
    options: SimOptions = field(default_factory=SimOptions)
    agents_path: str | None = None
    recordings_dir: str = ""
    timezone: str | None = None
    drawings: FlowDrawings | None = None  # the Flows page's, made by the cli
    centre: SimLiveCentre | None = field(default=None, init=False)
    web: WebServer | None = field(default=None, init=False)
    ctx: ConsoleContext | None = field(default=None, init=False)
    dialler: CallbackDialler | None = field(default=None, init=False)
    _dialling: asyncio.Task | None = field(default=None, init=False)
    _held: HeldSaves | None = field(default=None, init=False)  # wrap-ups stored at calls' end

    async def start(self) -> tuple[str, int]:
        store = self.store
        feed = LiveFeed()
        tracker = StatusTracker()

        def record(kind: str, data: dict, call_id: str | None) -> None:
            # the centre's own clock, as its calls' events: reports put them side by side
            store.record_centre_event("console", kind, data, centre.clock.now(),
                                      call_id=call_id)

        pop = ScreenPop(None, crm=self.crm, history=store.recent_calls)
        desks: list[AgentDesk] = []  # the desk, once made: it needs the centre as control
        line = QueueLine()  # who waits in each queue: an in-queue call-back's turn
        sink = FanOut(store, tracker, pop, _Each(desks), line)
        sessions = []  # the console's sessions, once the app is built

        def person(agent: str) -> bool:
            """Whether a person is logged in to the console as the agent."""
            return bool(sessions) and any(s.agent == agent for s in sessions[0].users())

        centre = SimLiveCentre(
            dict(self.flows), self.agents, crm=self.crm, sink=sink,
            calls_per_minute=self.options.calls_per_minute, seed=self.options.seed,
            human=person, speed=self.options.speed,
            agents_path=self.agents_path, history=store,
            new_call_id=lambda: store.reserve_call_id("sim-", centre.clock.now()), record=record,
            tracker=tracker, config=RuntimeConfig(recordings_dir=self.recordings_dir or None),
            start_at=self.options.start_at, callbacks=self._call_back)
        desk = AgentDesk({a.id: "logged_out" if a.state in ("offline", "logged_off",
                                                            "logged off") else "ready"
                          for a in self.agents},
                         control=centre, feed=feed, record=record, now=centre.clock.now,
                         reasons=self.settings.pause_reasons,
                         autopaused=lambda queue: queue in centre.queues
                         and centre.queues[queue].autopause != "no")
        desks.append(desk)
        centre.wrapped_up = desk.wrapped_up
        wrapups = WrapupDesk(store, self.crm, lambda flow, version: (
            self.flows[flow].doc if flow in self.flows else None),
            running=lambda call_id: call_id in centre.calls, now=centre.clock.now,
            on_unsaved=desk.wrapup_unsaved)

        # a wrap-up saved while its call ran is stored at its end, as ccf serve's (service.py)
        self._held = held = HeldSaves(wrapups)
        centre.ended = held.call_ended

        async def wrapup(call_id, body):
            outcome = await wrapups.submit(call_id, body)
            return outcome.status, outcome.body

        self.ctx = ctx = ConsoleContext(
            mode="simulated", status=centre.status, desk=desk, control=centre, feed=feed,
            store=store, wrapup=wrapup, settings=self.settings,
            agents=centre.centre.agents, recordings_dir=self.recordings_dir,
            timezone=self.timezone, now=centre.clock.now, flows_drawn=self.drawings)
        pop.on_pop = keep_pops(ctx)
        app = build_app(ctx)
        sessions.append(app.state.sessions)
        self.centre = centre
        self.web = WebServer(app, host=self.options.host, port=self.options.port)
        address = await self.web.start()
        await centre.start()
        if self.options.callbacks.enabled:
            self.dialler = CallbackDialler(
                CallbackRows(store.path, this_process()), self.options.callbacks, line,
                agents=centre.centre.agents,
                place=lambda request, agent: centre.callback(request.call_id, agent,
                                                             number=request.number),
                now_ms=lambda: int(centre.clock.now().timestamp() * 1000),
                # once a second of the centre's time, as ccf serve's: a faster centre's
                # free agents are not all taken by waiting callers between two looks
                poll_s=max(MIN_POLL_S, POLL_S / max(self.options.speed, 1.0)),
                holds=Holds(centre.pauses, centre.hold_member))
            self._dialling = asyncio.get_running_loop().create_task(self.dialler.run())
        return address

    async def _call_back(self, call_id: str, spec: AgentSpec,
                         number: str | None = None) -> dict:
        """A call-back in the simulated centre (`ccf callback`'s plan and run,
        its SimOriginator on the centre's clock): nobody's phone rings."""
        assert self.centre is not None
        plan = await make_plan(self.store, call_id, spec.id, [spec], number=number)
        originator = SimOriginator(self.centre.clock,
                                   customer_answer_ms=self.options.customer_answer_ms)
        outcome = await run_callback(plan, originator, self.store, now=self.centre.clock.now,
                                     source="sim")
        result = outcome.result
        return {"call_id": call_id, "agent": spec.id, "number": plan.number,
                "status": result.status, "reason": result.reason,
                "steps": [text for _, text in result.steps],
                **{k: result.details[k] for k in ("dial_status",) if k in result.details}}

    async def stop(self) -> None:
        if self._dialling is not None:
            self._dialling.cancel()
            await asyncio.gather(self._dialling, return_exceptions=True)
        if self.dialler is not None:
            await self.dialler.drain()
            await self.dialler.release()  # no member stays held for a call-back
            self.dialler.rows.close()
        if self.web is not None:
            self.web.app.state.stopping.set()
            await self.web.stop()
        if self.centre is not None:
            await self.centre.stop()  # every call ends: what waited for its end is stored
        if self._held is not None:
            await self._held.stop()
