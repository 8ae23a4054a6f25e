"""Supervisor monitoring on Asterisk: `ccf monitor` rings the supervisor with ChanSpy on a call.

Must not change the call it listens to beyond what the mode asks (listen, whisper, barge).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.ami import AmiLink, OriginateResponses, originate, originate_failure
from ccdsl.runtime.asterisk.ami_protocol import AmiError, CentreCommandError
from ccdsl.runtime.asterisk.config_servers import servers_of
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_ids import base_of

# ChanSpy's options: q (no beep, no channel name spoken to the supervisor),
# w (whisper: the supervisor talks to the agent only), B (barge: to both)
CHANSPY_OPTIONS = {"listen": "q", "whisper": "qw", "barge": "qB"}
_CALL_ID = names.CALL_ID
# what may go into ChanSpy's data: Asterisk's own channel names
# (`PJSIP/8001-0000000a`, `Local/8001@agents-0000000c;1`); no comma can
# add an option
CHANNEL_NAME = re.compile(r"[A-Za-z0-9_./@;:+#*-]{1,200}")
_UP = "6"  # ChannelState of an answered channel


class Mode(StrEnum):
    listen = "listen"
    whisper = "whisper"
    barge = "barge"


class MonitorError(CentreCommandError):
    """Monitoring could not start; the message says why and what to do.
    `unreachable`: Asterisk's AMI did not answer (`ccf monitor` exits 4)."""


@dataclass(frozen=True)
class AgentLeg:
    """The channel of a call to spy on, and whose it is."""

    call_id: str
    channel: str
    agent: str | None  # the agent id, when ccf.toml's agents name its device
    caller_channel: str | None


@dataclass(frozen=True)
class Monitoring:
    """A monitor session that started: the supervisor answered."""

    call_id: str
    mode: Mode
    supervisor: str  # the extension
    device: str  # what was rung
    agent_channel: str
    agent: str | None
    spy_channel: str  # the supervisor's channel, from OriginateResponse
    action_id: str

    def to_json(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "mode": self.mode.value,
                "supervisor": self.supervisor, "device": self.device,
                "agent_channel": self.agent_channel, "agent": self.agent,
                "spy_channel": self.spy_channel}


# -- finding the agent's channel ----------------------------------------------------


def check_call_id(call_id: str) -> str:
    if not _CALL_ID.fullmatch(call_id):
        raise MonitorError(f"{call_id!r} is not a call id: an Asterisk Uniqueid such as "
                           "1795663790.9 (`ccf status` lists the calls)", usage=True)
    return call_id


def agent_interfaces(template: str, agents: Iterable[Any]) -> dict[str, str]:
    """Device -> agent id, for the agents that have an extension."""
    out = {}
    for agent in agents:
        try:
            out[names.agent_interface(template, agent.id, agent.extension)] = agent.id
        except names.UnsafeValue:
            continue  # ccf config check reports it; it cannot be this call's agent
    return out


def find_agent_leg(channels: Collection[Any], call_id: str,
                   interfaces: Mapping[str, str]) -> AgentLeg:
    """The agent's channel of a call among CoreShowChannel events (anything
    with `.get(header)`). MonitorError when the call has no channel on
    Asterisk, or no agent yet."""
    check_call_id(call_id)
    # a channel that ran AGI() again is the call store's UNIQUEID~2: on
    # Asterisk it is still the channel UNIQUEID
    uniqueid = base_of(call_id)
    own = next((c for c in channels if c.get("Uniqueid") == uniqueid), None)
    linked = (own.get("Linkedid") if own is not None else None) or uniqueid
    of_call = [c for c in channels
               if c.get("Linkedid") == linked or c.get("Uniqueid") == uniqueid]
    if not of_call:
        raise MonitorError(f"no call {call_id} on Asterisk: it has ended or the id is wrong "
                           "(`ccf status` lists the calls in progress)")
    caller = own or next((c for c in of_call if c.get("Uniqueid") == linked), None)
    others = [c for c in of_call if c is not caller]
    if interfaces:
        legs = [(c, interfaces.get(names.interface_of_channel(c.get("Channel") or "")))
                for c in others]
        legs = [(c, agent) for c, agent in legs if agent is not None]
    else:
        legs = [(c, None) for c in others]
    if not legs:
        raise MonitorError(f"call {call_id} has no agent yet: it is still in the flow or "
                           "waiting in a queue; try again once an agent has answered")

    def rank(leg) -> tuple:
        chan = leg[0]
        name = chan.get("Channel") or ""
        # an answered channel first; of a Local pair the ;1 half, which the
        # caller's side is bridged with
        return (chan.get("ChannelState") != _UP, name.endswith(";2"))

    chan, agent = sorted(legs, key=rank)[0]
    name = chan.get("Channel") or ""
    if not CHANNEL_NAME.fullmatch(name):
        raise MonitorError(f"the agent's channel {name!r} has characters ChanSpy cannot take")
    return AgentLeg(call_id=call_id, channel=name, agent=agent,
                    caller_channel=caller.get("Channel") if caller is not None else None)


