"""Queue() at a SimBackend: the simulated centre as the peer's app_queue, a call through it.

Builds an AppQueue from a scenario's SimCentre as `ccf deploy` would configure Asterisk, runs
EXEC Queue on it, and turns app_queue's events into what the flow learns of them (rings, the
centre's agent states). Must not decide who rings: app_queue.py and queue_call.py do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.dialplan import DialplanError, QueueSettings
from ccdsl.runtime.asterisk.in_queue import keys_context
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.channel import QueueRequest, QueueRing
from ccdsl.runtime.core.queues import QueueConfig
from ccdsl.runtime.sim.caller import KEYS
from ccdsl.runtime.sim.centre import SimCentre
from ccdsl.runtime.testing.peer.app_queue import AppQueue, Member, Phone
from ccdsl.runtime.testing.peer.queue_call import VARIABLES, run_queue
from ccdsl.runtime.testing.peer.queue_events import ChannelSnapshot

log = logging.getLogger("ccdsl.peer")

# the device state a scenario's agent state gives the member (a paused agent
# is a free device paused in every queue; a logged-off one is no member)
_STATUS = {AgentState.BUSY: "INUSE", AgentState.RINGING: "RINGING"}


def _decl(config: QueueConfig) -> dict:
    """The IR declaration of a queue whose options are the config's literals
    (what QueueSettings reads, so the section is the one deploy writes)."""
    options: dict = {"strategy": {"lit": config.strategy}, "autopause": {"lit": config.autopause}}
    if config.ring_ms is not None:
        options["ring"] = {"lit": config.ring_ms}
    if config.announce_position_ms:
        options["announce_position"] = {"every": {"lit": config.announce_position_ms}}
    if config.music:
        options["music"] = {"lit": config.music}
    if config.skills:
        options["skills"] = {"map": {s: {"lit": level} for s, level in config.skills.items()}}
    if config.messages and config.message_every_ms:
        options["messages"] = {"prompts": [{"ref": p, "kind": "prompt"} for p in config.messages],
                               "every": {"lit": config.message_every_ms}}
    options["announce_wait"] = {"lit": config.announce_wait}
    return {"options": options, "keys": {key: {} for key in config.keys}}


def queues_conf(centre: SimCentre, interface: str = "PJSIP/{extension}") -> str:
    """queues_ccf.conf for the centre's queues and agents, section by
    section as runtime/asterisk/dialplan.py writes it: the queue's settings,
    then a `member =>` line per logged-in agent with its skills."""
    out: list[str] = []
    for qualified, config in centre.queues.items():
        try:
            settings = QueueSettings.from_ir(qualified, _decl(config))
        except DialplanError:  # a music class queues.conf cannot hold: the default one
            settings = QueueSettings.from_ir(qualified, _decl(QueueConfig(
                config.name, config.skills, ring_ms=config.ring_ms,
                strategy=config.strategy, autopause=config.autopause)))
        members = []
        for agent in centre.members(dict(settings.skills or {})):
            try:
                device = names.agent_interface(interface, agent.id, agent.extension)
            except names.UnsafeValue as exc:
                log.warning("agent %s is no member of %s: %s", agent.id, settings.name, exc)
                continue
            members.append(f"{device},0,{agent.id}")
        out.append(f"[{settings.name}]")
        out.extend(line.text() for line in settings.lines(members))
    return "\n".join(out) + "\n"


def app_queue_of(centre: SimCentre, interface: str = "PJSIP/{extension}",
                 clock=None) -> AppQueue:
    """The centre as app_queue holds it after `ccf deploy`: its queues and
    static members; a busy agent's device in use, a paused one paused in
    every queue; each agent's phone answering as its script says."""
    app = AppQueue(clock=clock or centre.clock)
    app.load_conf(queues_conf(centre, interface))
    for qualified, config in centre.queues.items():  # extensions_ccf.conf's key contexts
        if config.keys:
            app.contexts[keys_context(names.queue_name(qualified))] = frozenset(config.keys)
    for agent in centre.agents():
        script = centre.scripts[agent.id]
        app.phones[agent.id] = Phone(script.answer_after_ms, script.talk_ms, script.ends)
        for queue in app.queues.values():
            member = next((m for m in queue.members.values() if m.name == agent.id), None)
            if member is None:
                continue
            if agent.state in _STATUS:
                app.set_device(member.state_interface, _STATUS[agent.state])
            if agent.state == AgentState.PAUSED:
                member.paused = True
    return app


