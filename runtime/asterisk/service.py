"""Everything `ccf serve` runs, wired from a ccf.toml: stores, CRM, TTS, AMI, API, FastAGI server.

Asterisk down at start is normal: calls are served and the link keeps retrying
(docs/asterisk.md "4. Serve"). Must not import the simulator or the testing floor.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from ccdsl.runtime.asterisk import limits
from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.agi_timeouts import ReplyLimits
from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.ami_keep import AmiEventKeeper
from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage
from ccdsl.runtime.asterisk.ami_union import CentreUnion
from ccdsl.runtime.asterisk.api_advertise import Advertised, reachable_here
from ccdsl.runtime.asterisk.config import CentreConfig
from ccdsl.runtime.asterisk.config_servers import servers_of
from ccdsl.runtime.asterisk.console_control import AsteriskControl
from ccdsl.runtime.asterisk.flowstore import FlowStore, FlowStoreError
from ccdsl.runtime.asterisk.flowstore_db import DbFlowStore, flow_store_for
from ccdsl.runtime.asterisk.live_status import StatusTracker, snapshot
from ccdsl.runtime.asterisk.names import queue_name
from ccdsl.runtime.asterisk.queue_callbacks import asterisk_dialler
from ccdsl.runtime.asterisk.server import FlowServer, RunningCall
from ccdsl.runtime.asterisk.tts import DEFAULT_COMMAND, TtsRenderer
from ccdsl.runtime.asterisk.worker_presence import WorkerPresence
from ccdsl.runtime.core.centre import Agent, AgentState, parse_state
from ccdsl.runtime.core.channel import CallInfo, QueueRing
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.crm.config import CrmConfigError
from ccdsl.runtime.core.crm.connect import open_crm
from ccdsl.runtime.core.errors import ExternalError, IRError
from ccdsl.runtime.core.events import FanOut
from ccdsl.runtime.core.interpreter import CallResult
from ccdsl.runtime.core.ir import Program, load_program
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.agent_desk import AgentDesk
from ccdsl.runtime.operations.callback_dialler import CallbackDialler, QueueLine
from ccdsl.runtime.operations.held_wrapups import HeldSaves
from ccdsl.runtime.operations.live_feed import LiveFeed
from ccdsl.runtime.operations.screenpop import PopTarget, ScreenPop
from ccdsl.runtime.operations.store import CallStore, StoreError
from ccdsl.runtime.operations.store_runs import this_process
from ccdsl.runtime.operations.workers import WorkerRows
from ccdsl.runtime.operations.wrapup import WrapupDesk

log = logging.getLogger("ccdsl.serve")

POLL_S = 1.0  # how often a new call may look for a newly deployed version
RECONCILE_S = 15.0  # how often a worker closes the calls of workers that died meanwhile
AMI_RETRY_S = (1.0, 30.0)  # first retry and cap while Asterisk cannot be reached at start
# how long a store query (a screen pop's recent calls) may wait for rows just
# queued, while the store writes well; a locked store is read as it is
STORE_READ_WAIT_S = 0.25
# at stop, how long a call-back being dialled may take to end (its agent rings 30 s, the
# customer 60 s): its outcome is stored; past that, the next start closes it
DIAL_DRAIN_S = 100.0


class StoreFlows:
    """The flows of the flow store's current version. A new call looks for
    a newly deployed version (at most every POLL_S seconds; one stat); a call
    in progress keeps the Program it started with, so a redeploy never
    changes a running call. A version that cannot be loaded is logged and
    the previous one stays in service."""

    def __init__(self, store: FlowStore, *, poll_s: float = POLL_S) -> None:
        self.store = store
        self.poll_s = poll_s
        self.version: str | None = None
        self.programs: dict[str, Program] = {}
        # of the version in service, worked out as it is loaded (queues(), autopaused())
        self._queues: dict[str, dict[str, int]] = {}
        self._autopause: dict[str, bool] = {}
        self.on_change: Callable[[], None] | None = None  # after a new version is in service
        self._checked = 0.0
        # flows in the call store's database are a round trip away: looked for by the tick
        # in a thread (and at once on the store's NOTIFY), never by a new call on the loop
        self._remote = isinstance(store, DbFlowStore)
        self.reload()

    def reload(self) -> bool:
        """Load the current version; True when it changed."""
        self._checked = time.monotonic()
        try:
            bundle = self.store.current()
        except FlowStoreError as exc:
            log.error("the flow store cannot be read: %s; keeping version %s", exc, self.version)
            return False
        return self._take(bundle)

    async def refresh_now(self) -> bool:
        """A deploy was heard of (the store's NOTIFY): the version read in a thread, never on
        the event loop, and taken into service here; True when it changed."""
        self._checked = time.monotonic()
        try:
            bundle = await asyncio.to_thread(self.store.current)
        except FlowStoreError as exc:
            log.error("the flow store cannot be read: %s; keeping version %s", exc, self.version)
            return False
        return self._take(bundle)

    def _take(self, bundle) -> bool:
        if bundle is None or bundle.version == self.version:
            return False
        programs: dict[str, Program] = {}
        try:
            for name, ir in bundle.flows.items():
                programs[name] = load_program(ir)
        except IRError as exc:
            log.error("deployed version %s cannot run: %s; keeping version %s",
                      bundle.version, exc, self.version)
            return False
        previous, self.version, self.programs = self.version, bundle.version, programs
        self._queues, self._autopause = {}, {}
        for program in programs.values():
            for name, queue in queue_configs(program.doc).items():
                self._queues[queue_name(name)] = dict(queue.skills)
                self._autopause.setdefault(name, queue.autopause != "no")
        log.info("flows of version %s in service (%s)%s", bundle.version,
                 ", ".join(sorted(programs)) or "no flows",
                 f", replacing version {previous}" if previous else "")
        if self.on_change is not None:
            self.on_change()
        return True

    def refresh(self) -> bool:
        """Take a newly deployed version into service, looking at most every
        poll_s seconds (a stat of the folder store); True when one was taken."""
        if self._remote or time.monotonic() - self._checked < self.poll_s:
            return False
        self._checked = time.monotonic()
        return self.store.changed() and self.reload()

    async def poll(self) -> bool:
        """refresh(), with a database flow store read in a thread."""
        if not self._remote:
            return self.refresh()
        if time.monotonic() - self._checked < self.poll_s:
            return False
        self._checked = time.monotonic()
        return await asyncio.to_thread(self.store.changed) and await self.refresh_now()

    def lookup(self, script: str) -> tuple[str, Program] | None:
        self.refresh()
        program = self.programs.get(script)
        if program is None or self.version is None:
            return None
        return self.version, program

    def queues(self) -> dict[str, dict[str, int]]:
        """Asterisk queue name -> the skills its members need, for every
        queue of the flows in service (read it; do not change it)."""
        return self._queues

    def autopaused(self, queue: str) -> bool:
        """Whether app_queue pauses a member of this flow queue who lets a
        call ring out (the first flow in service that has the queue says)."""
        return self._autopause.get(queue, False)

    def ir_queues(self) -> list[str]:
        return sorted({q for p in self.programs.values() for q in (p.doc.get("queues") or {})})

    def ir_of(self, flow: str, version: str | None) -> dict | None:
        """The IR a call of `flow` ran: that of its deployed version when
        the store still has it, else the one in service."""
        if version:
            try:
                found = self.store.get(version).flows.get(flow)
            except FlowStoreError:
                found = None
            if found is not None:
                return dict(found)
        program = self.programs.get(flow)
        return program.doc if program is not None else None


class StartError(Exception):
    """`ccf serve` cannot start with this configuration; the message says
    what to fix."""


def configured_agents(config: CentreConfig) -> list[Agent]:
    return [Agent(id=spec.id, name=spec.name or spec.id, extension=spec.extension,
                  skills=dict(spec.skills), state=parse_state(spec.state))
            for spec in config.agents.agents]


@dataclass
class LiveCentre:
    """The running centre: start(), then stop() on SIGTERM."""

    config: CentreConfig
    host: str | None = None  # overrides of [fastagi]
    port: int | None = None
    use_ami: bool = True
    api_port: int | None = None  # override of [api] port (the console's web server reads it)
    # the console's web server (runtime/console/serve.py) sets these three
    api: object | None = field(default=None, init=False)  # its gate counts refusals
    api_address: tuple[str, int] | None = field(default=None, init=False)
    api_error: str | None = field(default=None, init=False)  # why the API is not listening
    # stops it once calls have drained, before the store closes (a wrap-up may still come)
    stop_web: Callable[[], Awaitable[None]] | None = field(default=None, init=False)
    tracker: StatusTracker = field(default_factory=StatusTracker, init=False)
    feed: LiveFeed = field(default_factory=LiveFeed, init=False)
    desk: AgentDesk | None = field(default=None, init=False)
    control: AsteriskControl | None = field(default=None, init=False)
    screen_pop: ScreenPop | None = field(default=None, init=False)
    wrapups: WrapupDesk | None = field(default=None, init=False)
    started_at: datetime | None = field(default=None, init=False)
    server: FlowServer | None = field(default=None, init=False)
    store: CallStore | None = field(default=None, init=False)
    ami: AmiLink | None = field(default=None, init=False)  # the first server's link
    # every server's link by name ("" for the single [ami]); the centre merges their mirrors
    links: dict[str, AmiLink] = field(default_factory=dict, init=False)
    centre: CentreUnion | None = field(default=None, init=False)
    ami_events: AmiEventKeeper | None = field(default=None, init=False)
    flows: StoreFlows | None = field(default=None, init=False)
    _crm: object = field(default=None, init=False)
    dialler: CallbackDialler | None = field(default=None, init=False)  # in-queue call-backs
    presence: WorkerPresence | None = field(default=None, init=False)  # this worker's row
    _tasks: set = field(default_factory=set, init=False)
    held: HeldSaves | None = field(default=None, init=False)  # wrap-ups stored at calls' end

    async def start(self) -> tuple[str, int]:
        cfg = self.config
        clock = SystemClock()
        self.flows = StoreFlows(flow_store_for(cfg))
        if self.flows.version is None:
            log.warning("no flows are deployed in %s yet: calls are turned away until "
                        "`ccf deploy` writes a version", self.flows.store.where)
        try:
            # reads never wait for a locked store (docs/store.md "Writing")
            self.store = CallStore(cfg.store_path, timezone=cfg.timezone,
                                   wait_s=STORE_READ_WAIT_S)
        except (OSError, sqlite3.Error, StoreError) as exc:
            raise StartError(f"the call store {cfg.store_path} cannot be opened: {exc} "
                             f"(see [store] url or [paths] store in {cfg.path})") from None
        # calls a crashed run of this host left open: closed by the writer as `interrupted`
        self.store.reconcile()
        try:
            self._crm = open_crm(cfg.crm)
        except (OSError, sqlite3.Error, ExternalError, CrmConfigError) as exc:
            raise StartError(f"the CRM cannot be opened: {exc} (see [crm] in {cfg.path})") \
                from None
        agents = configured_agents(cfg)
        self.centre = CentreUnion({
            server.name: AmiCentre(agents, cfg.agents.interface, queues=self.flows.ir_queues(),
                                   clock=clock, max_channels=server.ami.max_channels,
                                   channel_idle_s=server.ami.channel_idle_s)
            for server in servers_of(cfg)})
        by_id = {a.id: a for a in agents}
        tts = TtsRenderer(cfg.tts_cache_dir, cfg.tts_command or DEFAULT_COMMAND)
        settings = AgiSettings(sounds_dir=cfg.sounds_dir, recordings_dir=cfg.recordings_dir,
                               agent_interface=cfg.agents.interface)
        runtime_config = RuntimeConfig(recordings_dir=cfg.recordings_dir)
        store, crm, centre = self.store, self._crm, self.centre
        self.started_at = clock.now()
        pop = cfg.screen_pop
        self.screen_pop = ScreenPop(
            PopTarget(pop.url, pop.token, pop.timeout_s) if pop.url else None, crm=crm,
            history=store.recent_calls, ami=self._ami_up, ami_for=self._link_for_agent,
            record=lambda kind, data, call_id: store.record_centre_event(
                "serve", kind, data, SystemClock().now(), call_id=call_id))
        self.control = AsteriskControl(cfg, ami=self._ami_up, centre=centre,
                                       queues=self.flows.queues, links=self._links_by_name,
                                       route=self._link_for_channel,
                                       tts=tts, store=store, running=self._running, crm=crm,
                                       now=clock.now)
        self.desk = AgentDesk(
            {a.id: "logged_out" if a.state == AgentState.LOGGED_OFF else "ready"
             for a in agents},
            control=self.control, feed=self.feed, now=clock.now,
            reasons=cfg.console.pause_reasons, autopaused=self.flows.autopaused,
            record=lambda kind, data, call_id: store.record_centre_event(
                "console", kind, data, SystemClock().now(), call_id=call_id))
        self.centre.holds.on_hold = self.desk.phone_hold  # an agent's phone's own hold
        self.screen_pop.on_pop = lambda agent, payload: self.feed.publish("pop", payload,
                                                                          agent=agent)
        line = QueueLine()  # who waits in each queue: an in-queue call-back's turn
        sink = FanOut(store, self.tracker, self.screen_pop, self.desk, line)
        self.ami_events = AmiEventKeeper(
            lambda source, kind, data, call: store.record_centre_event(
                source, kind, data, SystemClock().now(), call_id=call), rate=cfg.ami.store_rate,
            is_agent_device=self.centre.knows_device, agent_of_channel=self.centre.agent_of_channel)

        def services_for(info: CallInfo) -> Services:
            return Services(clock=clock, crm=crm, centre=centre, history=store, sink=sink,
                            config=runtime_config)

        def agent(agent_id: str) -> Agent | None:
            return centre.agent(agent_id) or by_id.get(agent_id)

        self.server = FlowServer(self.flows, services_for, settings,
                                 host=self.host or cfg.fastagi.host,
                                 port=self.port if self.port is not None else cfg.fastagi.port,
                                 tts=tts, agents=agent, clock=clock,
                                 agent_for_interface=centre.agent_for_device,
                                 on_call_ended=self._call_ended,
                                 call_id_for=store.claim_call_id,
                                 max_calls=cfg.fastagi.max_calls, marks_reach=cfg.workers.failover,
                                 header_timeout_s=cfg.fastagi.header_timeout_s,
                                 reply_limits=ReplyLimits(
                                     prompt_timeout_s=cfg.fastagi.prompt_timeout_s))
        self.server.switch = self._switch_action
        self.wrapups = WrapupDesk(store, crm, self.flows.ir_of, on_unsaved=self.desk.wrapup_unsaved,
                                  running=lambda call_id: call_id in self.server.calls)
        self.held = HeldSaves(self.wrapups)
        address = await self.server.start()
        # its row in the store, which every worker and `ccf status` read (docs/workers.md)
        api_port = self.api_port if self.api_port is not None else cfg.api.port
        api = Advertised(cfg.api, lambda: self.api_address)  # [api] advertise, or this machine
        await asyncio.to_thread(api.resolve)  # its name on 0.0.0.0: a DNS lookup, off the loop
        agi = await asyncio.to_thread(reachable_here, address)  # FastAGI's, named the same way
        self.presence = WorkerPresence(
            WorkerRows(cfg.store_path, this_process(), address=agi, api=api.planned(api_port)),
            self.server, lambda: self.flows.version if self.flows else None,
            api=api, on_deploy=self.flows.refresh_now)
        # before the presence starts: a deploy it hears of at once is mirrored as any other
        self.flows.on_change = self._version_changed
        await self.presence.start()
        if self.use_ami:
            await self._start_ami()
        self._spawn(self._tick())
        if cfg.callbacks.enabled:
            self.dialler = asterisk_dialler(cfg.store_path, cfg.callbacks, line,
                                            agents=centre.agents, control=self.control,
                                            ami_up=self._ami_up, clock=clock,
                                            centre=centre, links=self._links_by_name)
            self._spawn(self.dialler.run())
        return address

    async def _tick(self) -> None:
        """Once a second: take a newly deployed version into service (a
        deploy while no call arrives must still reach the queue view), and
        report the AMI events not kept; every RECONCILE_S, have the writer close the calls
        of workers that died since (another worker of this host, or of a host that went
        silent): no call waits for a restart that may never come. (The call store's writer
        writes what is due by itself: a quiet centre's last Hangup needs no timer.)"""
        assert self.flows is not None
        ticks = 0
        while True:
            await asyncio.sleep(POLL_S)
            await self.flows.poll()
            if self.ami_events is not None:
                self.ami_events.report_due()
            ticks += 1
            if ticks * POLL_S >= RECONCILE_S and self.store is not None:
                ticks = 0
                self.store.reconcile(wait=False)

    def _version_changed(self) -> None:
        """A new version is in service: its queues are the ones to mirror,
        and Asterisk has just reloaded them (`ccf deploy`), so members are
        added and the picture rebuilt."""
        assert self.centre is not None and self.flows is not None
        self.centre.set_queues(self.flows.ir_queues())
        for name, link in self.links.items():
            if link.connected:
                self._spawn(self._on_connect(link, name))

    # -- what the console and the HTTP API read ----------------------------------

    def status(self) -> dict:
        """The GET /status document (runtime/asterisk/live_status.py)."""
        assert self.flows is not None and self.started_at is not None
        # "up" only when every server's link is; each link's own state when there are several
        up = [link.connected for link in self.links.values()]
        ami = "off" if not up else ("up" if all(up) else "down")
        links = ({name: "up" if link.connected else "down" for name, link in self.links.items()}
                 if any(self.links) else None)
        return snapshot(tracker=self.tracker, centre=self.centre,
                        queues=self.flows.ir_queues(), version=self.flows.version,
                        started=self.started_at,
                        served=self.server.served if self.server else 0, ami=ami,
                        limits=self.limits(), ami_links=links,
                        workers=self.presence.status() if self.presence else None)

    def limits(self) -> dict:
        """Where each limit stands (GET /status `limits`; docs/asterisk.md "Limits")."""
        server, centre, keeper = self.server, self.centre, self.ami_events
        gate = self.api.gate if self.api is not None else None
        return {
            "open_files": limits.open_file_limit(),
            "max_calls": server.max_calls if server else None,
            "calls_running": server.calls_running if server else 0,
            "calls_refused": server.refused if server else 0,
            "api_unauthenticated_closed": gate.evicted if gate else 0,
            "ami_channels": len(centre.channels) if centre else 0,
            "ami_channels_evicted": centre.channels.evicted if centre else 0,
            "ami_events_stored": keeper.stored if keeper else 0,
            "ami_events_not_stored": keeper.not_stored if keeper else 0,
        }

    def _running(self, call_id: str) -> RunningCall | None:
        return self.server.calls.get(call_id) if self.server is not None else None

    async def wrapup(self, call_id: str, body: object) -> tuple[int, dict]:
        """POST /calls/ID/wrapup and the console's wrap-up form."""
        assert self.wrapups is not None
        outcome = await self.wrapups.submit(call_id, body)
        return outcome.status, outcome.body

    async def _switch_action(self, action: str, **headers: object) -> AmiMessage:
        """One AMI action for a call's channel (MixMonitorMute), on the server that
        reported the channel; AmiError when that link is down. The call is this server's
        one on that channel (servers number channels alike; its id tells them apart)."""
        channel = str(headers.get("Channel") or "")
        calls = [call_id for call_id, call in (self.server.calls if self.server else {}).items()
                 if call.info.channel == channel]
        link = self._link_for_channel(channel, calls[0] if len(calls) == 1 else None)
        if link is None:
            raise AmiError("the AMI link is down")
        return await link.action(action, **headers)

    def _ami_up(self) -> AmiLink | None:
        """The first server's link that is logged in (an action not about one server)."""
        return next(iter(self._links_up()), None)

    def _link_for_agent(self, agent_id: str) -> AmiLink | None:
        """The link of the server the agent's phone lives on (a screen pop's UserEvent:
        the agent's desktop listens there), when up; else the first up."""
        home = self.centre.home(agent_id) if self.centre is not None else None
        name = next((n for n, c in self.centre.centres.items() if c is home), None) \
            if home is not None else None
        link = self.links.get(name) if name is not None else None
        return link if link is not None and link.connected else self._ami_up()

    def _links_by_name(self) -> dict[str, AmiLink]:
        """Every server's link that is logged in, by name (an in-queue call-back's hold)."""
        return {name: link for name, link in self.links.items() if link.connected}

    def _links_up(self) -> list[AmiLink]:
        """Every server's link that is logged in, in the config's order."""
        return [link for link in self.links.values() if link.connected]

    def _link_for_channel(self, channel: str, call_id: str | None = None) -> AmiLink | None:
        """The link of the server that reported this channel (of this call, when given: a
        channel lives on one Asterisk), when it is up; one no link reported: the first up."""
        name = (self.centre.server_of_channel(channel, call_id) if self.centre is not None
                else None)
        if name is None:
            return self._ami_up()
        link = self.links.get(name)
        return link if link is not None and link.connected else None

    def _call_ended(self, call: RunningCall, result: CallResult | None) -> None:
        """A call handed back at shutdown is recorded by the interpreter with
        the outcome `handed_back`; centre_events notes the hand-back with the
        fallback the dialplan goes on to. A wrap-up
        entered while the call ran is stored now that its record is final."""
        if self.held is not None:
            self.held.call_ended(call.info.call_id)
        if call.handed_back and self.store is not None:
            self.store.record_centre_event(
                "serve", "call_handed_back",
                {"flow": call.flow, "version": call.version,
                 "fallback": str(self.config.fallback) if self.config.fallback else None,
                 "outcome": result.outcome if result else None},
                SystemClock().now(), call_id=call.info.call_id)

    # -- AMI ----------------------------------------------------------------

    async def _start_ami(self) -> None:
        """A link per Asterisk server, each reconnecting on its own."""
        for server in servers_of(self.config):
            cfg = server.ami
            of = f" of {server.name}" if server.name else ""
            if not cfg.secret:
                log.warning("AMI secret%s missing (environment variable %s): running without "
                            "its AMI link; its agent states are the configured ones", of,
                            cfg.secret_env)
                continue
            # only the classes the centre's mirror and the call store use: with
            # `read = all`, no Events header would bring every dialplan step,
            # variable and AGI command of every call (and store each)
            link = AmiLink(cfg.host, cfg.port, cfg.user, cfg.secret,
                           on_event=functools.partial(self._on_event, server=server.name),
                           on_connect=functools.partial(self._on_connect, server=server.name),
                           timeout=cfg.timeout_s, events="system,call,agent,user")
            self.links[server.name] = link
            if self.ami is None:
                self.ami = link
            try:
                await link.start()  # the link logs "AMI link up" itself, once per login
            except AmiError as exc:
                log.warning("AMI link%s not up (%s); retrying in the background", of, exc)
                self._spawn(self._retry_ami(link, of))

    async def _retry_ami(self, link: AmiLink, of: str = "") -> None:
        delay, cap = AMI_RETRY_S
        while self.links:
            await asyncio.sleep(delay)
            try:
                await link.start()
                return
            except AmiError as exc:
                log.warning("AMI link%s still down: %s", of, exc)
                delay = min(delay * 2, cap)

    async def _on_connect(self, link: AmiLink, server: str = "") -> None:
        assert self.centre is not None and self.flows is not None
        try:
            await self.centre.server(server).ensure_members(
                link, self.flows.queues(), logged_in=self.desk.logged_in if self.desk else None)
        except AmiError as exc:
            log.warning("queue members not all added: %s", exc)
        await self.centre.resync(server, link)

    def _on_event(self, event: AmiMessage, server: str = "") -> None:
        assert self.centre is not None and self.ami_events is not None and self.store is not None
        self.centre.apply(server, event)
        if self.control is not None:
            self.control.on_event(event)
        name = event.event or "?"
        ring = queue_ring(event, self.centre)
        if ring is not None and self.server is not None:
            # the caller's Queue() runs on the channel whose AGI is the call
            # (its agi_uniqueid is the call id); its FastAGI connection is busy
            # in EXEC Queue, so the ring reaches the call's events from here
            ids = (event.get("Uniqueid"), event.get("Linkedid"))
            # a channel that ran AGI() again runs its call as UNIQUEID~N
            self.server.hooks.ring([*(self.store.latest_call_id(i) for i in ids if i), *ids],
                                   ring)
        if name in ("AgentConnect", "BridgeEnter") and self.server is not None:
            # the call's Dial() or Queue() was answered: its reply comes when
            # the conversation ends (a dialplan whose answered Gosub did not run)
            self.server.extend_call(self.store.latest_call_id(event.get("Uniqueid") or ""))
        # only the kinds reports read, at most [ami] store_rate a second (ami_keep.py)
        self.ami_events.keep(event, server)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- stopping -------------------------------------------------------------

    async def stop(self, grace_s: float | None = None) -> int:
        grace = self.config.shutdown_grace_s if grace_s is None else grace_s
        handed = await self.server.stop(grace) if self.server is not None else 0
        if self.presence is not None:
            await self.presence.stop()  # its row says stopped: not down
        if self.held is not None:  # a held save retrying gives up now; a try under way ends first
            await self.held.stop()
        if self.screen_pop is not None:
            await self.screen_pop.drain()
        if self.stop_web is not None:
            await self.stop_web()
        for task in list(self._tasks):
            task.cancel()
        if self.dialler is not None:
            # a dial under way finishes: its outcome is stored (or, killed, reconciled)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dialler.drain(), DIAL_DRAIN_S)
            # no member stays held for a call-back (a crash: the next start releases them)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.dialler.release(), 10.0)
            self.dialler.rows.close()
        links, self.links, self.ami = list(self.links.values()), {}, None
        for link in links:
            with contextlib.suppress(AmiError, OSError):
                await link.close()
        if self._crm is not None:
            with contextlib.suppress(Exception):
                await self._crm.close()
        if self.ami_events is not None:
            self.ami_events.report_due(force=True)
        if self.store is not None:
            try:
                self.store.close()
            except StoreError as exc:  # logged by the store with what was lost
                log.error("the call store could not be written at the end: %s", exc)
        return handed


def queue_ring(event: AmiMessage, centre: AmiCentre | CentreUnion) -> QueueRing | None:
    """A queue member's ring from app_queue's AgentCalled (it starts) or
    AgentRingNoAnswer (it rang out, RingTime ms), with the configured agent
    its MemberName (ccf serve's QueueAdd sets the agent id) or Interface
    names; None for any other event or an unknown member."""
    name = event.event
    if name not in ("AgentCalled", "AgentRingNoAnswer"):
        return None
    member = event.get("MemberName") or ""
    agent = member if centre.agent(member) is not None else \
        centre.agent_for_device(event.get("Interface") or "")
    if not agent:
        return None
    if name == "AgentCalled":
        return QueueRing(agent, "ringing")
    ring_time = event.get("RingTime") or ""
    return QueueRing(agent, "no_answer", int(ring_time) if ring_time.isdigit() else None)


