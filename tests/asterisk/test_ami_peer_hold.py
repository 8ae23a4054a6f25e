"""The AMI double sends a phone's hold as Asterisk 22.10.1 does, and the mirror reads it.

The headers were first written from Asterisk's source (main/manager_channels.c channel_hold_cb /
channel_unhold_cb: the channel snapshot, then `MusicClass` when the hold suggested one; the
bridged channel's MusicOnHoldStart with `Class`, MusicOnHoldStop) and have since been seen on a
real SIP phone's hold (captures/ami-phone-hold*.txt; test_phone_hold_capture.py holds the double
to them value for value). These tests keep the shape in view with the add_call channels.
"""

from __future__ import annotations

from doubles.ami_server import AmiPeer
from ops.peer_thread import add_call

from ccdsl.runtime.asterisk.ami_holds import PhoneHolds
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage

CHANNEL = ["Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
           "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context",
           "Exten", "Priority", "Uniqueid", "Linkedid"]
TRUNK, AGENT_LEG = "PJSIP/trunk-00000009", "PJSIP/8001-0000000a"


def sent_by(music_class: str = "default") -> list[dict]:
    peer = AmiPeer()
    sent: list[dict] = []
    peer.emit = sent.append  # what would go on the wire, in order
    add_call(peer, "1797200000.9", agent_channel=AGENT_LEG)
    peer.bridge(TRUNK, AGENT_LEG)
    peer.phone_hold(AGENT_LEG, True, music_class)
    peer.phone_hold(AGENT_LEG, False, music_class)
    return sent


def test_hold_and_unhold_carry_asterisks_headers_in_its_order() -> None:
    hold, moh_start, unhold, moh_stop = sent_by()
    assert list(hold) == ["Event", "Privilege", *CHANNEL, "MusicClass"]
    assert (hold["Event"], hold["Privilege"], hold["MusicClass"]) == ("Hold", "call,all",
                                                                      "default")
    assert hold["Channel"] == AGENT_LEG and hold["ChannelStateDesc"] == "Up"
    assert list(unhold) == ["Event", "Privilege", *CHANNEL]
    assert unhold["Event"] == "Unhold" and unhold["Channel"] == AGENT_LEG
    # the held caller hears the music: on the caller's channel, not the holder's
    assert list(moh_start) == ["Event", "Privilege", *CHANNEL, "Class"]
    assert (moh_start["Event"], moh_start["Channel"], moh_start["Class"]) == (
        "MusicOnHoldStart", TRUNK, "default")
    assert list(moh_stop) == ["Event", "Privilege", *CHANNEL]
    assert (moh_stop["Event"], moh_stop["Channel"]) == ("MusicOnHoldStop", TRUNK)


def test_an_endpoint_without_moh_suggest_sends_no_music_class() -> None:
    hold = sent_by("")[0]
    assert "MusicClass" not in hold and list(hold) == ["Event", "Privilege", *CHANNEL]


def message(**headers: str) -> AmiMessage:
    return AmiMessage(dict(headers))


def test_each_servers_channel_is_its_own() -> None:
    """Two servers number channels alike: the Unhold or Hangup of the same name on the other
    server does not end a hold; one entry per agent however many Holds a peer sends."""
    told: list[tuple[str, bool]] = []
    holds = PhoneHolds(lambda channel: "zhang" if channel.startswith("PJSIP/8001-") else None)
    holds.on_hold = lambda agent, on: told.append((agent, on))
    for n in range(100):
        holds.apply("a", message(Event="Hold", Channel=f"PJSIP/8001-{n:08x}"))
    holds.apply("a", message(Event="Hold", Channel="PJSIP/trunk-00000001"))
    assert holds.holding("zhang") == "PJSIP/8001-00000063" and len(holds._held) == 1
    holds.apply("b", message(Event="Unhold", Channel="PJSIP/8001-00000063"))
    holds.apply("b", message(Event="Hangup", Channel="PJSIP/8001-00000063"))
    assert holds.holding("zhang") == "PJSIP/8001-00000063"
    holds.apply("a", message(Event="Hangup", Channel="PJSIP/8001-00000063"))
    assert holds.holding("zhang") is None
    assert told == [("zhang", True)] * 100 + [("zhang", False)]