class CentreMirror:
    """A listener that does to a SimCentre what app_queue's events say,
    as ccf serve's AmiCentre does to its pool: rung, rung out, paused,
    connected, free again; the call in the queue and out of it."""

    def __init__(self, centre: SimCentre, app: AppQueue, call_id: str, uniqueid: str,
                 priority: int = 0, skills: dict[str, int] | None = None) -> None:
        self.centre = centre
        self.app = app
        self.call_id = call_id
        self.uniqueid = uniqueid
        self.priority = priority
        self.skills = dict(skills or {})
        self.ir_queue = {names.queue_name(q): q for q in centre.queues}

    def __call__(self, event: dict[str, object]) -> None:
        kind, centre = event.get("Event"), self.centre
        queue = self.ir_queue.get(str(event.get("Queue", "")), str(event.get("Queue", "")))
        now = self.app.clock.now()
        if kind in ("QueueCallerJoin", "QueueCallerLeave"):
            if event.get("Uniqueid") == self.uniqueid:
                if kind == "QueueCallerJoin":
                    centre.join(queue, self.call_id, self.priority, now, self.skills)
                else:
                    centre.leave(queue, self.call_id)
            return
        agent = str(event.get("MemberName", ""))
        if centre.agent(agent) is None:
            return
        if kind == "AgentCalled":
            centre.offer([agent])
        elif kind == "AgentRingNoAnswer":
            centre.ring_out([agent])
        elif kind == "QueueMemberPause" and str(event.get("Paused")) == "1":
            everywhere = all(m.paused for _, m in self.app.memberships(str(event["Interface"])))
            centre.pause(queue, agent, everywhere=everywhere)
        elif kind == "AgentConnect":
            centre.connect(agent)
        elif kind == "AgentComplete":
            centre.release(agent, now)


RingReport = Callable[[QueueRing], Awaitable[None] | None]


def ring_reporter(uniqueid: str, report: RingReport) -> Callable[[dict[str, object]],
                                                                   Awaitable[None] | None]:
    """A listener that hands the caller's AgentCalled / AgentRingNoAnswer to
    `report` as QueueRings, as ccf serve's AMI link does (service.queue_ring);
    what report returns is awaited before the queue goes on."""

    def listen(event: dict[str, object]) -> Awaitable[None] | None:
        kind = event.get("Event")
        if kind not in ("AgentCalled", "AgentRingNoAnswer") or event.get("Uniqueid") != uniqueid:
            return None
        agent = str(event.get("MemberName", ""))
        if kind == "AgentCalled":
            return report(QueueRing(agent, "ringing"))
        return report(QueueRing(agent, "no_answer", int(str(event.get("RingTime", 0)))))

    return listen


# -- EXEC Queue at a SimBackend --------------------------------------------------------

FOREVER_MS = 24 * 3_600_000


async def exec_queue(backend: Any, fields: list[str], gosub: list[str] | None) -> str:
    """EXEC Queue's reply at a SimBackend (Queue()'s arguments split, its
    `ccf-answered` gosub found): app_queue runs on the backend's app_queue,
    made from its simulated centre at the first Queue() when none was
    given; the variables it sets are the line's. The flow's rings go to
    the backend's `rings` (no AMI double), and its centre follows."""
    for name in VARIABLES:
        # queue_exec unsets ABANDONED and the like, but never QUEUESTATUS: a key
        # exit leaves the one an earlier Queue() set (ccf serve clears it first)
        if name != "QUEUESTATUS":
            backend.variables.pop(name, None)
    app = backend.app_queue
    if app is None:
        app = backend.app_queue = app_queue_of(backend.sim.centre, backend.agent_interface,
                                               clock=backend.clock)
    if fields[0] not in app.queues:
        # app_queue would set QUEUESTATUS=UNKNOWN (queue_exec: join_queue
        # failed, reason unknown); the peer has always left it unset, which
        # ccf serve reads as a queue missing from queues.conf either way
        backend.variables.pop("QUEUESTATUS", None)
        return "200 result=0"
    timeout = fields[4].strip() if len(fields) > 4 else ""
    prio = _leading_int(backend.variables.get("QUEUE_PRIO", "")) or 0  # sscanf %d
    caller = caller_snapshot(backend)
    config = backend.queues.get(fields[0])
    listeners: list = [CentreMirror(backend.sim.centre, app, backend.sim.info.call_id,
                                    caller.uniqueid, prio,
                                    dict(config.skills) if config is not None else {})]
    if backend.rings is not None and config is not None:
        request = _request(backend, config, prio, timeout)
        call_id, rings = backend.sim.info.call_id, backend.rings
        listeners.append(ring_reporter(caller.uniqueid,
                                       lambda ring: rings(call_id, ring, request)))
    app.listeners.extend(listeners)
    try:
        got = await run_queue(app, fields[0], caller, SimQueueLine(backend, gosub),
                              timeout_s=(_leading_int(timeout) or 0) if timeout else None,
                              prio=prio)
    finally:
        for listener in listeners:
            app.listeners.remove(listener)
    backend.variables.update(got.variables)
    if got.goto is not None:  # valid_exit's ast_goto_if_exists: where the dialplan goes on
        backend.context, backend.extension = got.goto
    return f"200 result={got.result}"


