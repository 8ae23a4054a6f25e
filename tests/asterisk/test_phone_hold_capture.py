"""The AMI test peer's phone hold, and ccf serve's reading of it, held to a real one.

tests/asterisk/captures/ami-phone-hold*.txt are the AMI sessions of a SIP phone (sipp) holding a
call on Asterisk 22.10.1 with chan_pjsip (captures README "A hold made on a SIP phone"). The peer
is given the captured calls' two channels, holds as the phone did, and what it writes on its
socket must be the captured Hold / Unhold / MusicOnHoldStart / MusicOnHoldStop / Hangup events:
the same events in the same order, header for header, value for value. PhoneHolds
(runtime/asterisk/ami_holds.py) reads each capture's bytes as ccf serve's link parses them.
"""

from __future__ import annotations

import asyncio

import pytest
from doubles.ami_server import AmiPeer
from doubles.ami_state import PeerChannel
from doubles.transcript import read_transcript, sent_by_asterisk

from ccdsl.runtime.asterisk.ami_holds import PhoneHolds
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage, parse_message
from ccdsl.runtime.asterisk.names import interface_of_channel

SECRET = "phone-hold-capture"
KINDS = ("Hold", "Unhold", "MusicOnHoldStart", "MusicOnHoldStop", "Hangup")

# the presses of a phone's Hold key before the hang-ups: (held, MusicClass its endpoint
# suggests); the agent's phone presses, but in caller-holds the caller's does
Presses = tuple[tuple[bool, str], ...]
RESUMED: Presses = ((True, "default"), (False, "default"))
CASES: dict[str, Presses] = {
    "ami-phone-hold.txt": RESUMED,
    "ami-phone-hold-inactive.txt": RESUMED,
    "ami-phone-hold-no-moh-suggest.txt": ((True, ""), (False, "")),
    "ami-phone-hold-agent-hangs-up.txt": ((True, "default"),),
    "ami-phone-hold-caller-hangs-up.txt": ((True, "default"),),
    "ami-phone-hold-caller-holds.txt": RESUMED,
    "ami-phone-hold-queue.txt": RESUMED,
    "ami-phone-hold-queue-local.txt": RESUMED,
    "ami-phone-hold-queue-local-audio.txt": RESUMED,
}
AGENTS_HOLDS = sorted(set(CASES) - {"ami-phone-hold-caller-holds.txt"})


def messages(data: bytes) -> list[AmiMessage]:
    """Every message in a stream of AMI bytes, parsed as ccf serve's link parses them."""
    blocks = data.split(b"\r\n", 1)[1].split(b"\r\n\r\n")  # the banner line first
    return [parse_message(block) for block in blocks if block.strip()]


def captured(name: str) -> list[AmiMessage]:
    return messages(sent_by_asterisk(read_transcript(name)))


def from_the_hold(items: list[AmiMessage]) -> list[AmiMessage]:
    """The messages from the first Hold on (a queued caller heard the queue's music before)."""
    return items[next(n for n, m in enumerate(items) if m.event == "Hold"):]


def holds_and_hangups(items: list[AmiMessage],
                      channels: set[str]) -> list[list[tuple[str, str]]]:
    return [list(m.headers.items()) for m in from_the_hold(items)
            if m.event in KINDS and m.get("Channel") in channels]


def channel(event: AmiMessage) -> PeerChannel:
    """A peer channel that shows what a captured event showed of its channel."""
    get = event.headers.__getitem__
    return PeerChannel(get("Channel"), get("Uniqueid"), get("Linkedid"), get("Context"),
                       get("Exten"), int(get("Priority")), int(get("ChannelState")),
                       get("CallerIDNum"), get("CallerIDName"), get("ConnectedLineNum"),
                       get("ConnectedLineName"), get("Language"), get("AccountCode"),
                       device=interface_of_channel(get("Channel")))


def sent_on_the_wire(holder: PeerChannel, listener: PeerChannel, presses: Presses,
                     hangups: list[str]) -> bytes:
    """What the peer writes to a logged-in AMI connection while the holder's phone presses
    Hold as given and then the channels hang up in the given order."""
    peer = AmiPeer(users={"ccf": SECRET})

    async def main() -> bytes:
        await peer.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", peer.port)
            writer.write(f"Action: Login\r\nActionID: 1\r\nUsername: ccf\r\nSecret: {SECRET}"
                         "\r\nEvents: on\r\n\r\n".encode())
            data = await reader.readuntil(b"Authentication accepted\r\n\r\n")
            for chan in (holder, listener):
                peer.channels[chan.name] = chan
            peer.bridge(listener.name, holder.name)
            for held, music_class in presses:
                peer.phone_hold(holder.name, held, music_class)
            for name in hangups:
                peer.hangup(name)
            writer.write(b"Action: Logoff\r\nActionID: 2\r\n\r\n")
            data += await asyncio.wait_for(reader.read(), 5)  # until the peer closes
            writer.close()
            return data
        finally:
            await peer.stop()

    return asyncio.run(main())


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_peer_sends_a_phone_hold_as_asterisk_did(name: str) -> None:
    events = from_the_hold(captured(name))
    holder = channel(events[0])
    listener = channel(next(m for m in events if m.event == "MusicOnHoldStart"))
    both = {holder.name, listener.name}
    # after a BYE the order of the Hangups varies from run to run (the captures have both):
    # the peer hangs up in the captured order
    hangups = [str(m.get("Channel")) for m in events
               if m.event == "Hangup" and m.get("Channel") in both]
    wire = messages(sent_on_the_wire(holder, listener, CASES[name], hangups))
    assert holds_and_hangups(wire, both) == holds_and_hangups(events, both)


