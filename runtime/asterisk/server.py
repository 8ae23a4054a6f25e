"""The FastAGI server of `ccf serve`: one connection per call, the interpreter over an AgiChannel.

What a connection is for comes from its AGI path, and how stopping hands calls back
to the dialplan, in docs/asterisk.md "4. Serve"; the caps and timeouts in "Limits".
Must not import the simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ccdsl.runtime.asterisk import limits
from ccdsl.runtime.asterisk.acceptor import Acceptor
from ccdsl.runtime.asterisk.agi import (
    AgiEnvironment,
    AgiProtocolError,
    AgiSession,
    read_environment,
)
from ccdsl.runtime.asterisk.agi_channel import AgiChannel, call_info
from ccdsl.runtime.asterisk.agi_line import QUICK_S, AgiSettings, AnswerHooks
from ccdsl.runtime.asterisk.agi_mute import SwitchAction
from ccdsl.runtime.asterisk.agi_timeouts import ReplyLimits
from ccdsl.runtime.asterisk.agi_wire import AgiWire
from ccdsl.runtime.asterisk.config_servers import REACHED_VARIABLE, REFUSED_MARK
from ccdsl.runtime.asterisk.counted_log import CountedLog
from ccdsl.runtime.asterisk.names import ANSWERED_SCRIPT, interface_of_channel
from ccdsl.runtime.asterisk.tts import TtsRenderer
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.core.interpreter import CallResult, run_call
from ccdsl.runtime.core.ir import Program
from ccdsl.runtime.core.services import Services

log = logging.getLogger("ccdsl.serve")

# Asterisk sends the whole agi_ block at once; a peer that doesn't is broken
HEADER_TIMEOUT_S = limits.HEADER_TIMEOUT_S
# Asterisk opens one connection per call: a burst of calls (a queue releasing
# callers, a campaign) must not find asyncio's default listen queue of 100 full
BACKLOG = 4096
# after closing a call's line at shutdown, how long its record may take: more
# than the longest single wait left in it (a text-to-speech render, 10 s; the
# CRM calls of `on hangup`, 3 s each), so a handed-back call is not cut off
# before its call_ended (a cancelled call would be closed as an error)
HANDOVER_WAIT_S = 20.0


class FlowSource(Protocol):
    def lookup(self, script: str) -> tuple[str, Program] | None:
        """The flow a FastAGI path names, with the label of its deployed
        version; None when no flow has that name."""


class StaticFlows:
    """Flows fixed for the server's life (tests, `ccf serve FILE`)."""

    def __init__(self, programs: dict[str, Program], label: str = "static") -> None:
        self.programs = dict(programs)
        self.label = label

    def lookup(self, script: str) -> tuple[str, Program] | None:
        program = self.programs.get(script)
        return (self.label, program) if program is not None else None


@dataclass
class RunningCall:
    info: CallInfo
    flow: str
    version: str
    channel: AgiChannel
    session: AgiSession
    task: asyncio.Task
    handed_back: bool = False  # stop() closed its line after the grace period


