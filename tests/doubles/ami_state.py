"""The simulated Asterisk behind the AMI test peer: queues, members, callers, channels, devices.

What tests steer (add_queue, set_device_state, add_caller, remove_caller, hangup)
and the events each change emits. Never speaks the wire itself: `emit` is the peer's.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Asterisk's device states (include/asterisk/devicestate.h), by number as
# QueueMember's Status gives them
DEVICE_STATES = ("UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE",
                 "RINGING", "RINGINUSE", "ONHOLD")


@dataclass
class PeerMember:
    interface: str
    name: str
    state_interface: str
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    status: int = 1  # a DEVICE_STATES index
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = field(default_factory=lambda: int(time.time()))
    in_call: int = 0
    membership: str = "dynamic"


@dataclass
class PeerCaller:
    channel: str
    uniqueid: str
    caller_num: str
    caller_name: str
    joined: float
    priority: int = 0


@dataclass
class PeerQueue:
    name: str
    strategy: str = "ringall"
    members: dict[str, PeerMember] = field(default_factory=dict)  # by interface
    callers: list[PeerCaller] = field(default_factory=list)
    holdtime: int = 0
    talktime: int = 0
    completed: int = 0
    abandoned: int = 0


@dataclass
class PeerChannel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    priority: int = 1
    state: int = 6  # Up
    caller_num: str = "<unknown>"
    caller_name: str = "<unknown>"
    application: str = ""
    data: str = ""
    partner: str | None = None  # the other half of a Local channel
    device: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)


STATE_DESC = {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}


class AsteriskState:
    """The model's fields (set by AmiPeer) and the changes tests make to it."""

    queues: dict[str, PeerQueue]
    channels: dict[str, PeerChannel]
    devices: dict[str, str]  # device -> state name
    ringing: dict[tuple[str, str], str]  # (caller channel, member interface) -> its channel
    processed_calls: int
    _ids: itertools.count
    _local_ids: itertools.count

    emit: Callable[[dict[str, object]], None]  # AmiServer's: to every session that listens

    def add_queue(self, name: str, strategy: str = "ringall") -> PeerQueue:
        return self.queues.setdefault(name, PeerQueue(name, strategy))

    def set_device_state(self, device: str, state: str) -> None:
        """A device changes state: DeviceStateChange, and QueueMemberStatus
        for every member whose state interface it is (app_queue does)."""
        state = state.upper()
        self.devices[device] = state
        self.emit({"Event": "DeviceStateChange", "Device": device, "State": state})
        for queue in self.queues.values():
            for member in queue.members.values():
                if member.state_interface == device:
                    member.status = DEVICE_STATES.index(state)
                    self.emit(self._member_event("QueueMemberStatus", queue, member))

    def add_caller(self, queue: str, caller_num: str = "+8613800000001",
                   caller_name: str = "Caller", priority: int = 0) -> str:
        """A call joins a queue (QueueCallerJoin); its channel name."""
        q = self.queues[queue]
        chan = self._new_channel("Local/s@ivr", "ivr", "s", caller_num, caller_name)
        q.callers.append(PeerCaller(chan.name, chan.uniqueid, caller_num, caller_name,
                                    time.monotonic(), priority))
        self.emit({"Event": "QueueCallerJoin", **self._channel_fields(chan),
                   "Queue": queue, "Position": len(q.callers), "Count": len(q.callers)})
        return chan.name

    def remove_caller(self, queue: str, channel: str) -> None:
        q = self.queues[queue]
        for pos, caller in enumerate(q.callers, 1):
            if caller.channel == channel:
                del q.callers[pos - 1]
                fields = self._channel_fields(self.channels[channel]) \
                    if channel in self.channels else {"Channel": channel}
                self.emit({"Event": "QueueCallerLeave", **fields, "Queue": queue,
                           "Position": pos, "Count": len(q.callers)})
                return
        raise KeyError(f"{channel} is not waiting in {queue}")

    # -- a queue caller's rings (app_queue ring_one / rna; captures ami-queue-*.txt) --

    def caller_channel(self, name: str, uniqueid: str, caller_num: str = "<unknown>",
                       caller_name: str = "<unknown>", context: str = "ccf-inbound",
                       exten: str = "s") -> PeerChannel:
        """The caller's channel as a call that runs AGI has it (its Uniqueid
        is the agi_uniqueid ccf serve takes as the call id)."""
        chan = PeerChannel(name, uniqueid, uniqueid, context, exten, priority=2,
                           caller_num=caller_num, caller_name=caller_name,
                           application="Queue")
        self.channels[name] = chan
        return chan

    def agent_called(self, queue: str, interface: str, caller: PeerChannel) -> None:
        """A member starts ringing for the caller: AgentCalled, with the
        member's new channel as Dest* (Down, the caller's Linkedid)."""
        member = self.queues[queue].members[interface]
        dest = PeerChannel(f"{interface}-{next(self._local_ids):08x}", self._new_uniqueid(),
                           caller.linkedid, "from-internal", queue, state=0,
                           caller_num=caller.caller_num, caller_name=caller.caller_name,
                           device=member.state_interface)
        self.channels[dest.name] = dest
        self.ringing[(caller.name, interface)] = dest.name
        self.emit(self._agent_event("AgentCalled", queue, member, caller, dest))

    def agent_ring_no_answer(self, queue: str, interface: str, caller: PeerChannel,
                             ring_ms: int, autopause: str = "no") -> None:
        """The member's ring ran out (app_queue rna()): AgentRingNoAnswer
        with RingTime, then with autopause yes a QueueMemberPause
        (`Auto-Pause`) for this queue, with all one for every queue the
        interface is a member of."""
        member = self.queues[queue].members[interface]
        dest = self.channels.pop(self.ringing.pop((caller.name, interface)))
        self.emit({**self._agent_event("AgentRingNoAnswer", queue, member, caller, dest),
                   "RingTime": ring_ms})
        if autopause == "no":
            return
        paused = [self.queues[queue]] if autopause != "all" else \
            [q for q in self.queues.values() if interface in q.members]
        for q in paused:
            m = q.members[interface]
            m.paused, m.paused_reason, m.last_pause = True, "Auto-Pause", int(time.time())
            self.emit(self._member_event("QueueMemberPause", q, m))

    def agent_connect(self, queue: str, interface: str, caller: PeerChannel,
                      ring_ms: int, holdtime_s: int) -> None:
        """The member answered: AgentConnect (RingTime, HoldTime)."""
        member = self.queues[queue].members[interface]
        dest = self.channels[self.ringing.pop((caller.name, interface))]
        dest.state = 6
        self.emit({**self._agent_event("AgentConnect", queue, member, caller, dest),
                   "HoldTime": holdtime_s, "RingTime": ring_ms // 1000})

    def _agent_event(self, name: str, queue: str, member: PeerMember, caller: PeerChannel,
                     dest: PeerChannel) -> dict[str, object]:
        # queue_agent_called etc. (apps/app_queue.c): the caller's channel,
        # the member's as Dest*, then Queue, Interface, MemberName
        fields = {"Event": name, "Privilege": "agent,all", **self._channel_fields(caller)}
        for key, value in self._channel_fields(dest).items():
            if key not in ("Channel", "ChannelState", "ChannelStateDesc"):
                fields["Dest" + key] = value
        out = {"Event": name, "Privilege": "agent,all"}
        out.update({k: v for k, v in fields.items() if not k.startswith("Dest")})
        out.update({"DestChannel": dest.name, "DestChannelState": dest.state,
                    "DestChannelStateDesc": STATE_DESC.get(dest.state, "Unknown")})
        out.update({k: v for k, v in fields.items() if k.startswith("Dest")})
        out.update({"Queue": queue, "Interface": member.interface,
                    "MemberName": member.name})
        return out

    def hangup(self, name: str, cause: int = 16) -> None:
        """A channel (and its Local partner) hangs up: Hangup events and,
        when the device has no channel left, DeviceStateChange NOT_INUSE."""
        chan = self.channels.pop(name)
        gone = [chan]
        if chan.partner and chan.partner in self.channels:
            gone.append(self.channels.pop(chan.partner))
        text = "Normal Clearing" if cause == 16 else "Unknown"
        for c in gone:
            for queue in self.queues.values():
                queue.callers = [x for x in queue.callers if x.channel != c.name]
            self.emit({"Event": "Hangup", **self._channel_fields(c), "Cause": cause,
                       "Cause-txt": text})
        if not any(c.device == chan.device for c in self.channels.values()):
            self.devices[chan.device] = "NOT_INUSE"
            self.emit({"Event": "DeviceStateChange", "Device": chan.device,
                       "State": "NOT_INUSE"})

    def _member_event(self, name: str, queue: PeerQueue, m: PeerMember) -> dict[str, object]:
        # queue_member_blob_create (apps/app_queue.c), in its order
        return {"Event": name, "Privilege": "agent,all", "Queue": queue.name,
                "MemberName": m.name, "Interface": m.interface,
                "StateInterface": m.state_interface, "Membership": m.membership,
                "Penalty": m.penalty, "CallsTaken": m.calls_taken, "LastCall": m.last_call,
                "LastPause": m.last_pause, "LoginTime": m.login_time, "InCall": m.in_call,
                "Status": m.status, "Paused": int(m.paused), "PausedReason": m.paused_reason,
                "Ringinuse": 1, "Wrapuptime": 0}

    def _calls(self) -> int:
        return len({c.linkedid for c in self.channels.values()})

    def _channel_fields(self, chan: PeerChannel) -> dict[str, object]:
        return {"Channel": chan.name, "ChannelState": chan.state,
                "ChannelStateDesc": STATE_DESC.get(chan.state, "Unknown"),
                "CallerIDNum": chan.caller_num, "CallerIDName": chan.caller_name,
                "ConnectedLineNum": chan.caller_num, "ConnectedLineName": chan.caller_name,
                "Language": "en", "AccountCode": "", "Context": chan.context,
                "Exten": chan.exten, "Priority": chan.priority, "Uniqueid": chan.uniqueid,
                "Linkedid": chan.linkedid}

    def _new_uniqueid(self) -> str:
        return f"{int(time.time())}.{next(self._ids)}"

    def _new_channel(self, device: str, context: str, exten: str, caller_num: str,
                     caller_name: str) -> PeerChannel:
        uid = self._new_uniqueid()
        chan = PeerChannel(f"{device}-{next(self._local_ids):08x}", uid, uid, context, exten,
                           caller_num=caller_num, caller_name=caller_name, device=device)
        self.channels[chan.name] = chan
        return chan