def _leading_int(text: str) -> int | None:
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else None


def _request(backend: Any, config: QueueConfig, prio: int, timeout: str) -> QueueRequest:
    """The flow's request as the ring reports carry it."""
    limit = _leading_int(timeout)
    return QueueRequest(
        queue=config.name, priority=prio, skills=dict(config.skills),
        max_wait_ms=limit * 1000 if limit is not None else None,
        music=backend.variables.get("CHANNEL(musicclass)") or config.music,
        announce_position_ms=config.announce_position_ms, strategy=config.strategy,
        ring_ms=config.ring_ms, autopause=config.autopause)


def caller_snapshot(backend: Any) -> ChannelSnapshot:
    """The caller's channel as AMI events show it: the AGI's channel, its
    Uniqueid (ccf serve's call id) and place in the dialplan, from the agi_
    variables the line sent; its connected line is its caller, as captured."""
    env = backend.environment
    number = backend.caller_number or "<unknown>"
    name = backend.caller_name or "<unknown>"
    uniqueid = env.get("agi_uniqueid") or backend.sim.info.call_id
    priority = _leading_int(env.get("agi_priority", "")) or 1
    return ChannelSnapshot(
        backend.channel, uniqueid, uniqueid, context=env.get("agi_context", ""),
        exten=env.get("agi_extension", "s"), priority=priority,
        state=6 if backend.answered else 4, caller_num=number, caller_name=name,
        connected_num=number, connected_name=name, language=backend.language)


class SimQueueLine:
    """The QueueLine of a SimBackend: the simulated caller's clock and
    hang-up, and the `ccf-answered` gosub on the member's channel."""

    def __init__(self, backend: Any, gosub: list[str] | None) -> None:
        self.backend = backend
        self.gosub = gosub

    def now(self) -> datetime:
        return self.backend.clock.now()

    async def pass_ms(self, ms: int | None) -> None:
        # keys pressed meanwhile are lost, as in Queue() without a context to exit to
        self.backend.sim._pass(FOREVER_MS if ms is None else ms)

    async def wait_digit(self, ms: int) -> str | None:
        return self.backend.sim._pass(ms, accept=_any_key)

    async def play(self, file: str) -> str | None:
        sound = self.backend.sound_of(file)
        return None if sound is None else self.backend.sim._hear(sound, KEYS)

    async def answered(self, member: Member, channel: ChannelSnapshot) -> None:
        """The gosub's AGI on the member's channel. app_queue passes it the
        call id only, so ccf serve finds the agent by that channel; the test
        world's server (`ccf test --via asterisk`) has no AMI mirror to map
        channels, so there, where the scenario knows the agent, it is named."""
        backend, gosub = self.backend, self.gosub
        leg = backend.answered_leg
        if leg is None:
            return
        call_id = gosub[1] if gosub and len(gosub) > 1 else ""
        agent = member.name if backend.sim.centre.agent(member.name) is not None else ""
        if getattr(leg, "takes_channel", False):
            await leg(call_id, agent, channel=channel.name)
        else:
            await leg(call_id, agent or "-")

    def caller_ends(self) -> None:
        self.backend.sim._end("caller")


def _any_key(key: str) -> bool:
    return True
