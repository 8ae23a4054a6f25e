"""A queued call's channels at the AMI double: what Asterisk 22 sends around app_queue's events.

The app_queue model (ccdsl.runtime.testing.peer) sends app_queue's own events only; on Asterisk
the call's channels have theirs too, and the console's actions need them (BlindTransfer,
MuteAudio, ChanSpy on the agent's leg). Each model event passes here on its way to `emit`:

- QueueCallerJoin: a caller channel the double does not know yet (the test did not place the
  call through it) is made from the event and announced (Newchannel) first;
- AgentCalled: Newchannel of the member's new channel (Down; the caller's Linkedid) first;
  app_queue.c ring_entry does ast_request (chan_pjsip_new, AST_STATE_DOWN) before ast_call
  and the AgentCalled blob; then Newstate Ringing as a phone rings (not a Local member);
- AgentRingNoAnswer: then Hangup of that channel (rna(), then do_hang / hangupcalls; Cause 0);
- AgentConnect: first Hangup of the members rung with it who did not answer (hangupcalls
  with the answerer excepted, try_calling) and Newstate Up of the answerer; after it
  BridgeCreate, BridgeEnter of the member's channel, then of the caller's
  (features.c ast_bridge_call_with_flags: ast_bridge_impart(peer), then ast_bridge_join(chan));
- AgentComplete (sent on the hang-up request, app_queue.c handle_hangup): then BridgeLeave of
  the channel that hung up and of the other, BridgeDestroy, Hangup of the member's channel,
  and of the caller's when the caller ended it. A caller held by the agent's phone has its
  music stopped (MusicOnHoldStop) before anything else when it hung up, and after the
  member's Hangup when the agent did (captures/ami-phone-hold-*-hangs-up.txt);
- QueueCallerAbandon: Hangup of the members still ringing for the caller first (the caller
  hung up or its time ran out; try_calling's hangupcalls before queue_exec's record_abandoned).

No DeviceStateChange is added (the double sends those when a test sets a device's state).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from doubles.ami_state import PeerChannel

_SNAPSHOT = {"name": "Channel", "state": "ChannelState", "caller_num": "CallerIDNum",
             "caller_name": "CallerIDName", "connected_num": "ConnectedLineNum",
             "connected_name": "ConnectedLineName", "language": "Language",
             "accountcode": "AccountCode", "context": "Context", "exten": "Exten",
             "priority": "Priority", "uniqueid": "Uniqueid", "linkedid": "Linkedid"}
_CAUSE_TEXT = {0: "Unknown", 16: "Normal Clearing"}


def channel_from(event: Mapping[str, object], prefix: str = "", **extra) -> PeerChannel:
    """A PeerChannel from an event's channel fields (Dest* with prefix "Dest")."""
    values = {attr: event[prefix + key] for attr, key in _SNAPSHOT.items()
              if prefix + key in event}
    values["state"] = int(str(values.get("state", 0)))
    values["priority"] = int(str(values.get("priority", 1)))
    values = {k: v if k in ("state", "priority") else str(v) for k, v in values.items()}
    return PeerChannel(**values, **extra)


