"""The centre as Asterisk sees it: agents and queues mirrored from AMI into a routing AgentPool.

Pure: records nothing and must not write the call store (ccf serve's LiveCentre keeps the
events). The AMI events it reads are listed in docs/asterisk.md "The centre mirrored from AMI".
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.asterisk.ami_channels import ChannelMap
from ccdsl.runtime.asterisk.ami_protocol import AmiError, AmiMessage
from ccdsl.runtime.asterisk.counted_log import CountedLog
from ccdsl.runtime.asterisk.limits import AMI_CHANNEL_IDLE_S, AMI_MAX_CHANNELS
from ccdsl.runtime.asterisk.names import (
    UnsafeValue,
    agent_interface,
    interface_of_channel,
    queue_name,
)
from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.clock import Clock, SystemClock
from ccdsl.runtime.core.routing import AgentPool
from ccdsl.runtime.operations.callback_hold import held_by_us

log = logging.getLogger("ccdsl.centre")

# Asterisk device states (include/asterisk/devicestate.h) -> AgentState.
# UNKNOWN counts as available: app_queue rings members in that state, and
# Local/ interfaces often have no cached state at all.
DEVICE_TO_STATE = {
    "UNKNOWN": AgentState.AVAILABLE,
    "NOT_INUSE": AgentState.AVAILABLE,
    "INUSE": AgentState.BUSY,
    "BUSY": AgentState.BUSY,
    "ONHOLD": AgentState.BUSY,
    "RINGINUSE": AgentState.BUSY,  # on a call while another rings: not free
    "RINGING": AgentState.RINGING,
    "UNAVAILABLE": AgentState.LOGGED_OFF,
    "INVALID": AgentState.LOGGED_OFF,
}
# QueueMember's numeric Status, in the enum's order
DEVICE_BY_NUMBER = ("UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE",
                    "RINGING", "RINGINUSE", "ONHOLD")
# CoreShowChannel's ChannelState for a channel that rings or talks
_CHANNEL_DEVICE = {"5": "RINGING", "6": "INUSE"}
# the estimate when no member will ever be free (as the simulator's)
NEVER_FREE_WAIT_MS = 3_600_000
# the talk time assumed before Asterisk has measured any
DEFAULT_TALK_MS = 180_000
# queues known from events (a peer may name any number of them): past this,
# a new name is ignored. A centre has tens.
MAX_QUEUES = 1000
# events held while a resync's lists are read: past this the oldest are
# dropped (a flood during a resync must not fill memory; the lists are newer)
MAX_HELD = 50_000

_MEMBER_EVENTS = ("QueueMember", "QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause")
_CALL_DEVICE = {"AgentCalled": "RINGING", "AgentConnect": "INUSE",
                "AgentComplete": "NOT_INUSE", "AgentRingNoAnswer": "NOT_INUSE"}


@dataclass
class _Membership:
    paused: bool = False
    reason: str = ""  # PausedReason while paused
    calls: int = 0
    last_call: int = 0  # epoch seconds of the last call's end, 0: none


@dataclass
class _Mirror:
    device: str | None = None  # the latest device state name
    members: dict[str, _Membership] = field(default_factory=dict)  # by Asterisk queue


@dataclass
class _QueueStats:
    waiting: int = 0
    holdtime_s: float = 0.0  # app_queue's running averages
    talktime_s: float = 0.0


_CHANNEL_KEYS = ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
                 "ConnectedLineNum", "Context", "Exten", "Priority", "Uniqueid", "Linkedid",
                 "Application", "ApplicationData", "Duration", "BridgeId")


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _average(old: float, new: float) -> float:
    """app_queue's recalc_holdtime / update_queue: (3 * old + new) / 4."""
    return (3 * old + new) / 4