def test_the_captures_differ_where_the_phones_did() -> None:
    """What the cases above hold the peer to: Hold on the channel of the phone that held,
    the music on the other; sendonly and inactive alike, MusicClass only with moh_suggest,
    no Unhold when either side hangs up during the hold; the Linkedid of both the caller's
    Uniqueid."""
    kinds = {name: [(m.event, m.get("Channel", "").split("-")[0], m.get("MusicClass"))
                    for m in from_the_hold(captured(name)) if m.event in KINDS]
             for name in CASES}
    resumed = [("Hold", "PJSIP/8001", "default"), ("MusicOnHoldStart", "PJSIP/caller", None),
               ("Unhold", "PJSIP/8001", None), ("MusicOnHoldStop", "PJSIP/caller", None)]
    hangups = {("Hangup", "PJSIP/caller", None), ("Hangup", "PJSIP/8001", None)}
    for name in ("ami-phone-hold.txt", "ami-phone-hold-inactive.txt",
                 "ami-phone-hold-queue.txt"):
        assert kinds[name][:4] == resumed and set(kinds[name][4:]) == hangups
    no_class = kinds["ami-phone-hold-no-moh-suggest.txt"]
    assert no_class[:4] == [(e, c, None) for e, c, _ in resumed] and set(no_class[4:]) == hangups
    assert kinds["ami-phone-hold-agent-hangs-up.txt"] == [
        resumed[0], resumed[1], ("Hangup", "PJSIP/8001", None),
        ("MusicOnHoldStop", "PJSIP/caller", None), ("Hangup", "PJSIP/caller", None)]
    assert kinds["ami-phone-hold-caller-hangs-up.txt"] == [
        resumed[0], resumed[1], ("MusicOnHoldStop", "PJSIP/caller", None),
        ("Hangup", "PJSIP/caller", None), ("Hangup", "PJSIP/8001", None)]
    mirrored = kinds["ami-phone-hold-caller-holds.txt"]
    assert mirrored[:4] == [("Hold", "PJSIP/caller", "default"),
                            ("MusicOnHoldStart", "PJSIP/8001", None),
                            ("Unhold", "PJSIP/caller", None),
                            ("MusicOnHoldStop", "PJSIP/8001", None)]
    assert set(mirrored[4:]) == hangups
    queued = [(m.event, m.get("Channel", "").split("-")[0]) for m in captured(
        "ami-phone-hold-queue.txt") if m.event in (*KINDS, "QueueCallerJoin", "AgentConnect")]
    assert queued[:5] == [("QueueCallerJoin", "PJSIP/caller"),
                          ("MusicOnHoldStart", "PJSIP/caller"),
                          ("MusicOnHoldStop", "PJSIP/caller"), ("AgentConnect", "PJSIP/caller"),
                          ("Hold", "PJSIP/8001")]
    for name in CASES:
        snapshots = {m.get("Channel", "").split("-")[0]: m for m in captured(name)
                     if m.event in KINDS}
        agent, caller = snapshots["PJSIP/8001"], snapshots["PJSIP/caller"]
        assert agent.get("Linkedid") == caller.get("Uniqueid") == caller.get("Linkedid")
        assert agent.get("Uniqueid") != caller.get("Uniqueid")


def phone_holds() -> tuple[PhoneHolds, list[tuple[str, bool]]]:
    """ccf serve's PhoneHolds with agent zhang on PJSIP/8001 (the captures' agent phone),
    and what it tells the desk."""
    agents = {"pjsip/8001": "zhang"}
    holds = PhoneHolds(lambda chan: agents.get(interface_of_channel(chan).lower()))
    told: list[tuple[str, bool]] = []
    holds.on_hold = lambda agent, on: told.append((agent, on))
    return holds, told