def supervisor_device(template: str, extension: str, agents: Iterable[Any]) -> str:
    """The supervisor's phone, from the agents' interface template. A
    template naming {agent} needs the supervisor among the agents."""
    try:
        ext = names.diallable(extension)
    except names.UnsafeValue as exc:
        raise MonitorError(f"--supervisor: {exc}; give the supervisor's extension, such "
                           "as 8009", usage=True) from None
    owner = next((a.id for a in agents if a.extension and a.extension == ext), None)
    if owner is None and "{agent" in template:
        raise MonitorError(f"the agents' interface {template!r} needs an agent id, and no "
                           f"agent has the extension {ext}: add the supervisor to the agents "
                           "file", usage=True)
    try:
        return names.agent_interface(template, owner or "supervisor", ext)
    except names.UnsafeValue as exc:
        raise MonitorError(f"--supervisor: {exc}", usage=True) from None


# -- ringing the supervisor --------------------------------------------------------


async def ring_supervisor(link, responses: OriginateResponses, leg: AgentLeg, *,
                          mode: Mode, extension: str, device: str,
                          ring_timeout_s: float = 30.0) -> Monitoring:
    """Originate ChanSpy on the agent's channel from the supervisor's
    device, asynchronously, and wait for its OriginateResponse (it comes
    when the supervisor picks up or the ringing ends)."""
    action_id = f"ccf-monitor-{secrets.token_hex(4)}"
    wait_s = ring_timeout_s + link.timeout
    reply, event = await originate(
        link, responses, wait_s=wait_s, ActionID=action_id, Channel=device,
        Application="ChanSpy", Data=f"{leg.channel},{CHANSPY_OPTIONS[mode.value]}",
        CallerID=f"Monitor <{extension}>", Async="true", Timeout=int(ring_timeout_s * 1000))
    problem = originate_failure(
        reply, event, wait_s, refused=f"Asterisk refused to ring {device}",
        silent=f"Asterisk did not say whether {device} answered",
        failed=f"the supervisor's phone {device} did not take the call")
    if problem is not None:
        raise MonitorError(problem)
    return Monitoring(call_id=leg.call_id, mode=mode, supervisor=extension, device=device,
                      agent_channel=leg.channel, agent=leg.agent,
                      spy_channel=event.get("Channel") or device, action_id=action_id)


async def monitor_over(link, responses: OriginateResponses, channels: Collection[Any],
                       call_id: str, extension: str, mode: Mode, *, interface: str,
                       agents: Sequence[Any], ring_timeout_s: float = 30.0) -> Monitoring:
    """Monitoring over a started link whose OriginateResponses reach
    `responses`, with the live channels (CoreShowChannel items or ccf
    serve's AmiCentre.channels values): what `ccf monitor` and the console
    both run."""
    check_call_id(call_id)
    device = supervisor_device(interface, extension, agents)
    leg = find_agent_leg(channels, call_id, agent_interfaces(interface, agents))
    return await ring_supervisor(link, responses, leg, mode=mode, extension=extension,
                                 device=device, ring_timeout_s=ring_timeout_s)


