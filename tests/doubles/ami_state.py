"""The simulated Asterisk behind the AMI test peer: channels, devices, and its app_queue.

What tests steer (add_queue, set_device_state, add_caller, remove_caller, hangup, a phone's
own hold (phone_hold: Hold / Unhold as Asterisk 22 sends them), and the
hand-made rings of caller_channel / agent_called / agent_ring_no_answer / agent_connect for
odd event sequences) and the events each change emits. Queues, members and whom a caller
rings are the app_queue model's (ccdsl.runtime.testing.peer.app_queue, shared with the
FastAGI peer). Never speaks the wire itself: `emit` is the peer's.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ccdsl.runtime.testing.peer.app_queue import AppQueue, Member, Queue
from ccdsl.runtime.testing.peer.queue_events import (
    DEVICE_STATES,
    ChannelSnapshot,
    agent_event,
)

# the model's member class under the name the peer's tests have used
PeerMember = Member
__all__ = ["DEVICE_STATES", "AsteriskState", "PeerChannel", "PeerMember"]


@dataclass
class PeerChannel(ChannelSnapshot):
    """A channel of the simulated Asterisk: what its channel events show
    (ChannelSnapshot; its connected line is its caller) and what the
    double keeps besides."""

    application: str = ""
    data: str = ""
    partner: str | None = None  # the other half of a Local channel
    device: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.connected_num == "<unknown>" and self.connected_name == "<unknown>":
            self.connected_num, self.connected_name = self.caller_num, self.caller_name

    def goto(self, context: str | None, exten: str | None, priority: int = 1) -> None:
        """Go on in the dialplan there (a Redirect, a blind transfer's
        transferee); no context: the channel's own."""
        self.context = context or self.context
        self.exten = exten or self.exten
        self.priority = priority