class AmiCentre:
    """CentreView over AMI. `pool` is the routing engine's AgentPool.

    agents: the configured agents (ids, names, extensions, skills).
    interface_template: how an agent's device is named (`PJSIP/{extension}`).
    queues: the flows' queue names (IR), so Asterisk's `ccf-...` queue names
    map back to them in `Agent.queues` and `queue_waiting`.
    """

    def __init__(self, agents: Sequence[Agent], interface_template: str, *,
                 queues: Iterable[str] = (), clock: Clock | None = None,
                 max_channels: int = AMI_MAX_CHANNELS,
                 channel_idle_s: float = AMI_CHANNEL_IDLE_S) -> None:
        self.interface_template = interface_template
        self.clock = clock or SystemClock()
        self._config = {a.id: replace(a, skills=dict(a.skills), queues=()) for a in agents}
        self._ir_queue = {queue_name(q): q for q in queues}
        self._by_interface: dict[str, str] = {}  # template interface -> agent id
        self._by_device: dict[str, str] = {}  # members' StateInterface -> agent id
        for agent in agents:
            if not agent.extension:
                continue
            try:
                interface = agent_interface(interface_template, agent.id, agent.extension)
            except UnsafeValue as exc:
                log.warning("agent %s is left out of the AMI mirror: %s", agent.id, exc)
                continue
            self._by_interface[interface.lower()] = agent.id
        self.pool = AgentPool()
        self._mirror: dict[str, _Mirror] = {}
        self._queues: dict[str, _QueueStats] = {}
        # agents logged out (the agents file's offline ones at start, then the
        # console's log-outs): LOGGED_OFF in the pool whatever their device says
        self._logged_out = {a.id for a in agents if a.state == AgentState.LOGGED_OFF}
        self._resyncing = False
        self._held: deque[AmiMessage] = deque(maxlen=MAX_HELD)
        self.held_dropped = 0
        # live Asterisk channels by name: their state, caller, place in the
        # dialplan and Uniqueid/Linkedid (CoreShowChannels, channel events);
        # bounded (ami_channels.py)
        self.channels = ChannelMap(max_channels, channel_idle_s)
        self._ignored_queues = CountedLog(
            log, f"AMI: events name more than {MAX_QUEUES} queues; the new ones are ignored")
        self._reset()

    def _reset(self) -> None:
        """Every configured agent as configured, nothing known from AMI."""
        self._mirror = {agent_id: _Mirror() for agent_id in self._config}
        self._queues = {}
        self._by_device = {}
        for agent in self._config.values():
            state = (AgentState.LOGGED_OFF if agent.id in self._logged_out
                     else AgentState.AVAILABLE)
            self.pool.upsert(replace(agent, state=state, queues=(),
                                     calls_taken=0, idle_since=None))

    # -- CentreView --------------------------------------------------------

    def set_queues(self, queues: Iterable[str]) -> None:
        """The flows' queue names after a deploy: Asterisk's `ccf-...` names
        map back to them in every agent's queues."""
        self._ir_queue = {queue_name(q): q for q in queues}
        for agent_id in self._mirror:
            self._publish(agent_id)

    def agent(self, agent_id: str) -> Agent | None:
        return self.pool.get(agent_id)

    def agents(self) -> list[Agent]:
        return self.pool.agents()

    def pauses(self) -> dict[tuple[str, str], str]:
        """(flow queue, agent) -> PausedReason of every member paused in a queue."""
        return {(self._ir_queue.get(q, q), agent_id): m.reason
                for agent_id, mirror in self._mirror.items() if agent_id not in self._logged_out
                for q, m in mirror.members.items() if m.paused}

    def queue_waiting(self, queue: str) -> int:
        stats = self._stats_for(queue)
        return stats.waiting if stats else 0

    def queue_expected_wait_ms(self, queue: str) -> int:
        """Callers ahead that no free member can take now, served in turn
        by the members who will free up, each call taking the queue's
        average talk time."""
        name = self._asterisk_queue(queue)
        stats = self._queues.get(name)
        waiting = stats.waiting if stats else 0
        members = [self.pool.get(a) for a, m in self._mirror.items() if name in m.members]
        members = [a for a in members if a is not None]
        free = sum(1 for a in members if a.state == AgentState.AVAILABLE)
        ahead = waiting + 1 - free
        if ahead <= 0:
            return 0
        serving = sum(1 for a in members
                      if a.state in (AgentState.BUSY, AgentState.RINGING, AgentState.AVAILABLE))
        if serving == 0:
            return NEVER_FREE_WAIT_MS
        talk_s = stats.talktime_s if stats and stats.talktime_s else 0
        talk_ms = talk_s * 1000 or DEFAULT_TALK_MS
        return int(math.ceil(ahead / serving) * talk_ms)

    def _asterisk_queue(self, queue: str) -> str:
        """A flow's queue name as Asterisk knows it (`ccf-...`); a name
        Asterisk already reported stands for itself."""
        return queue if queue in self._queues else queue_name(queue)

    def _stats_for(self, queue: str) -> _QueueStats | None:
        return self._queues.get(self._asterisk_queue(queue))

    # -- events ------------------------------------------------------------

    def apply(self, event: AmiMessage) -> None:
        """Update the mirror from one event (unrelated events are ignored)."""
        if self._resyncing:
            if len(self._held) == MAX_HELD:
                self.held_dropped += 1  # the deque drops the oldest
            self._held.append(event)  # applied on top of the fresh snapshot
            return
        self._apply(event)

    def _apply(self, event: AmiMessage) -> None:
        name = event.event or ""
        if name in _MEMBER_EVENTS:
            self._member(event)
        elif name == "QueueMemberRemoved":
            agent_id = self._agent_for(event)
            queue = event.get("Queue") or ""
            if agent_id is not None and self._mirror[agent_id].members.pop(queue, None):
                self._publish(agent_id)
        elif name == "DeviceStateChange":
            self._device(event.get("Device") or "", event.get("State") or "")
        elif name in ("QueueCallerJoin", "QueueCallerLeave"):
            stats = self._queue(event.get("Queue") or "")
            if stats is not None:
                stats.waiting = _int(event.get("Count"))
        elif name == "QueueParams":
            stats = self._queue(event.get("Queue") or "")
            if stats is None:
                return
            stats.waiting = _int(event.get("Calls"))
            stats.holdtime_s = float(_int(event.get("Holdtime")))
            stats.talktime_s = float(_int(event.get("TalkTime")))
        elif name in _CALL_DEVICE:
            self._agent_call(event, name)
        if name in ("Newchannel", "Newstate", "NewCallerid", "Newexten"):
            self._track_channel(event)
        elif name == "Hangup":
            self.channels.forget(event.get("Channel") or "")

    def _queue(self, name: str) -> _QueueStats | None:
        """The stats of a queue; None for a new name past MAX_QUEUES."""
        stats = self._queues.get(name)
        if stats is None:
            if len(self._queues) >= MAX_QUEUES:
                self._ignored_queues.note(name[:80])
                return None
            stats = self._queues[name] = _QueueStats()
        return stats

    def _agent_for(self, event: AmiMessage) -> str | None:
        for key in ("MemberName", "Name"):
            value = event.get(key)
            if value and value in self._config:
                return value
        for key in ("Interface", "Location", "StateInterface"):
            value = event.get(key)
            if value and value.lower() in self._by_interface:
                return self._by_interface[value.lower()]
            if value and value.lower() in self._by_device:
                return self._by_device[value.lower()]
        return None

    def _member(self, event: AmiMessage) -> None:
        agent_id = self._agent_for(event)
        if agent_id is None:
            return
        mirror = self._mirror[agent_id]
        state_interface = event.get("StateInterface")
        if state_interface:
            # its device states come under this name (a Local/ member may
            # take its state from the agent's phone)
            self._by_device[state_interface.lower()] = agent_id
        queue = event.get("Queue") or ""
        if queue not in mirror.members and len(mirror.members) >= MAX_QUEUES:
            self._ignored_queues.note(queue[:80])
            return
        membership = mirror.members.setdefault(queue, _Membership())
        membership.paused = event.get("Paused") == "1"
        membership.reason = (event.get("PausedReason") or "") if membership.paused else ""
        membership.calls = _int(event.get("CallsTaken"))
        membership.last_call = _int(event.get("LastCall"))
        status = event.get("Status")
        if status is not None and 0 <= _int(status) < len(DEVICE_BY_NUMBER):
            mirror.device = DEVICE_BY_NUMBER[_int(status)]
        self._publish(agent_id)

    def _device(self, device: str, state: str) -> None:
        key = device.lower()
        agent_id = self._by_interface.get(key) or self._by_device.get(key)
        if agent_id is None or state.upper() not in DEVICE_TO_STATE:
            return  # Queue:sales_avail, other people's phones, unknown words
        self._mirror[agent_id].device = state.upper()
        self._publish(agent_id)

    def _agent_call(self, event: AmiMessage, name: str) -> None:
        agent_id = self._agent_for(event)
        queue = event.get("Queue") or ""
        stats = self._queue(queue) if queue else None
        if stats is not None and name == "AgentConnect":
            stats.holdtime_s = _average(stats.holdtime_s, _int(event.get("HoldTime")))
        if stats is not None and name == "AgentComplete":
            stats.talktime_s = _average(stats.talktime_s, _int(event.get("TalkTime")))
        if agent_id is None:
            return
        mirror = self._mirror[agent_id]
        mirror.device = _CALL_DEVICE[name]
        if name == "AgentComplete" and queue in mirror.members:
            membership = mirror.members[queue]
            membership.calls += 1
            membership.last_call = int(self.clock.now().timestamp())
        self._publish(agent_id)

    def _state_of(self, mirror: _Mirror, agent_id: str) -> AgentState:
        if agent_id in self._logged_out:
            return AgentState.LOGGED_OFF
        state = DEVICE_TO_STATE.get(mirror.device or "UNKNOWN", AgentState.AVAILABLE)
        # paused in every queue it is in: not offered calls (a paused agent
        # on a call stays busy). Held for an in-queue call-back is not the
        # agent's pause: free, and the call-back's to take
        if (state == AgentState.AVAILABLE and mirror.members
                and all(m.paused and not held_by_us(m.reason)
                        for m in mirror.members.values())):
            return AgentState.PAUSED
        return state

    def _publish(self, agent_id: str, *, idle_from_last_call: bool = False) -> None:
        """Write one agent's mirrored state into the pool."""
        mirror = self._mirror[agent_id]
        current = self.pool.get(agent_id)
        state = self._state_of(mirror, agent_id)
        queues = tuple(sorted(self._ir_queue.get(q, q) for q in mirror.members))
        calls = sum(m.calls for m in mirror.members.values())
        idle_since = None
        if state == AgentState.AVAILABLE:
            last = max((m.last_call for m in mirror.members.values()), default=0)
            if idle_from_last_call:
                idle_since = datetime.fromtimestamp(last, UTC) if last else None
            elif current is None or current.state != AgentState.AVAILABLE:
                idle_since = self.clock.now()
        if current is None:
            return
        if (current.state == state and current.queues == queues
                and current.calls_taken == calls and idle_since is None):
            return
        self.pool.update(agent_id, state=state, queues=queues, calls_taken=calls,
                         idle_since=idle_since)

    # -- resynchronisation ---------------------------------------------------

    async def resync(self, link: AmiLink) -> tuple[AmiMessage, list[AmiMessage]]:
        """Rebuild the mirror from Asterisk's lists (QueueStatus, then
        DeviceStateList, or CoreShowChannels when that action is missing).
        Events arriving meanwhile are held and applied on top. Used as the
        link's on_connect, so every reconnect starts from a fresh picture.
        Returns CoreShowChannels' reply and items (the phones' holds read them too)."""
        self._resyncing = True
        self._held.clear()
        try:
            reply, items = await link.list_action("QueueStatus")
            if not reply.ok:
                raise AmiError(f"QueueStatus failed: {reply.message}")
            dev_reply, devices = await link.list_action("DeviceStateList")
            # the live channels: the calls Asterisk has now (and, when
            # res_manager_devicestate is not loaded, who is on a call, from
            # the channels named after agents' interfaces)
            chan_reply, channels = await link.list_action("CoreShowChannels")
            if not chan_reply.ok:
                channels = []
        except BaseException:
            # no fresh picture: keep the old one, with what happened meanwhile
            self._resyncing = False
            for event in self._take_held():
                self._apply(event)
            raise
        self._resyncing = False
        held = self._take_held()
        self._reset()
        for item in items:
            self._apply(item)
        for device in devices:
            self._device(device.get("Device") or "", device.get("State") or "")
        self.channels.clear()
        for channel in channels:
            self._track_channel(channel)
            if not dev_reply.ok:
                self._channel(channel)
        for agent_id in self._mirror:
            self._publish(agent_id, idle_from_last_call=True)
        for event in held:
            self._apply(event)
        return chan_reply, list(channels)

    def _take_held(self) -> list[AmiMessage]:
        held = list(self._held)
        self._held.clear()
        return held

    def _track_channel(self, item: AmiMessage) -> None:
        """Keep a live channel's last known facts (CoreShowChannel items
        and channel events carry the same headers)."""
        name = item.get("Channel")
        if not name:
            return
        facts = {}
        for key in _CHANNEL_KEYS:
            value = item.get(key)
            if value is not None:
                facts[key] = value
        self.channels.track(name, facts)

    def agent_for_device(self, device: str) -> str | None:
        """The configured agent whose interface is this device (a Queue()
        member's channel without its sequence, names.interface_of_channel)."""
        return self._by_interface.get(device.lower())

    def device_state(self, agent_id: str) -> str | None:
        """The agent's device state as this server last reported it (None: never), which
        tells on which of several servers the device lives (ami_union.py)."""
        mirror = self._mirror.get(agent_id)
        return mirror.device if mirror is not None else None

    def agent_of_channel(self, channel: str) -> str | None:
        """The configured agent whose device a channel is on (its interface, or the
        StateInterface its membership reported); None: no agent's."""
        key = interface_of_channel(channel).lower()
        return self._by_interface.get(key) or self._by_device.get(key)

    def knows_device(self, device: str) -> bool:
        """Whether a device is a configured agent's (its interface, or the
        StateInterface its queue membership reported)."""
        key = device.lower()
        return key in self._by_interface or key in self._by_device

    def _channel(self, item: AmiMessage) -> None:
        agent_id = self.agent_for_device(interface_of_channel(item.get("Channel") or ""))
        state = _CHANNEL_DEVICE.get(item.get("ChannelState") or "")
        if agent_id is not None and state is not None:
            self._mirror[agent_id].device = state

    # -- the console's changes, seen at once (AMI's events confirm them later) ----------

    def note_login(self, agent_id: str, queues: Iterable[str]) -> None:
        """The agent was added (unpaused) to these Asterisk queues."""
        self._logged_out.discard(agent_id)
        mirror = self._mirror.get(agent_id)
        if mirror is None:
            return
        for queue in queues:
            mirror.members.setdefault(queue, _Membership()).paused = False
        self._publish(agent_id)

    def note_member(self, agent_id: str, queue: str, member: bool) -> None:
        """The agent joined (unpaused) or left one Asterisk queue."""
        mirror = self._mirror.get(agent_id)
        if mirror is None:
            return
        if member:
            mirror.members.setdefault(queue, _Membership())
        else:
            mirror.members.pop(queue, None)
        self._publish(agent_id)

    def note_logout(self, agent_id: str) -> None:
        """The agent left every queue: logged off until it logs in."""
        mirror = self._mirror.get(agent_id)
        if mirror is None:
            return
        self._logged_out.add(agent_id)
        mirror.members.clear()
        self._publish(agent_id)

    def note_paused(self, agent_id: str, paused: bool) -> None:
        """The agent was paused or unpaused in every queue it is in."""
        mirror = self._mirror.get(agent_id)
        if mirror is None:
            return
        for membership in mirror.members.values():
            membership.paused, membership.reason = paused, ""
        self._publish(agent_id)

    def note_skills(self, agent_id: str, skills: Mapping[str, int]) -> None:
        """The agent's new skills (what has_skills and routing read)."""
        agent = self._config.get(agent_id)
        if agent is None:
            return
        self._config[agent_id] = replace(agent, skills=dict(skills))
        if self.pool.get(agent_id) is not None:
            self.pool.update(agent_id, skills=dict(skills))

    def is_logged_in(self, agent_id: str) -> bool:
        return agent_id in self._config and agent_id not in self._logged_out

    def member_queues(self, agent_id: str) -> list[str]:
        """The Asterisk queues the agent is a member of, as mirrored now."""
        mirror = self._mirror.get(agent_id)
        return sorted(mirror.members) if mirror is not None else []

    async def ensure_members(self, link: AmiLink, queues: Mapping[str, Mapping[str, int]],
                             logged_in: Callable[[str], bool] | None = None) -> None:
        """Make every logged-in configured agent with a queue's skills a member of it
        (Asterisk queue name -> required skills): QueueAdd with MemberName =
        the agent id, Interface from the template and penalty 0 (skills choose
        the members, not penalties). The members are dynamic: `ccf deploy`'s
        queues file lists none, so the console can log an agent out and a
        reload of app_queue keeps them. "Already there" is fine; any other
        refusal is collected and raised as one AmiError.
        `logged_in(agent_id)` says who is logged in (the console's desk);
        None: as this mirror knows it (is_logged_in)."""
        is_in = logged_in or self.is_logged_in
        problems: list[str] = []
        for queue, skills in queues.items():
            needed = dict(skills)
            for agent in self._config.values():
                # a logged-off agent is no member: its device may still read "Not in
                # use" (a Local channel always does) and would be rung
                if not is_in(agent.id) or not agent.has_skills(needed):
                    continue
                try:
                    interface = agent_interface(self.interface_template, agent.id,
                                                agent.extension)
                except UnsafeValue as exc:
                    problems.append(f"{queue}: {exc}")
                    continue
                reply = await link.action("QueueAdd", Queue=queue, Interface=interface,
                                          MemberName=agent.id, StateInterface=interface,
                                          Penalty=0)
                if not reply.ok and "Already there" not in reply.message:
                    problems.append(f"{queue}: agent {agent.id} ({interface}): {reply.message}")
        if problems:
            raise AmiError("could not make every agent a queue member: " + "; ".join(problems))
