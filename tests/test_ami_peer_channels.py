"""The AMI double announces a queued call's channels as Asterisk 22 does.

A caller's Queue() runs on the double's app_queue model; besides app_queue's events the double
sends the channel and bridge events of the call: Newchannel of the member's outgoing channel
before AgentCalled (apps/app_queue.c ring_entry: ast_request, then ast_call, then the
AgentCalled blob), Newstate Ringing after it; at the answer the member's channel Up, AgentConnect,
then BridgeCreate and BridgeEnter of the member's channel and then the caller's
(main/features.c ast_bridge_call_with_flags imparts the peer before joining the caller);
Hangup of a member's channel that rang out (rna(), then do_hang / hangupcalls), and
BridgeLeave of both and the member's Hangup when the conversation ends.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from doubles.ami_server import AmiPeer
from doubles.ami_state import snapshot

from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.testing.peer.app_queue import Phone
from ccdsl.runtime.testing.peer.queue_call import run_queue

CALL_ID = "1797000000.21"
CALLER = "+8613800000001"
TRUNK = "PJSIP/trunk-00000021"
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
CHANNEL_KEYS = ["Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
                "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context",
                "Exten", "Priority", "Uniqueid", "Linkedid"]
BRIDGE_KEYS = ["BridgeUniqueid", "BridgeType", "BridgeTechnology", "BridgeCreator",
               "BridgeName", "BridgeNumChannels", "BridgeVideoSourceMode"]


class Line:
    """A QueueLine on a virtual clock; the caller hangs up at `hangup`."""

    def __init__(self, hangup_after_s: float | None = None) -> None:
        self.clock = VirtualClock(T0)
        self.hangup = None if hangup_after_s is None else T0 + timedelta(seconds=hangup_after_s)

    def now(self) -> datetime:
        return self.clock.now()

    async def pass_ms(self, ms: int | None) -> None:
        end = None if ms is None else self.clock.now() + timedelta(milliseconds=ms)
        if self.hangup is not None and (end is None or self.hangup <= end):
            self.clock.advance(max(0, round((self.hangup - self.clock.now())
                                            .total_seconds() * 1000)))
            raise CallHungUp()
        assert ms is not None
        self.clock.advance(ms)

    async def answered(self, member, channel) -> None:
        return None

    def caller_ends(self) -> None:
        self.hangup = self.clock.now()


def queued_call(members: dict[str, Phone], *, conf: str = "", timeout_s: int = 20,
                known_caller: bool = True, line: Line | None = None):
    """One caller through the double's app_queue: every event the double
    sent, in order, and the peer."""
    peer = AmiPeer(users={"ccf": "s"})
    sent: list[dict] = []
    peer.emit = sent.append  # what goes on the wire, in order
    text = "[ccf-service]\nstrategy = ringall\ntimeout = 5\nretry = 2\n" + conf
    text += "".join(f"member => PJSIP/{ext},0,{name}\n" for name, ext in
                    (("zhang", "8001"), ("li", "8002")) if name in members)
    peer.app_queue.load_conf(text)
    peer.app_queue.phones.update(members)
    if known_caller:
        caller = snapshot(peer.caller_channel(TRUNK, CALL_ID, CALLER, "Caller"))
    else:
        caller = snapshot(peer.caller_channel(TRUNK, CALL_ID, CALLER, "Caller"))
        del peer.channels[TRUNK]  # a call the double was not told of

    async def main():
        return await run_queue(peer.app_queue, "ccf-service", caller, line or Line(),
                               timeout_s=timeout_s)

    result = asyncio.run(main())
    return sent, peer, result


def names(sent: list[dict]) -> list[str]:
    return [str(e["Event"]) for e in sent]


def test_an_answered_call_announces_the_member_channel_and_the_bridge() -> None:
    sent, peer, result = queued_call({"zhang": Phone(answer_after_ms=1_000, talk_ms=30_000)})
    assert result.member is not None and result.member.name == "zhang"
    assert names(sent) == [
        "QueueCallerJoin", "Newchannel", "AgentCalled", "Newstate", "QueueCallerLeave",
        "Newstate", "AgentConnect", "BridgeCreate", "BridgeEnter", "BridgeEnter",
        "QueueMemberStatus", "AgentComplete", "BridgeLeave", "BridgeLeave", "BridgeDestroy",
        "Hangup", "QueueMemberStatus"]
    new = sent[1]
    called = sent[2]
    assert list(new)[1:] == CHANNEL_KEYS
    member = str(new["Channel"])
    assert member.startswith("PJSIP/8001-") and len(member) == len("PJSIP/8001-0000000a")
    assert member == called["DestChannel"]
    assert new["Uniqueid"] == called["DestUniqueid"] and new["Uniqueid"] != CALL_ID
    assert new["Linkedid"] == CALL_ID  # the caller's
    assert (new["ChannelState"], new["ChannelStateDesc"]) == (0, "Down")
    assert new["CallerIDNum"] == CALLER and new["ConnectedLineNum"] == CALLER
    assert sent[3]["Channel"] == member and sent[3]["ChannelStateDesc"] == "Ringing"
    assert sent[5]["Channel"] == member and sent[5]["ChannelStateDesc"] == "Up"
    create, first, second = sent[7:10]
    assert list(create)[1:] == BRIDGE_KEYS
    assert list(first)[1:] == BRIDGE_KEYS + CHANNEL_KEYS
    # the member's channel is imparted first, then the caller joins
    assert (first["Channel"], first["BridgeNumChannels"]) == (member, 1)
    assert (second["Channel"], second["BridgeNumChannels"]) == (TRUNK, 2)
    assert second["Uniqueid"] == CALL_ID and second["ChannelStateDesc"] == "Up"
    assert first["BridgeUniqueid"] == second["BridgeUniqueid"] == create["BridgeUniqueid"]
    assert first["BridgeType"] == "basic"
    # the agent hung up: the member's channel leaves first and is gone
    assert [e["Channel"] for e in sent[12:14]] == [member, TRUNK]
    assert (sent[15]["Channel"], sent[15]["Cause"]) == (member, 16)
    assert member not in peer.channels and member not in peer.bridges
    assert TRUNK in peer.channels  # the caller's channel goes on in the dialplan


def test_during_the_conversation_the_channels_are_there_and_bridged() -> None:
    seen: dict = {}
    peer_box: list[AmiPeer] = []

    def at_connect(event):
        if event.get("Event") == "AgentConnect":
            peer = peer_box[0]
            seen["channels"] = {n: c.linkedid for n, c in peer.channels.items()}
            seen["bridges"] = dict(peer.bridges)

    peer = AmiPeer(users={"ccf": "s"})
    peer_box.append(peer)
    sent: list[dict] = []
    peer.emit = sent.append
    peer.app_queue.load_conf("[ccf-service]\nstrategy = ringall\ntimeout = 5\n"
                             "member => PJSIP/8001,0,zhang\n")
    peer.app_queue.phones["zhang"] = Phone(answer_after_ms=1_000)
    peer.app_queue.listeners.append(at_connect)
    caller = snapshot(peer.caller_channel(TRUNK, CALL_ID, CALLER, "Caller"))
    asyncio.run(run_queue(peer.app_queue, "ccf-service", caller, Line(), timeout_s=20))
    member = next(n for n in seen["channels"] if n.startswith("PJSIP/8001-"))
    assert seen["channels"] == {TRUNK: CALL_ID, member: CALL_ID}
    assert seen["bridges"] == {TRUNK: member, member: TRUNK}


def test_a_ring_out_hangs_up_the_member_channel() -> None:
    sent, peer, _ = queued_call({"li": Phone(answer_after_ms=None)}, timeout_s=6)
    head = names(sent)[:6]
    assert head == ["QueueCallerJoin", "Newchannel", "AgentCalled", "Newstate",
                    "AgentRingNoAnswer", "Hangup"]
    member = sent[1]["Channel"]
    assert str(member).startswith("PJSIP/8002-")
    assert sent[4]["DestChannel"] == member
    hangup = sent[5]
    assert list(hangup)[1:] == CHANNEL_KEYS + ["Cause", "Cause-txt"]
    assert (hangup["Channel"], hangup["Cause"], hangup["Cause-txt"]) == (member, 0, "Unknown")
    # each round a new channel rings and rings out; none is left
    rung = [e["Channel"] for e in sent if e["Event"] == "Newchannel"]
    gone = [e["Channel"] for e in sent if e["Event"] == "Hangup"]
    assert rung == gone and len(set(rung)) == len(rung)
    assert not [n for n in peer.channels if n.startswith("PJSIP/8002-")]
    assert "BridgeEnter" not in names(sent)


def test_ringall_hangs_up_the_members_who_did_not_answer_before_the_connect() -> None:
    sent, peer, result = queued_call({"zhang": Phone(answer_after_ms=1_000, talk_ms=5_000),
                                      "li": Phone(answer_after_ms=None)})
    assert result.member is not None and result.member.name == "zhang"
    rung = {e["Channel"]: e for e in sent if e["Event"] == "Newchannel"}
    li = next(n for n in rung if n.startswith("PJSIP/8002-"))
    zhang = next(n for n in rung if n.startswith("PJSIP/8001-"))
    order = [(e["Event"], e.get("Channel")) for e in sent]
    assert order.index(("Hangup", li)) < order.index(("AgentConnect", TRUNK))
    assert order.index(("AgentConnect", TRUNK)) < order.index(("BridgeEnter", zhang))
    assert not [n for n in peer.channels if n.startswith("PJSIP/")
                and n != TRUNK]


def test_a_caller_the_double_did_not_know_is_announced_at_the_join() -> None:
    sent, peer, _ = queued_call({"zhang": Phone(answer_after_ms=1_000, talk_ms=5_000,
                                                hangs_up="caller")},
                                known_caller=False)
    assert names(sent)[:3] == ["Newchannel", "QueueCallerJoin", "Newchannel"]
    assert sent[0]["Channel"] == TRUNK and sent[0]["Uniqueid"] == CALL_ID
    assert sent[0]["Linkedid"] == CALL_ID and sent[0]["CallerIDNum"] == CALLER
    enters = [e["Channel"] for e in sent if e["Event"] == "BridgeEnter"]
    assert enters[1] == TRUNK
    # the caller hung up: it leaves the bridge first, and both channels are gone
    leaves = [e["Channel"] for e in sent if e["Event"] == "BridgeLeave"]
    assert leaves[0] == TRUNK
    assert {e["Channel"] for e in sent if e["Event"] == "Hangup"} == {TRUNK, enters[0]}
    assert not peer.channels


def test_a_caller_who_hangs_up_while_it_rings_ends_the_ring() -> None:
    sent, peer, result = queued_call({"li": Phone(answer_after_ms=None)},
                                     line=Line(hangup_after_s=2))
    assert result.result == -1
    order = names(sent)
    assert order[:4] == ["QueueCallerJoin", "Newchannel", "AgentCalled", "Newstate"]
    member = sent[1]["Channel"]
    assert order.index("Hangup") < order.index("QueueCallerAbandon")
    assert next(e for e in sent if e["Event"] == "Hangup")["Channel"] == member
    assert member not in peer.channels