@pytest.mark.parametrize("name", AGENTS_HOLDS)
def test_ccf_serve_reads_the_captured_hold_as_the_agents(name: str) -> None:
    """Every message of the session, in order: the agent's phone holds from the Hold until
    the Unhold or the agent's Hangup; nothing on the caller's channel counts."""
    holds, told = phone_holds()
    holding: list[str | None] = []
    for message in captured(name):
        holds.apply("a", message)
        if message.event in KINDS:
            holding.append(holds.holding("zhang"))
    kinds = captured_kinds(name)
    start = next(n for n, (event, _) in enumerate(kinds) if event == "Hold")
    held = kinds[start][1]
    assert told == [("zhang", True), ("zhang", False)]
    # a queued caller's music before the agent's Hold is nobody's hold
    assert set(holding[:start]) <= {None} and holding[start] == held
    ended = holding.index(None, start)
    assert kinds[ended] in (("Unhold", held), ("Hangup", held)) and holding[-1] is None


def captured_kinds(name: str) -> list[tuple[str | None, str | None]]:
    return [(m.event, m.get("Channel")) for m in captured(name) if m.event in KINDS]


def test_ccf_serve_takes_the_callers_own_hold_for_nothing() -> None:
    """The caller's phone held: Hold on the caller's channel, the music on the agent's
    phone; no agent's phone holds, so the desk is told nothing."""
    holds, told = phone_holds()
    for message in captured("ami-phone-hold-caller-holds.txt"):
        holds.apply("a", message)
        assert holds.holding("zhang") is None
    assert told == []


@pytest.mark.parametrize(("name", "listener"), [
    ("ami-phone-hold-queue-local.txt", "Local/8001@agents"),  # the Local pair stayed
    ("ami-phone-hold-queue-local-audio.txt", "PJSIP/caller"),  # optimized away (audio)
])
def test_a_local_members_phone_is_matched_through_its_dial(name: str, listener: str) -> None:
    """Queue() ringing the member Local/8001@agents, whose dialplan dials the phone: the Hold
    comes on the phone's PJSIP/8001-..., the music on whatever the phone is bridged with. The
    Local pair's ;2 half dialled that channel (DialBegin's DestChannel), so an agent known by
    the Local interface alone is seen holding from the Hold to the Unhold, and so it is known
    by the phone's device as well (a StateInterface of PJSIP/8001)."""
    events = captured(name)
    held = [(m.event, m.get("Channel", "").split("-")[0]) for m in from_the_hold(events)
            if m.event in KINDS[:4]]
    assert held == [("Hold", "PJSIP/8001"), ("MusicOnHoldStart", listener),
                    ("Unhold", "PJSIP/8001"), ("MusicOnHoldStop", listener)]
    dialled = [(m.get("Channel"), m.get("DestChannel")) for m in events
               if m.event == "DialBegin"]
    phone = next(dest for chan, dest in dialled if str(chan).endswith(";2"))
    assert phone.startswith("PJSIP/8001-") and phone == from_the_hold(events)[0].get("Channel")
    for devices in ({"local/8001@agents"}, {"local/8001@agents", "pjsip/8001"}):
        holds = PhoneHolds(lambda chan, devices=devices: (
            "zhang" if interface_of_channel(chan).lower() in devices else None))
        told: list[tuple[str, bool]] = []
        holds.on_hold = lambda agent, on, told=told: told.append((agent, on))
        holding = []
        for message in events:
            holds.apply("a", message)
            if message.event in ("Hold", "Unhold"):
                holding.append(holds.holding("zhang"))
        assert told == [("zhang", True), ("zhang", False)]
        assert holding == [phone, None]
        # the phone's Hangup forgets what the Local member dialled
        assert holds.agent_of_channel("a", phone) == (None if len(devices) == 1 else "zhang")


def test_what_the_callers_side_of_a_local_member_dials_is_not_the_agents() -> None:
    """The ;1 half runs the caller's side (Queue()'s, or an Originate's application, say a
    call-back's Dial() of the customer): the channel it dials is not the agent's phone, so
    the customer's phone holding is no agent's hold; a Hold on a channel the ;2 half of
    another server's Local dialled is not matched on this server either."""
    holds = PhoneHolds(lambda chan: "zhang" if chan.startswith("Local/8001@agents-") else None)
    told: list[tuple[str, bool]] = []
    holds.on_hold = lambda agent, on: told.append((agent, on))

    def event(name: str, **headers: str) -> AmiMessage:
        return AmiMessage({"Event": name, **headers})

    holds.apply("a", event("DialBegin", Channel="Local/8001@agents-00000004;1",
                           DestChannel="PJSIP/trunk-00000009"))
    holds.apply("a", event("DialBegin", Channel="Local/8001@agents-00000004;2",
                           DestChannel="PJSIP/8001-0000000a"))
    for server, channel in (("a", "PJSIP/trunk-00000009"), ("b", "PJSIP/8001-0000000a")):
        holds.apply(server, event("Hold", Channel=channel))
    assert told == [] and holds.holding("zhang") is None
    holds.apply("a", event("Hold", Channel="PJSIP/8001-0000000a"))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-0000000a"