async def monitor_call(centre, call_id: str, extension: str, mode: Mode, *,
                       ring_timeout_s: float = 30.0) -> Monitoring:
    """Everything `ccf monitor` does on Asterisk, with the config's AMI: every server's
    channels are listed at once, and the supervisor is rung on the server whose channels
    hold the call (ChanSpy spies on its own server's channels only). Every server's secret
    is set: the command checked them before (cli.common.require_ami_secrets)."""
    check_call_id(call_id)
    agents = centre.agents.agents
    supervisor_device(centre.agents.interface, extension, agents)  # refused before connecting
    servers = servers_of(centre)
    opened = await asyncio.gather(*(_listed(s, centre.path) for s in servers))
    try:
        problems: list[tuple[str, MonitorError]] = []
        for server, (link, responses, found) in zip(servers, opened, strict=True):
            if isinstance(found, MonitorError):
                problems.append((server.label, found))
                continue
            try:
                leg = find_agent_leg(found, call_id, agent_interfaces(centre.agents.interface,
                                                                      agents))
            except MonitorError as exc:
                problems.append((server.label, exc))
                continue
            device = supervisor_device(centre.agents.interface, extension, agents)
            try:
                return await ring_supervisor(link, responses, leg, mode=mode,
                                             extension=extension, device=device,
                                             ring_timeout_s=ring_timeout_s)
            except (AmiError, OSError, TimeoutError) as exc:
                raise MonitorError(_named(server, f"{str(exc) or type(exc).__name__} "
                                                  f"(check {_section(server)} in "
                                                  f"{centre.path})", len(servers))) from None
        raise _not_found(problems, len(servers))
    finally:
        await asyncio.gather(*(_close(link) for link, _, _ in opened if link is not None))


def _section(server) -> str:
    return f"the [[asterisk]] server {server.name}" if server.name else "[ami]"


def _named(server, text: str, count: int) -> str:
    return f"{server.label}: {text}" if count > 1 else text


def _not_found(problems: list[tuple[str, MonitorError]], count: int) -> MonitorError:
    """No server holds the call's agent leg. One server: its own error. Several: a server
    that did not answer may hold it (exit 4); else the most telling answer (the call found
    without an agent beats not found)."""
    if count == 1:
        return problems[0][1]
    down = [(label, exc) for label, exc in problems if exc.unreachable]
    if down:
        return MonitorError("; ".join(f"{label}: {exc}" for label, exc in down)
                            + " (the call may be there: nothing was rung)", unreachable=True)
    agentless = [exc for _, exc in problems if "no agent yet" in str(exc)]
    if agentless:
        return agentless[0]
    return MonitorError(str(problems[0][1]).replace(
        "on Asterisk", f"on any of the {count} Asterisk servers", 1))


async def _listed(server, where: str):
    """A started link to the server with its OriginateResponses and its channels
    (CoreShowChannels), or (None, None, MonitorError) when it cannot give them."""
    ami = server.ami
    responses = OriginateResponses()
    link = AmiLink(ami.host, ami.port, ami.user, ami.secret, timeout=ami.timeout_s,
                   on_event=responses.on_event, ping_interval=None,
                   events="call")  # OriginateResponse is of class call
    started = False
    try:
        await asyncio.wait_for(link.start(), ami.timeout_s * 2)
        started = True
        listed, channels = await link.list_action("CoreShowChannels")
    except (AmiError, OSError, TimeoutError) as exc:
        await _close(link)
        reason = str(exc) or type(exc).__name__
        return None, None, MonitorError(f"{reason} (check {_section(server)} in {where})",
                                        unreachable=not started)
    if not listed.ok:
        await _close(link)
        return None, None, MonitorError(
            f"Asterisk refused to list the channels: {listed.message} (the AMI user "
            f"{ami.user} needs read and write `call` or `system` in manager.conf)")
    return link, responses, channels


async def _close(link) -> None:
    try:
        await asyncio.wait_for(link.close(), 5)
    except Exception:  # closing after a failure: nothing more to report
        pass


def record_monitoring(store: CallStore, monitoring: Monitoring, at: datetime) -> None:
    """The session in an open call store's centre_events (source ccf)."""
    store.record_centre_event("ccf", "monitor_started", monitoring.to_json(), at,
                              call_id=monitoring.call_id)


def record_started(store_path: str, monitoring: Monitoring, at: datetime) -> None:
    """The session in the call store's centre_events (source ccf)."""
    with CallStore(store_path) as store:
        record_monitoring(store, monitoring, at)


# -- ccf status: ccf serve's GET /status (runtime/asterisk/api_client.py) -------------



def calls_by_step(status: Mapping[str, Any]) -> list[tuple[str, int]]:
    """How many calls are in each step, the busiest first."""
    counts: dict[str, int] = {}
    for call in status.get("calls") or []:
        step = str(call.get("step") or "-")
        counts[step] = counts.get(step, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