class AsteriskState:
    """The model's fields (set by AmiPeer) and the changes tests make to it."""

    app_queue: AppQueue  # queues, members, pauses, phones: the one place a test sets them
    channels: dict[str, PeerChannel]
    devices: dict[str, str]  # device -> state name
    ringing: dict[tuple[str, str], ChannelSnapshot]  # hand-made rings: (caller, interface) -> dest
    processed_calls: int
    _ids: itertools.count
    _local_ids: itertools.count

    emit: Callable[[dict[str, object]], None]  # AmiServer's: to every session that listens

    @property
    def queues(self) -> dict[str, Queue]:
        return self.app_queue.queues

    def add_queue(self, name: str, strategy: str = "ringall") -> Queue:
        return self.app_queue.add_queue(name, strategy)

    def set_device_state(self, device: str, state: str) -> None:
        """A device changes state: DeviceStateChange, and QueueMemberStatus
        for every member whose state interface it is and whose status
        changes (app_queue does)."""
        state = state.upper()
        self.devices[device] = state
        self.emit({"Event": "DeviceStateChange", "Device": device, "State": state})
        self.app_queue.set_device(device, state)

    def add_caller(self, queue: str, caller_num: str = "+8613800000001",
                   caller_name: str = "Caller", priority: int = 0) -> str:
        """A call joins a queue (QueueCallerJoin) and waits there, ringing
        nobody; its channel name."""
        chan = self._new_channel("Local/s@ivr", "ivr", "s", caller_num, caller_name)
        self.app_queue.join(queue, snapshot(chan), priority)
        return chan.name

    def remove_caller(self, queue: str, channel: str) -> None:
        for entry in self.queues[queue].callers:
            if entry.caller.name == channel:
                self.app_queue.leave(queue, entry)
                return
        raise KeyError(f"{channel} is not waiting in {queue}")

    # -- hand-made rings of a queue caller, for odd event sequences ------------------
    # (a caller whose Queue() runs at the FastAGI peer rings by the app_queue model)

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
        dest = self.app_queue.new_channel(interface, snapshot(caller))
        self.ringing[(caller.name, interface)] = dest
        self.emit(agent_event("AgentCalled", snapshot(caller), dest, queue, member))

    def agent_ring_no_answer(self, queue: str, interface: str, caller: PeerChannel,
                             ring_ms: int, autopause: str = "no") -> None:
        """The member's ring ran out (app_queue rna()): AgentRingNoAnswer
        with RingTime, then with autopause yes a QueueMemberPause
        (`Auto-Pause`) for this queue, with all one for every queue the
        interface is a member of."""
        member = self.queues[queue].members[interface]
        dest = self.ringing.pop((caller.name, interface))
        self.emit(agent_event("AgentRingNoAnswer", snapshot(caller), dest, queue, member,
                              RingTime=ring_ms))
        if autopause in ("yes", "all"):
            self.app_queue.pause(interface, True, queue if autopause == "yes" else "",
                                 "Auto-Pause")

    def agent_connect(self, queue: str, interface: str, caller: PeerChannel,
                      ring_ms: int, holdtime_s: int) -> None:
        """The member answered: AgentConnect (RingTime, HoldTime)."""
        member = self.queues[queue].members[interface]
        dest = self.ringing.pop((caller.name, interface))
        dest.state = 6
        self.emit(agent_event("AgentConnect", snapshot(caller), dest, queue, member,
                              HoldTime=holdtime_s, RingTime=ring_ms // 1000))

    def hangup(self, name: str, cause: int = 16) -> None:
        """A channel (and its Local partner) hangs up: Hangup events and,
        when the device has no channel left, DeviceStateChange NOT_INUSE."""
        chan = self.channels.pop(name)
        gone = [chan]
        if chan.partner and chan.partner in self.channels:
            gone.append(self.channels.pop(chan.partner))
        text = "Normal Clearing" if cause == 16 else "Unknown"
        music = self._phone_music()
        for c in gone:
            for queue in self.queues.values():
                queue.callers = [x for x in queue.callers if x.caller.name != c.name]
            if music.pop(c.name, None) is not None:
                self._music(c, False)  # a held caller hangs up: its music stops first
            self.emit({"Event": "Hangup", **c.fields(), "Cause": cause,
                       "Cause-txt": text})
        self._holder_gone({c.name for c in gone})
        if not any(c.device == chan.device for c in self.channels.values()):
            self.devices[chan.device] = "NOT_INUSE"
            self.emit({"Event": "DeviceStateChange", "Device": chan.device,
                       "State": "NOT_INUSE"})

    def phone_hold(self, name: str, on: bool, music_class: str = "default") -> None:
        """The phone of channel `name` holds (a re-INVITE with sendonly or inactive) or
        resumes: Hold / Unhold on that channel (the endpoint's moh_suggest as MusicClass,
        "default" unless set; "": none, and no MusicClass header), then the bridged
        channel's MusicOnHoldStart (Class) or MusicOnHoldStop, as Asterisk 22.10.1 sent them
        (tests/asterisk/captures/ami-phone-hold*.txt). A phone hanging up while it holds
        sends no Unhold: hangup stops the music after the holder's Hangup, and a held caller
        who hangs up has its music stop before its Hangup (the captures again)."""
        chan = self.channels[name]
        fields = chan.fields()
        if on:
            extra = {"MusicClass": music_class} if music_class else {}
            self.emit({"Event": "Hold", "Privilege": "call,all", **fields, **extra})
        else:
            self.emit({"Event": "Unhold", "Privilege": "call,all", **fields})
        other = self.channels.get(getattr(self, "bridges", {}).get(name, ""))
        if other is None:
            return
        music = self._phone_music()
        if on:
            music[other.name] = name
        elif music.pop(other.name, None) is None:
            return
        self._music(other, on, music_class or "default")

    def _phone_music(self) -> dict[str, str]:
        """Who hears music on hold because whose phone holds: listener -> holder (made on
        first use: AmiPeer's __init__ sets the model's other fields)."""
        return vars(self).setdefault("phone_music", {})

    def _music(self, chan: PeerChannel, on: bool, music_class: str = "default") -> None:
        moh = {"Class": music_class} if on else {}
        self.emit({"Event": "MusicOnHoldStart" if on else "MusicOnHoldStop",
                   "Privilege": "call,all", **chan.fields(), **moh})

    def _holder_gone(self, names: set[str]) -> None:
        """The channels whose phone held are gone (hung up): their listeners' music stops."""
        music = self._phone_music()
        for listener, holder in list(music.items()):
            if holder in names:
                del music[listener]
                if listener in self.channels:
                    self._music(self.channels[listener], False)

    def _calls(self) -> int:
        return len({c.linkedid for c in self.channels.values()})

    def _new_uniqueid(self) -> str:
        return f"{int(time.time())}.{next(self._ids)}"

    def _new_channel(self, device: str, context: str, exten: str, caller_num: str,
                     caller_name: str) -> PeerChannel:
        uid = self._new_uniqueid()
        chan = PeerChannel(f"{device}-{next(self._local_ids):08x}", uid, uid, context, exten,
                           caller_num=caller_num, caller_name=caller_name, device=device)
        self.channels[chan.name] = chan
        return chan


def snapshot(chan: PeerChannel) -> ChannelSnapshot:
    """A copy of what a peer channel's events show now (app_queue keeps it)."""
    return ChannelSnapshot(**{f.name: getattr(chan, f.name) for f in fields(ChannelSnapshot)})
