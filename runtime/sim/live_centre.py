"""The simulated centre in real time for `ccf serve --simulate`: callers, agents, CentreControl.

Must not import Asterisk code or the console. Calls run as the simulator runs them (SimChannel,
SimCentre), paced to the clock by live_channel.py; agents a person drives answer from the browser.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.channel import CallInfo, QueueRequest
from ccdsl.runtime.core.clock import Clock, SystemClock
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.events import EventSink
from ccdsl.runtime.core.interpreter import run_call
from ccdsl.runtime.core.ir import Program
from ccdsl.runtime.core.queues import QueueConfig, queue_configs
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.agent_desk import WRAPUP_REASON
from ccdsl.runtime.operations.agents_file import AgentSpec, save_skills
from ccdsl.runtime.operations.callback_hold import HOLD_REASON
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.live_calls import StatusTracker
from ccdsl.runtime.operations.status_doc import iso, status_document
from ccdsl.runtime.sim.centre import SimCentre, spec_agent
from ccdsl.runtime.sim.channel import StepWatch
from ccdsl.runtime.sim.live_channel import LiveChannel
from ccdsl.runtime.sim.live_control import CallActions
from ccdsl.runtime.sim.live_in_queue import InQueueChoices, caller_rng, queue_keys
from ccdsl.runtime.sim.live_parts import (
    CallStream,
    Changes,
    FlowKeys,
    GeneratedCaller,
    Offer,
    ScaledClock,
    flow_keys,
    wait_any,
)

AUTO_WRAPUP_MS = 5_000  # an automatic agent's wrap-up form takes this long to fill


class _NoHistory:
    def last_agent(self, phone: str, since: datetime | None = None) -> str | None:
        return None


class SimLiveCentre(CallActions):
    """A simulated centre running in real time (module doc); a CentreControl.

    flows: flow name -> Program; agents: the agents file's; crm: a CRM (the
    simulator's SqliteCRM: its `customer` records give callers' numbers);
    sink: where every call's events go; clock: the real clock (speed makes
    it run faster, for tests); human(agent): whether a person in the browser
    drives that agent now. Optional: agents_path (set_skills saves there),
    history (the call store, for `last_agent`), new_call_id (the store's
    reserve_call_id), record(kind, data, call_id) (a centre event row),
    callbacks(voicemail_call_id, agent) (what `ccf callback` runs; see callback()),
    tracker (the StatusTracker the sink feeds; status() reads it), start_at
    (the centre's time starts there and runs on: office hours on a Sunday).
    """

    mode = "simulated"

    def __init__(self, flows: Mapping[str, Program], agents: Sequence[AgentSpec], *, crm: Any,
                 sink: EventSink, clock: Clock | None = None, calls_per_minute: float = 6.0,
                 seed: int = 0, human: Callable[[str], bool] = lambda agent: False,
                 speed: float = 1.0, agents_path: str | None = None, history: Any = None,
                 new_call_id: Callable[[], str] | None = None,
                 record: Callable[[str, dict, str | None], None] | None = None,
                 callbacks: Callable[[str, AgentSpec], Awaitable[dict]] | None = None,
                 tracker: StatusTracker | None = None, talk_s: tuple[float, float] = (30, 180),
                 patience_s: tuple[float, float] = (60, 300), max_calls: int = 50,
                 config: RuntimeConfig | None = None, start_at: datetime | None = None) -> None:
        self.flows = {name: p for name, p in flows.items() if p.handler("start") is not None}
        if not self.flows:
            raise InputError("none of the flows has an `on start` handler: nothing to call")
        self.clock = ScaledClock(clock or SystemClock(), speed, start_at)
        self.rng = random.Random(seed)
        self.human = human
        self.sink, self.crm, self.tracker = sink, crm, tracker
        self.history = history or _NoHistory()
        self.record, self.callbacks, self.agents_path = record, callbacks, agents_path
        self.calls_per_minute, self.max_calls = calls_per_minute, max_calls
        self.talk_s, self.patience_s = talk_s, patience_s
        self.config = config or RuntimeConfig()
        self.queues: dict[str, QueueConfig] = {}
        for program in self.flows.values():
            self.queues.update(queue_configs(program.doc))
        self.keys: dict[str, FlowKeys] = {n: flow_keys(p.doc) for n, p in self.flows.items()}
        self.queue_keys = {n: queue_keys(p.doc) for n, p in self.flows.items()}
        self.seed = seed
        self.specs = {spec.id: spec for spec in agents}
        self.centre = SimCentre(
            [spec_agent(spec, self._queues_for(spec.skills)) for spec in agents],
            queues=self.queues.values(), seed=seed, clock=self.clock)
        self.changed = Changes()
        self.offers: dict[str, Offer] = {}  # agent -> the offer ringing it
        self.calls: dict[str, LiveChannel] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.served = 0
        self.started: datetime | None = None
        self.wrapped_up: Callable[[str, str], Awaitable[None]] | None = None  # the desk's
        # told each call's end once it left `calls` (the console stores held wrap-ups)
        self.ended: Callable[[str], None] | None = None
        self._pause_reason: dict[str, str | None] = {}
        self._last_call: dict[str, str] = {}
        self._numbers = self._customer_numbers()
        self._stopping = asyncio.Event()
        self._generator: asyncio.Task | None = None
        self._helpers: set[asyncio.Task] = set()
        self._next_id = 0
        self._new_call_id = new_call_id

    def _queues_for(self, skills: Mapping[str, int]) -> tuple[str, ...]:
        """The queues whose skills the agent has: its memberships, as on Asterisk."""
        return tuple(sorted(name for name, queue in self.queues.items()
                            if all(skills.get(s, -1) >= lvl for s, lvl in queue.skills.items())))

    def _customer_numbers(self) -> list[str]:
        try:
            records = self.crm.records("customer")
        except Exception:  # noqa: BLE001 - a CRM without a customer table: unknown callers
            return []
        return [str(r.fields["phone"]) for r in records if r.fields.get("phone")]

    # -- running -----------------------------------------------------------------------

    async def start(self) -> None:
        self.started = self.clock.now()
        self._stopping.clear()
        if self.calls_per_minute > 0:
            self._generator = asyncio.get_running_loop().create_task(self._generate())

    async def stop(self, wait_s: float = 10.0) -> None:
        """No new calls; every call in progress ends now (hung up), its
        `on hangup` and record written: each leaves a call_ended event."""
        self._stopping.set()
        if self._generator is not None:
            await asyncio.gather(self._generator, return_exceptions=True)
        for channel in list(self.calls.values()):
            channel.kill("centre")
        tasks = list(self.tasks.values()) + list(self._helpers)
        if tasks:
            await asyncio.wait(tasks, timeout=wait_s)

    async def _generate(self) -> None:
        rate = self.calls_per_minute / 60_000  # calls per ms of the centre's time
        while not self._stopping.is_set():
            gap = self.rng.expovariate(rate)
            await wait_any([self._stopping], self.clock.seconds(gap))
            if not self._stopping.is_set() and len(self.calls) < self.max_calls:
                self.place_call()

    def place_call(self, flow: str | None = None, caller: str | None = None,
                   keys: Any = None) -> str:
        """Start one call now; its id. `keys` (a ScriptedCaller) replaces the
        generated caller (tests)."""
        name = flow or self.rng.choice(sorted(self.flows))
        if name not in self.flows:
            raise ControlError(f"no flow {name!r} in this centre", 404)
        if caller is None:
            unknown = not self._numbers or self.rng.random() < 0.3
            caller = (f"+86139{self.rng.randrange(10**8):08d}" if unknown
                      else self.rng.choice(self._numbers))
        if keys is None:
            keys = GeneratedCaller(self.keys[name], self.rng,
                                   patience_ms=int(self.rng.uniform(*self.patience_s) * 1000),
                                   in_queue=InQueueChoices(
                                       self.queue_keys[name],
                                       caller_rng(self.seed, self._next_id + 1)))
        self._next_id += 1
        call_id = self._new_call_id() if self._new_call_id else f"live-{self._next_id}"
        info = CallInfo(call_id=call_id, caller_number=caller, caller_name=None, dialled="",
                        started=self.clock.now(), channel=f"sim-live/{self._next_id}")
        stream = CallStream(self.sink, call_id, self.clock)
        channel = LiveChannel(info, keys, self, stream)
        self.calls[call_id] = channel
        services = Services(clock=self.clock, crm=self.crm, centre=self.centre,
                            history=self.history, sink=StepWatch(stream, channel),
                            config=self.config)
        task = asyncio.get_running_loop().create_task(self._run(name, channel, services))
        self.tasks[call_id] = task
        return call_id

    async def _run(self, flow: str, channel: LiveChannel, services: Services) -> None:
        call_id = channel.info.call_id
        try:
            await run_call(self.flows[flow], channel, services)
        finally:
            if channel.agent is not None:
                self.release(channel.agent)
            for party in channel.parties:
                self.release(party)
            self.calls.pop(call_id, None)
            self.tasks.pop(call_id, None)
            self.served += 1
            self.changed.notify()
            if self.ended is not None:
                self.ended(call_id)

    # -- what the calls' lines ask of the centre ---------------------------------------

    def settle(self) -> None:
        self.centre.settle(self.clock.now())
        for agent in self._pause_reason:
            if self.centre.pool.get(agent).state == AgentState.AVAILABLE:
                self.centre.pool.update(agent, state=AgentState.PAUSED)

    def release(self, agent: str) -> None:
        """A conversation with the agent ended: free after its wrap-up time."""
        if self.centre.pool.get(agent).state == AgentState.BUSY:
            self.centre.release(agent, self.clock.now())
        self.settle()
        self.changed.notify()

    def talk_ms(self, agent: str) -> int:
        return int(self.rng.uniform(*self.talk_s) * 1000)

    def queue_request(self, queue: str) -> QueueRequest:
        q = self.queues[queue]
        return QueueRequest(queue=q.name, priority=q.priority, skills=dict(q.skills),
                            max_wait_ms=q.max_wait_ms, music=q.music, announce_position_ms=None,
                            strategy=q.strategy, ring_ms=q.ring_ms, autopause="no")

    # -- a person answering ------------------------------------------------------------

    def answer(self, agent: str, call_id: str | None = None) -> str:
        """The desktop's Answer button: the agent takes the call ringing it
        (the given one). The call's id."""
        self._spec(agent)
        offer = self.offers.get(agent)
        if offer is None or (call_id is not None and offer.call_id != call_id):
            raise ControlError(f"no call is ringing agent {agent}"
                               + (f" as call {call_id}" if call_id else ""))
        if not offer.take(agent):
            raise ControlError(f"call {offer.call_id} was taken by agent {offer.winner}")
        return offer.call_id

    simulated_answer = answer

    # -- CentreControl: agents ---------------------------------------------------------

    def _spec(self, agent: str) -> AgentSpec:
        if agent not in self.specs:
            raise ControlError(f"no agent {agent!r} in the agents file", 404)
        return self.specs[agent]

    def _state(self, agent: str) -> AgentState:
        self._spec(agent)
        return self.centre.pool.get(agent).state

    async def agent_login(self, agent: str) -> None:
        if self._state(agent) == AgentState.LOGGED_OFF:
            self._pause_reason.pop(agent, None)
            self.centre.pool.set_state(agent, AgentState.AVAILABLE, self.clock.now())
            self.centre.unpause(agent)
            self.changed.notify()

    async def agent_logout(self, agent: str) -> None:
        state = self._state(agent)
        if state in (AgentState.BUSY, AgentState.RINGING):
            raise ControlError(f"agent {agent} is {state.value}: log out after the call")
        self._pause_reason.pop(agent, None)
        self.centre.unpause(agent)
        self.centre.pool.update(agent, state=AgentState.LOGGED_OFF)
        self.changed.notify()

    async def agent_pause(self, agent: str, paused: bool, reason: str | None) -> None:
        state = self._state(agent)
        if state == AgentState.LOGGED_OFF:
            raise ControlError(f"agent {agent} is logged out: log in first")
        if paused:
            self._pause_reason[agent] = reason
            if state == AgentState.AVAILABLE:
                self.centre.pool.update(agent, state=AgentState.PAUSED)
            if reason == WRAPUP_REASON and not self.human(agent):
                self._spawn(self._auto_wrapup(agent, self._last_call.get(agent)))
        else:
            self._pause_reason.pop(agent, None)
            if state == AgentState.PAUSED:
                self.centre.pool.set_state(agent, AgentState.AVAILABLE, self.clock.now())
            self.centre.unpause(agent)
        self.changed.notify()

    def pauses(self) -> dict[tuple[str, str], str]:
        """(queue, agent) -> why each member is paused in a queue: held for a
        call-back (HOLD_REASON), Auto-Pause, or the agent's own pause."""
        found: dict[tuple[str, str], str] = {}
        for agent in self.centre.pool.agents():
            if agent.state == AgentState.LOGGED_OFF:
                continue
            for queue in agent.queues:
                if agent.id in self._pause_reason:
                    found[(queue, agent.id)] = self._pause_reason[agent.id] or ""
                elif agent.id in self.centre.held.get(queue, ()):
                    found[(queue, agent.id)] = HOLD_REASON
                elif self.centre.is_paused(queue, agent.id):
                    found[(queue, agent.id)] = "Auto-Pause"
        return found

    async def hold_member(self, queue: str, agent: str, on: bool) -> None:
        """Pause (on) or unpause one member in one queue for a call-back: the
        queue rings it no more; its call and its state are untouched."""
        held = self.centre.held.setdefault(queue, set())
        if on:
            held.add(agent)
        else:
            held.discard(agent)
        self.changed.notify()

    async def _auto_wrapup(self, agent: str, call_id: str | None) -> None:
        """An automatic agent fills its wrap-up form, then is ready."""
        await wait_any([self._stopping], self.clock.seconds(AUTO_WRAPUP_MS))
        if self._pause_reason.get(agent) != WRAPUP_REASON:
            return
        if self.wrapped_up is not None and call_id is not None:
            await self.wrapped_up(agent, call_id)
        if self._pause_reason.get(agent) == WRAPUP_REASON:
            await self.agent_pause(agent, False, None)

    async def set_skills(self, agent: str, skills: dict[str, int]) -> None:
        spec = self._spec(agent)
        try:
            levels = {str(k): int(v) for k, v in skills.items()}
        except (TypeError, ValueError, AttributeError):
            raise ControlError("skills are a map of skill -> level (0..10)", 400) from None
        if any(not 0 <= v <= 10 for v in levels.values()) or any(not k for k in levels):
            raise ControlError("skill levels run from 0 to 10, and a skill has a name", 400)
        if self.agents_path is not None:
            try:
                await asyncio.to_thread(save_skills, self.agents_path, agent, levels)
            except InputError as exc:
                raise ControlError(f"the agents file was not saved: {exc}", 409) from None
        self.specs[agent] = replace(spec, skills=levels)
        self.centre.pool.update(agent, skills=levels, queues=self._queues_for(levels))
        self.changed.notify()

    # -- reading -----------------------------------------------------------------------

    def status(self, version: str | None = None) -> dict[str, Any]:
        """What GET /status shows (runtime/operations/status_doc.py)."""
        self.settle()
        calls = self.tracker.running() if self.tracker is not None else []
        members = {q.name: self.centre.members(q.skills) for q in self.queues.values()}
        server = {"version": version, "started": iso(self.started),
                  "calls_served": self.served, "ami": "off", "mode": self.mode}
        return status_document(calls=calls, agents=self.centre.agents(), members=members,
                               waiting=self.centre.queue_waiting, server=server,
                               now=self.clock.now())

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._helpers.add(task)
        task.add_done_callback(self._helpers.discard)