class QueueCallChannels:
    """Mixed into AmiPeer: `on_app_queue` is its listener on the app_queue model."""

    channels: dict[str, PeerChannel]
    bridges: dict[str, str]
    muted: dict[str, bool]
    # caller's channel -> the member channels app_queue rings for it now
    queue_rings: dict[str, list[str]]
    # channel -> the Asterisk bridge it is in (BridgeUniqueid)
    bridge_ids: dict[str, str]

    def emit(self, event: dict[str, object]) -> None: ...  # AmiPeer's

    def bridge(self, one: str, two: str) -> None: ...  # ControlActions'

    # AmiState's: a phone's hold and the music it gives the other channel
    def _phone_music(self) -> dict[str, str]: ...

    def _music(self, chan: PeerChannel, on: bool, music_class: str = "default") -> None: ...

    def _holder_gone(self, names: set[str]) -> None: ...

    def on_app_queue(self, event: dict[str, object]) -> None:
        name = event.get("Event")
        caller = str(event.get("Channel") or "")
        if name == "QueueCallerJoin" and caller not in self.channels:
            chan = channel_from(event, application="Queue", data=str(event.get("Queue")))
            self.channels[chan.name] = chan
            self.emit({"Event": "Newchannel", **chan.fields()})
        elif name == "AgentCalled":
            self._member_rings(caller, event)
            return
        elif name == "AgentConnect":
            self._connect(caller, event)
            return
        elif name == "QueueCallerAbandon":
            for member in self.queue_rings.pop(caller, []):
                self._channel_gone(member, 0)
        self.emit(event)
        if name == "AgentRingNoAnswer":
            member = str(event.get("DestChannel"))
            rings = self.queue_rings.get(caller, [])
            if member in rings:
                rings.remove(member)
            self._channel_gone(member, 0)
        elif name == "AgentComplete":
            self._complete(caller, str(event.get("DestChannel")), str(event.get("Reason")))

    # -- the steps of a queued call --------------------------------------------------

    def _member_rings(self, caller: str, event: dict[str, object]) -> None:
        chan = channel_from(event, "Dest", application="AppDial", data="(Outgoing Line)",
                            device=str(event.get("Interface") or ""))
        self.channels[chan.name] = chan
        self.queue_rings.setdefault(caller, []).append(chan.name)
        self.emit({"Event": "Newchannel", **chan.fields()})
        self.emit(event)
        if not chan.name.startswith("Local/"):
            # a phone's 180 Ringing; a Local member stays Down while it rings
            # (ami-queue-*.txt: AgentRingNoAnswer's DestChannelState 0)
            chan.state = 5
            self.emit({"Event": "Newstate", **chan.fields()})

    def _connect(self, caller: str, event: dict[str, object]) -> None:
        member = str(event.get("DestChannel"))
        for other in self.queue_rings.pop(caller, []):
            if other != member:
                self._channel_gone(other, 0)
        leg = self.channels.get(member)
        if leg is None:  # a ring the double did not see: known from here on
            leg = channel_from(event, "Dest", application="AppDial", data="(Outgoing Line)",
                               device=str(event.get("Interface") or ""))
            self.channels[member] = leg
            self.emit({"Event": "Newchannel", **leg.fields()})
        if leg.state != 6:
            leg.state = 6
            self.emit({"Event": "Newstate", **leg.fields()})
        self.emit(event)
        if caller not in self.channels:
            return
        self.bridge(caller, member)
        bridge_id = str(uuid.uuid4())
        self.emit({"Event": "BridgeCreate", **self._bridge_fields(bridge_id, 0)})
        for count, name in enumerate((member, caller), 1):
            self.bridge_ids[name] = bridge_id
            self.emit({"Event": "BridgeEnter", **self._bridge_fields(bridge_id, count),
                       **self.channels[name].fields()})

    def _complete(self, caller: str, member: str, reason: str) -> None:
        first, second = (caller, member) if reason == "caller" else (member, caller)
        if reason == "caller":
            self._music_stops(caller)  # a held caller's BYE: before it leaves the bridge
        bridge_id = self.bridge_ids.get(member)
        if bridge_id is not None:
            left = sum(1 for b in self.bridge_ids.values() if b == bridge_id)
            for name in (first, second):
                if self.bridge_ids.get(name) != bridge_id:
                    continue
                del self.bridge_ids[name]
                left -= 1
                if name not in self.channels:  # gone already (a transfer's hang-up)
                    continue
                self.emit({"Event": "BridgeLeave", **self._bridge_fields(bridge_id, left),
                           **self.channels[name].fields()})
            self.emit({"Event": "BridgeDestroy", **self._bridge_fields(bridge_id, left)})
        for name in (member, caller):
            if self.bridges.get(name) in (member, caller):
                del self.bridges[name]
        self._channel_gone(member, 16)
        if reason == "caller":
            self._channel_gone(caller, 16)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _bridge_fields(bridge_id: str, count: int) -> dict[str, object]:
        """ast_manager_build_bridge_state_string: a basic bridge
        (ast_bridge_basic_new), two-party, no name or creator."""
        return {"BridgeUniqueid": bridge_id, "BridgeType": "basic",
                "BridgeTechnology": "simple_bridge", "BridgeCreator": "<unknown>",
                "BridgeName": "<unknown>", "BridgeNumChannels": count,
                "BridgeVideoSourceMode": "none"}

    def _channel_gone(self, name: str, cause: int) -> None:
        """Hangup of one channel of the queued call (already gone, e.g.
        transferred away: nothing)."""
        chan = self.channels.pop(name, None)
        if chan is None:
            return
        self.bridge_ids.pop(name, None)
        other = self.bridges.pop(name, None)
        if other is not None and self.bridges.get(other) == name:
            del self.bridges[other]
        self.muted.pop(name, None)
        self._music_stops(chan.name, chan)
        self.emit({"Event": "Hangup", **chan.fields(), "Cause": cause,
                   "Cause-txt": _CAUSE_TEXT.get(cause, "Unknown")})
        self._holder_gone({name})  # a phone that held hangs up: the other's music stops

    def _music_stops(self, name: str, chan: PeerChannel | None = None) -> None:
        """A channel hearing the music of a phone's hold stops hearing it (MusicOnHoldStop)."""
        if self._phone_music().pop(name, None) is not None:
            self._music(chan or self.channels[name], False)