class FlowServer:
    """Accepts FastAGI connections and runs flows on them (module doc)."""

    def __init__(self, flows: FlowSource, services_for: Callable[[CallInfo], Services],
                 settings: AgiSettings, *, host: str = "127.0.0.1", port: int = 4573,
                 tts: TtsRenderer, agents: Callable[[str], Agent | None], clock: Clock,
                 on_call_ended: Callable[[RunningCall, CallResult | None], None] | None = None,
                 agent_for_interface: Callable[[str], str | None] | None = None,
                 max_calls: int | None = None, header_timeout_s: float | None = None,
                 reply_limits: ReplyLimits | None = None,
                 call_id_for: Callable[[str], str] | None = None,
                 marks_reach: bool = False) -> None:
        self.flows = flows
        self.services_for = services_for
        self.settings = settings
        self.host = host
        self.port = port
        self.tts = tts
        self.agents = agents
        self.clock = clock
        self.on_call_ended = on_call_ended
        # which agent a device belongs to: Queue()'s gosub names only the channel
        self.agent_for_interface = agent_for_interface
        self.hooks = AnswerHooks()
        # AMI actions a call's channel may need (MixMonitorMute); None: no AMI link
        self.switch: SwitchAction | None = None
        # [fastagi] hosts: each call first sets REACHED_VARIABLE, by which the generated
        # dialplan tells a worker it reached from one it could not (config_servers.py)
        self.marks_reach = marks_reach
        # passes a ccf-answered for a call not running here to the worker that runs it
        # (runtime/asterisk/worker_presence.py); None: one worker, nowhere else to look
        self.relay: Callable[[str, str, str], Awaitable[bool]] | None = None
        # the call id of a new call from its agi_uniqueid, which Asterisk repeats
        # when a channel runs AGI() again (the call store's claim_call_id)
        self.call_id_for = call_id_for
        self.calls: dict[str, RunningCall] = {}
        # the running calls' ids by their channel's agi_uniqueid (AMI names
        # the channel; the call id may differ from it)
        self._by_uniqueid: dict[str, str] = {}
        self.served = 0  # calls that reached a flow since start
        # calls run at once; a new call past it is turned away to the
        # dialplan's fallback (None: what the open-file limit leaves room for)
        self.max_calls = max(1, max_calls) if max_calls else limits.fitted_max_calls()
        self._max_calls_given = bool(max_calls)
        self.header_timeout_s = header_timeout_s  # None: HEADER_TIMEOUT_S
        self.reply_limits = reply_limits or ReplyLimits()
        self.refused = 0  # calls turned away at max_calls
        self._refusals = CountedLog(
            log, "FastAGI: call turned away, max_calls calls are running; the dialplan "
                 "continues after AGI() (the next of [fastagi] hosts, else the [shutdown] "
                 "fallback)")
        self._bad_headers = CountedLog(log, "FastAGI connection refused")
        self._unknown_flows = CountedLog(log, "FastAGI: no deployed flow has the AGI path; the "
                                              "dialplan continues after AGI()")
        self._failures = CountedLog(log, "FastAGI connection failed")
        self._acceptor: Acceptor | None = None
        self._stopping = False
        self._connections: set[asyncio.Task] = set()

    @property
    def calls_running(self) -> int:
        return len(self.calls)

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def start(self) -> tuple[str, int]:
        # past the connection limit the listener stops accepting and Asterisk's
        # connections wait in the backlog; below it a call past max_calls is
        # read and turned away (docs/asterisk.md "Limits")
        self._acceptor = Acceptor(self._accept, host=self.host, port=self.port,
                                  limit=limits.connection_limit(self.max_calls),
                                  backlog=BACKLOG, name="FastAGI", logger=log)
        host, port = await self._acceptor.start()
        self.port = port
        log.info("FastAGI listening on %s:%s, at most %d calls at once", host, port,
                 self.max_calls)
        fitted = limits.fitted_max_calls()
        if self._max_calls_given and self.max_calls > fitted:
            log.warning("[fastagi] max_calls %d is more than the open-file limit (%d) leaves "
                        "room for (%d): when files run out, new calls wait in the listen "
                        "backlog and other work may fail to open files", self.max_calls,
                        limits.open_file_limit(), fitted)
        return host, port

    def extend_call(self, call_id: str) -> bool:
        """The call's Dial() or Queue() was answered (its agent's Gosub, or
        AMI said so of its channel, by call id or Uniqueid): its reply comes
        when the conversation ends, so the wait for it is the bridge limit,
        not the ring time."""
        call = self.calls.get(call_id) or self.calls.get(self._by_uniqueid.get(call_id, ""))
        return call is not None and call.session.extend_reply_timeout(
            self.settings.bridge_timeout_s)

    async def stop(self, grace_s: float = 30.0) -> int:
        """Stop taking calls, let running calls finish for grace_s seconds,
        then hand the rest back to the dialplan. Returns how many calls were
        handed back. During the grace the server still listens, for the
        ccf-answered Gosub of an agent a running call's Queue() or Dial()
        connects (its answer and talk time are recorded); a new call's
        connection is closed at once, so its dialplan goes on to the fallback."""
        self._stopping = True
        running = [c.task for c in self.calls.values()]
        if running:
            log.info("stopping: %d call(s) in progress get %g s to finish", len(running),
                     grace_s)
            await asyncio.wait(running, timeout=grace_s)
        left = list(self.calls.values())
        for call in left:
            log.warning("call %s (%s) still running after %g s: handed back to the dialplan",
                        call.info.call_id, call.flow, grace_s)
            call.handed_back = True
            await call.channel.hand_back()
        if self._acceptor is not None:
            self._acceptor.close()
        if left:
            done, pending = await asyncio.wait([c.task for c in left], timeout=HANDOVER_WAIT_S)
            for task in pending:
                task.cancel()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=HANDOVER_WAIT_S)
        if self._acceptor is not None:
            with contextlib.suppress(Exception):
                await self._acceptor.wait_closed()
        for counted in (self._refusals, self._bad_headers, self._unknown_flows, self._failures):
            counted.flush()
        return len(left)

    # -- connections -------------------------------------------------------

    async def _accept(self, wire: AgiWire) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            await self._serve(wire)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken connection never stops the server
            # one line per interval, not a traceback per connection (the
            # traceback is there at debug level)
            self._failures.note(f"{type(exc).__name__}: {exc}")
            log.debug("FastAGI connection failed", exc_info=True)
        finally:
            if task is not None:
                self._connections.discard(task)
            with contextlib.suppress(Exception):
                wire.close()

    async def _serve(self, wire: AgiWire) -> None:
        peer = wire.peer()
        if self._stopping and not self.calls and not self.marks_reach:
            return  # the dialplan carries on after AGI(): the fallback
        header_timeout = self.header_timeout_s or HEADER_TIMEOUT_S
        try:
            env = await read_environment(wire, timeout=header_timeout)
        except AgiProtocolError as exc:
            self._bad_headers.note(f"from {peer}: {exc}")
            return
        if env.script == ANSWERED_SCRIPT:
            # the agent's channel is this connection's own (agi_channel): a
            # channel name in the URL's query would lose its `+` to decoding
            await self._answered(env.query.get("call", ""), env.query.get("agent", ""),
                                 env.variables.get("agi_channel", ""))
            return
        if self._stopping:
            log.info("stopping: the call of channel %s is not taken; the dialplan continues "
                     "after AGI() (the next of [fastagi] hosts, else the fallback)",
                     env.variables.get("agi_channel"))
            await self._mark_refused(wire, env)
            return  # the next worker, else the fallback
        if len(self.calls) >= self.max_calls:
            # closed at once: the generated dialplan goes on to the next worker or its
            # fallback, where waiting unanswered in the backlog would hold the caller in
            # silence
            self.refused += 1
            self._refusals.note(f"{len(self.calls)} running; channel "
                                f"{env.variables.get('agi_channel')}")
            await self._mark_refused(wire, env)
            return
        found = self.flows.lookup(env.script)
        if found is None:
            self._unknown_flows.note(f"{env.script!r} (channel "
                                     f"{env.variables.get('agi_channel')})")
            return
        version, program = found
        session = AgiSession(wire, env, limits=self.reply_limits)
        if self.marks_reach:
            await self._mark_reached(session)
        info = call_info(env, self.clock.now())
        if self.call_id_for is not None:
            info = dataclasses.replace(info, call_id=self.call_id_for(info.call_id))
        channel = AgiChannel(session, info, clock=self.clock, tts=self.tts,
                             settings=self.settings, hooks=self.hooks, agents=self.agents)
        channel.switch = self.switch
        services = self.services_for(info)
        call = RunningCall(info, env.script, version, channel, session, asyncio.current_task())
        self.calls[info.call_id] = call
        self._by_uniqueid[env.get("agi_uniqueid")] = info.call_id
        self.served += 1
        log.info("call %s from %s: flow %s (version %s)", info.call_id,
                 info.caller_number or "unknown", env.script, version)
        result: CallResult | None = None
        try:
            result = await run_call(program, channel, services, flow_version=version)
            log.info("call %s ended: %s", info.call_id, result.outcome)
        finally:
            self.calls.pop(info.call_id, None)
            if self._by_uniqueid.get(env.get("agi_uniqueid")) == info.call_id:
                del self._by_uniqueid[env.get("agi_uniqueid")]
            self.hooks.unregister(info.call_id)
            await session.close()
            if self.on_call_ended is not None:
                self.on_call_ended(call, result)

    async def _mark_reached(self, session: AgiSession, value: str | None = None) -> None:
        """Before the flow's first command: a command of the flow that fails with the caller
        still there (a missing sound) leaves AGISTATUS=FAILURE, and without this mark the
        dialplan would run the call again on the next worker once this one ends it."""
        try:
            await session.command("SET VARIABLE", REACHED_VARIABLE,
                                  value or f"{self.host}:{self.port}", timeout=QUICK_S)
        except AgiProtocolError as exc:  # the flow's first command meets it again
            log.info("channel %s: %s not set (%s)", session.env.get("agi_channel"),
                     REACHED_VARIABLE, exc)

    async def _mark_refused(self, wire: AgiWire, env: AgiEnvironment) -> None:
        """A call this worker does not take: with several [fastagi] hosts, marked so that the
        dialplan tries the next worker (closing alone leaves AGISTATUS=SUCCESS)."""
        if self.marks_reach:
            await self._mark_reached(AgiSession(wire, env, limits=self.reply_limits),
                                     REFUSED_MARK)

    async def _answered(self, call_id: str, agent: str, channel: str) -> None:
        """An agent's channel is about to be bridged to call_id's caller."""
        if not call_id:
            log.warning("ccf-answered without a call id: ignored")
            return
        if not agent and channel and self.agent_for_interface is not None:
            agent = self.agent_for_interface(interface_of_channel(channel)) or ""
        if not agent:
            log.warning("ccf-answered for call %s: no configured agent has the device of "
                        "channel %r", call_id, channel)
        if self.relay is not None and self.local_id(call_id) is None:
            # the caller's call runs on another worker behind the same Asterisk
            if not await self.relay(call_id, agent, channel):
                log.warning("ccf-answered for call %s, which no worker runs", call_id)
            return
        if not await self.answered_here(call_id, agent):
            log.warning("ccf-answered for call %s, which is not running here", call_id)

    async def answered_here(self, call_id: str, agent: str) -> bool:
        """What a ccf-answered does for a call this server runs (from its own FastAGI or
        another worker's signal): the reply wait becomes the bridge limit, the hook runs."""
        self.extend_call(call_id)
        return await self.hooks.fire(self.local_id(call_id) or call_id, agent)

    def local_id(self, call_id: str) -> str | None:
        """The id this server runs a call under (it may be named by its Uniqueid); None when
        the call does not run here."""
        if call_id in self.calls:
            return call_id
        return self._by_uniqueid.get(call_id)

    def running_ids(self) -> list[str]:
        """Every name a running call may be signalled by: its call id and its Uniqueid."""
        return [*self.calls, *self._by_uniqueid]


async def serve_until(server: FlowServer, stop: asyncio.Event, grace_s: float) -> int:
    """Run until `stop` is set (a signal handler sets it), then stop."""
    await stop.wait()
    return await server.stop(grace_s)


__all__ = ["FlowServer", "FlowSource", "RunningCall", "StaticFlows", "serve_until",
           "AgiProtocolError"]
