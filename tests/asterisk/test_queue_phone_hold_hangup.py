"""A queued call held on the agent's phone and hung up during the hold, at the AMI double.

The double's app_queue path (tests/doubles/ami_queue_calls.py) ends a conversation with
AgentComplete, the bridge's events and the Hangups. When the agent's phone held the caller,
Asterisk 22.10.1 also stopped the caller's music on hold (tests/asterisk/captures/
ami-phone-hold-agent-hangs-up.txt and -caller-hangs-up.txt): after the holder's Hangup when
the agent hung up, and before anything else of the caller's when the caller did. The double's
Hold, MusicOnHold and Hangup events are held to those captures, header for header.
"""

from __future__ import annotations

import asyncio

from doubles.ami_server import AmiPeer
from doubles.ami_state import snapshot

from ccdsl.runtime.testing.peer.app_queue import Phone
from ccdsl.runtime.testing.peer.queue_call import run_queue
from tests.asterisk.test_phone_hold_capture import KINDS, captured, from_the_hold
from tests.test_ami_peer_channels import CALL_ID, CALLER, TRUNK, Line


def held_queued_call(phone: Phone, line: Line) -> tuple[list[dict], AmiPeer, str]:
    """A caller queued at the double; the agent's phone holds once the caller has joined the
    bridge. Every event sent, the peer, and the member's channel."""
    peer = AmiPeer(users={"ccf": "s"})
    sent: list[dict] = []

    def emit(event: dict) -> None:
        sent.append(event)
        if event["Event"] == "BridgeEnter" and event["Channel"] == TRUNK:
            member = next(n for n in peer.channels if n.startswith("PJSIP/8001-"))
            peer.phone_hold(member, True)

    peer.emit = emit
    peer.app_queue.load_conf("[ccf-service]\nstrategy = ringall\ntimeout = 5\n"
                             "member => PJSIP/8001,0,zhang\n")
    peer.app_queue.phones["zhang"] = phone
    caller = snapshot(peer.caller_channel(TRUNK, CALL_ID, CALLER, "Caller"))
    asyncio.run(run_queue(peer.app_queue, "ccf-service", caller, line, timeout_s=20))
    member = next(str(e["Channel"]) for e in sent if e["Event"] == "Hold")
    return sent, peer, member


def roles(events, agent: str) -> list[tuple[str, str]]:
    """The hold's and the hang-ups' events as (event, whose channel)."""
    out = []
    for event in events:
        get = event.get
        if get("Event") in KINDS:
            out.append((str(get("Event")), "agent" if get("Channel") == agent else "caller"))
    return out


def captured_roles(name: str) -> list[tuple[str, str]]:
    events = from_the_hold(captured(name))
    agent = str(events[0].get("Channel"))
    return roles([dict(m.headers) for m in events], agent)


def test_the_agent_hanging_up_while_holding_stops_the_callers_music_after_its_hangup() -> None:
    sent, peer, member = held_queued_call(Phone(answer_after_ms=1_000, talk_ms=20_000), Line())
    expected = captured_roles("ami-phone-hold-agent-hangs-up.txt")
    # the capture's Dial() call hung the caller up after; a queued caller goes on in the flow
    assert expected[-1] == ("Hangup", "caller")
    assert roles(sent, member) == expected[:-1]
    stop = next(e for e in sent if e["Event"] == "MusicOnHoldStop")
    assert list(stop)[:3] == ["Event", "Privilege", "Channel"]
    assert stop["Channel"] == TRUNK and "Class" not in stop
    assert TRUNK in peer.channels and peer._phone_music() == {}


def test_a_held_caller_hanging_up_has_its_music_stopped_first() -> None:
    sent, peer, member = held_queued_call(Phone(answer_after_ms=1_000, talk_ms=60_000),
                                          Line(hangup_after_s=20))
    expected = captured_roles("ami-phone-hold-caller-hangs-up.txt")
    got = roles(sent, member)
    assert got[:3] == expected[:3] == [("Hold", "agent"), ("MusicOnHoldStart", "caller"),
                                       ("MusicOnHoldStop", "caller")]
    # after a BYE the two Hangups come in either order (test_phone_hold_capture.py)
    assert sorted(got[3:]) == sorted(expected[3:])
    stop = sent.index(next(e for e in sent if e["Event"] == "MusicOnHoldStop"))
    assert [e["Event"] for e in sent[stop + 1:stop + 3]] == ["BridgeLeave", "BridgeLeave"]
    assert peer.channels == {} and peer._phone_music() == {}
