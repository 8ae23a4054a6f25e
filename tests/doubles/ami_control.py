"""The AMI test peer's call-control actions (the console's): MuteAudio, BlindTransfer, Atxfer.

Replies as Asterisk 22.10.1 words them (main/manager.c action_blind_transfer and
action_atxfer, res/res_mutestream.c manager_mutestream), and what the trial showed them
do (docs/asterisk.md "The console's call control"). `bridge(a, b)` pairs two channels.
"""

from __future__ import annotations

from ccdsl.runtime.testing.peer.ami_mixmonitor import mute_refusal, muting
from doubles.ami_state import PeerChannel
from doubles.ami_wire import Request, Session, ast_true, error, reply


class ControlActions:
    channels: dict[str, PeerChannel]
    bridges: dict[str, str]  # channel -> the channel it is bridged with
    muted: dict[str, bool]  # channel -> MuteAudio Direction in
    atxfer_code: str | None  # features.conf [featuremap] atxfer; None: not set

    def emit(self, event: dict[str, object]) -> None: ...  # AmiPeer's

    def hangup(self, name: str, cause: int = 16) -> None: ...  # AsteriskState's

    def bridge(self, one: str, two: str) -> None:
        """Two channels talk (Queue()/Dial() bridged them)."""
        self.bridges[one], self.bridges[two] = two, one
        for name in (one, two):
            self.channels[name].state = 6

    def agent_leg(self, caller: PeerChannel, interface: str) -> PeerChannel:
        """An agent's answered channel of the caller's call, bridged with it
        (its Linkedid the caller's, as app_queue's dial makes it)."""
        uid = f"{caller.uniqueid.split('.')[0]}.{len(self.channels) + 900}"
        chan = PeerChannel(f"{interface}-{len(self.channels) + 0x20:08x}", uid,
                           caller.linkedid, "ccf-inbound", "s", state=6, device=interface,
                           caller_num=caller.caller_num, application="AppDial",
                           data="(Outgoing Line)")
        self.channels[chan.name] = chan
        self.bridge(caller.name, chan.name)
        return chan

    def _action_mixmonitormute(self, session: Session, request: Request) -> None:
        # apps/app_mixmonitor.c manager_mute_mixmonitor (Asterisk 22), its header
        # checks the test peer's (ami_mixmonitor.py); a channel MixMonitor never ran on
        # (no MIXMONITOR_FILENAME: no audiohooks) cannot be muted; Success has no Message
        refusal = mute_refusal(request.get)
        if refusal is not None:
            error(session, request, refusal)
            return
        chan = self.channels.get(request.get("Channel"))
        if chan is None:
            error(session, request, "No such channel")
            return
        if "MIXMONITOR_FILENAME" not in chan.variables:
            error(session, request, "Cannot set mute flag")
            return
        muted = muting(request.get("State"))
        self.mixmonitor_mutes[chan.name] = muted
        reply(session, request, "Success")
        self.emit({"Event": "MixMonitorMute", **chan.fields(),
                   "Direction": request.get("Direction").lower(), "State": "1" if muted else "0"})

    def _action_muteaudio(self, session: Session, request: Request) -> None:
        name = request.get("Channel")
        for header, message in (("Channel", "Channel not specified"),
                                ("State", "State not specified"),
                                ("Direction", "Direction not specified")):
            if not request.get(header):
                error(session, request, message)
                return
        if name not in self.channels:
            error(session, request, "No such channel")
            return
        self.muted[name] = ast_true(request.get("State"))
        reply(session, request, "Success")

    def _transferer(self, session: Session, request: Request) -> str | None:
        """The Channel of a BlindTransfer or Atxfer, checked as manager.c
        checks both (an error reply, None, when it is wrong)."""
        name = request.get("Channel")
        if not name:
            error(session, request, "No channel specified")
            return None
        if not request.get("Exten"):
            error(session, request, "No extension specified")
            return None
        if name not in self.channels:
            error(session, request, "Channel specified does not exist")
            return None
        return name

    def _action_blindtransfer(self, session: Session, request: Request) -> None:
        name = self._transferer(session, request)
        if name is None:
            return
        other = self.bridges.get(name)
        if other is None:
            error(session, request, "Transfer invalid")
            return
        reply(session, request, "Success", "Transfer succeeded")
        transferer, transferee = self.channels[name], self.channels[other]
        self.emit({"Event": "BlindTransfer", "Privilege": "call,all", "Result": "Success",
                   "TransfererChannel": name, "TransfererUniqueid": transferer.uniqueid,
                   "TransfereeChannel": other, "TransfereeUniqueid": transferee.uniqueid,
                   "IsExternal": "Yes", "Context": request.get("Context"),
                   "Extension": request.get("Exten")})
        del self.bridges[name], self.bridges[other]
        transferee.goto(request.get("Context"), request.get("Exten"))
        self.hangup(name)

    def _action_atxfer(self, session: Session, request: Request) -> None:
        name = self._transferer(session, request)
        if name is None:
            return
        if not self.atxfer_code:
            error(session, request, "No attended transfer feature code found")
            return
        if request.get("Context"):
            self.channels[name].variables["TRANSFER_CONTEXT"] = request.get("Context")
        reply(session, request, "Success", "Atxfer successfully queued")
