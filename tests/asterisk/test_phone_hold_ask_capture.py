"""What ccf serve asks Asterisk about the phones' holds when its AMI link comes back, held to
what a real Asterisk answered.

tests/asterisk/captures/ami-phone-hold-ask*.txt (captures README "A hold made on a SIP phone")
asked Asterisk 22.10.1, while a SIP phone (sipp) held its call, after it resumed and after the
hang-ups: CoreShowChannels, then `Getvar CHANNEL(onhold)` of each channel. Asterisk marks the
held side, not the phone that held: the channel bridged with the holding phone says 1. ccf
serve's reconcile (runtime/asterisk/ami_holds.py) is run against those very answers, and the
AMI test peer must answer the same questions as Asterisk did, value for value.
"""

from __future__ import annotations

import asyncio

import pytest
from doubles.ami_server import AmiPeer
from doubles.transcript import read_transcript, sent_by_asterisk, sent_to_asterisk

from ccdsl.runtime.asterisk.ami_holds import PhoneHolds
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage, parse_message
from ccdsl.runtime.asterisk.names import interface_of_channel
from tests.asterisk.test_phone_hold_capture import channel, messages

DIALLED = "ami-phone-hold-ask.txt"  # Dial(PJSIP/8001): the phone bridged with the caller
LOCAL = "ami-phone-hold-ask-queue-local.txt"  # Queue() member Local/8001@agents, no audio
SECRET = "phone-hold-ask"

# one round of questions: (CoreShowChannels' reply, its items, channel -> Getvar's reply)
Round = tuple[AmiMessage, list[AmiMessage], dict[str, AmiMessage]]


def sent(name: str) -> list[AmiMessage]:
    data = sent_to_asterisk(read_transcript(name))
    return [parse_message(b) for b in data.split(b"\r\n\r\n") if b.strip()]


def answers(name: str) -> list[AmiMessage]:
    return messages(sent_by_asterisk(read_transcript(name)))


def rounds(name: str) -> list[Round]:
    """The capture's rounds of questions (while held, after the resume, after the hang-ups)
    with Asterisk's answers, matched by ActionID."""
    by_id: dict[str, list[AmiMessage]] = {}
    for message in answers(name):
        if message.get("ActionID"):
            by_id.setdefault(str(message.get("ActionID")), []).append(message)
    out: list[Round] = []
    for action in sent(name):
        replies = by_id.get(str(action.get("ActionID")), [])
        if action.get("Action") == "CoreShowChannels":
            items = [m for m in replies if m.event == "CoreShowChannel"]
            out.append((replies[0], items, {}))
        elif action.get("Action") == "Getvar":
            assert action.get("Variable") == "CHANNEL(onhold)"
            out[-1][2][str(action.get("Channel"))] = replies[0]
    return out


class CapturedLink:
    """An AMI link that answers ccf serve's questions with one round of the capture; a
    question the capture did not ask fails the test."""

    def __init__(self, round_: Round) -> None:
        self.round = round_
        self.asked: list[str] = []

    async def list_action(self, action: str, **headers: object):
        assert action == "CoreShowChannels" and not headers
        return self.round[0], self.round[1]

    async def action(self, action: str, **headers: object) -> AmiMessage:
        assert action == "Getvar" and headers["Variable"] == "CHANNEL(onhold)"
        self.asked.append(str(headers["Channel"]))
        return self.round[2][str(headers["Channel"])]


def phone_holds(devices: set[str]) -> tuple[PhoneHolds, list[tuple[str, bool]]]:
    holds = PhoneHolds(lambda chan: (
        "zhang" if interface_of_channel(chan).lower() in devices else None))
    told: list[tuple[str, bool]] = []
    holds.on_hold = lambda agent, on: told.append((agent, on))
    return holds, told


def until(holds: PhoneHolds, name: str, event: str) -> None:
    """The capture's events read up to (not with) the first `event`."""
    for message in answers(name):
        if message.event == event:
            return
        holds.apply("a", message)


def test_asterisk_says_the_held_side_is_on_hold_not_the_phone_that_held() -> None:
    held, resumed, gone = rounds(DIALLED)
    onhold = {c: r.get("Value") for c, r in held[2].items()}
    assert onhold == {"PJSIP/8001-00000001": "0", "PJSIP/caller-00000000": "1"}
    bridges = {str(i.get("Channel")): i.get("BridgeId") for i in held[1]}
    assert len(set(bridges.values())) == 1 and "" not in bridges.values()
    assert {r.get("Value") for r in resumed[2].values()} == {"0"}
    assert gone[1] == [] and {(r.get("Response"), r.get("Message"))
                              for r in gone[2].values()} == {("Error", "No such channel")}
    local = rounds(LOCAL)[0]
    # the Local pair stayed: the phone is bridged with the ;2 half, which is the held one
    assert {c: r.get("Value") for c, r in local[2].items()} == {
        "PJSIP/8001-00000003": "0", "Local/8001@agents-00000000;2": "1",
        "Local/8001@agents-00000000;1": "0", "PJSIP/caller-00000002": "0"}
    bridges = {str(i.get("Channel")): i.get("BridgeId") for i in local[1]}
    assert bridges["PJSIP/8001-00000003"] == bridges["Local/8001@agents-00000000;2"]
    assert bridges["PJSIP/caller-00000002"] == bridges["Local/8001@agents-00000000;1"]


@pytest.mark.parametrize(("round_", "kept"), [(0, True), (1, False), (2, False)])
def test_a_hold_ccf_saw_is_kept_or_ended_as_asterisk_answers(round_: int, kept: bool) -> None:
    """The Hold was read; then the link dropped. Asked while the phone still held, the hold
    stays; after a resume whose Unhold was missed, or after the hang-ups, it ends."""
    holds, told = phone_holds({"pjsip/8001"})
    until(holds, DIALLED, "Unhold")
    assert told == [("zhang", True)]
    asyncio.run(holds.reconcile("a", CapturedLink(rounds(DIALLED)[round_])))
    assert holds.holding("zhang") == ("PJSIP/8001-00000001" if kept else None)
    assert told == [("zhang", True)] + ([] if kept else [("zhang", False)])


def test_a_hold_begun_while_the_link_was_down_is_shown() -> None:
    holds, told = phone_holds({"pjsip/8001"})
    until(holds, DIALLED, "Hold")
    link = CapturedLink(rounds(DIALLED)[0])
    asyncio.run(holds.reconcile("a", link))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-00000001"
    assert link.asked == ["PJSIP/caller-00000000"]  # only the agent's channel's bridge


@pytest.mark.parametrize(("round_", "kept"), [(0, True), (1, False), (2, False)])
def test_a_local_members_hold_is_checked_on_the_phone_behind_it(round_: int,
                                                                 kept: bool) -> None:
    """The agent known by its Local interface only: the phone's channel is the one its ;2
    half dialled, and the held channel the ;2 half bridged with that phone."""
    holds, told = phone_holds({"local/8001@agents"})
    until(holds, LOCAL, "Unhold")
    asyncio.run(holds.reconcile("a", CapturedLink(rounds(LOCAL)[round_])))
    assert holds.holding("zhang") == ("PJSIP/8001-00000003" if kept else None)
    assert told == [("zhang", True)] + ([] if kept else [("zhang", False)])
    fresh, fresh_told = phone_holds({"local/8001@agents"})
    until(fresh, LOCAL, "Hold")
    asyncio.run(fresh.reconcile("a", CapturedLink(rounds(LOCAL)[round_])))
    assert fresh_told == ([("zhang", True)] if kept else [])


def test_what_asterisk_does_not_answer_leaves_the_hold_as_it_was() -> None:
    """CoreShowChannels refused, or the bridged channel's Getvar an error (gone meanwhile):
    Asterisk did not say, so the hold the events gave stays."""
    holds, told = phone_holds({"pjsip/8001"})
    until(holds, DIALLED, "Unhold")
    refused = AmiMessage({"Response": "Error", "Message": "Permission denied"})
    asyncio.run(holds.reconcile("a", CapturedLink((refused, [], {}))))
    reply, items, getvars = rounds(DIALLED)[1]
    error = rounds(DIALLED)[2][2]["PJSIP/caller-00000000"]
    asyncio.run(holds.reconcile("a", CapturedLink(
        (reply, items, {**getvars, "PJSIP/caller-00000000": error}))))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-00000001"


def peer_answers(name: str) -> list[list[AmiMessage]]:
    """The AMI test peer asked the capture's questions, in the capture's three moments: the
    phone holding, the phone resumed, both channels hung up."""
    events = answers(name)
    hold = next(m for m in events if m.event == "Hold")
    held = [m for m in events if m.event == "MusicOnHoldStart"][-1]  # not the queue's music
    holder, listener = channel(hold), channel(held)
    peer = AmiPeer(users={"ccf": SECRET})

    async def ask(reader, writer, n: int, names: list[str]) -> list[AmiMessage]:
        writer.write(f"Action: CoreShowChannels\r\nActionID: {n}\r\n\r\n".encode())
        data = await reader.readuntil(b"Event: CoreShowChannelsComplete\r\n")
        data += await reader.readuntil(b"\r\n\r\n")
        for k, chan in enumerate(names):
            writer.write(f"Action: Getvar\r\nActionID: {n + 1 + k}\r\nChannel: {chan}\r\n"
                         "Variable: CHANNEL(onhold)\r\n\r\n".encode())
            data += await reader.readuntil(b"\r\n\r\n")
        return [parse_message(b) for b in data.split(b"\r\n\r\n") if b.strip()]

    async def main() -> list[list[AmiMessage]]:
        await peer.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", peer.port)
            writer.write(f"Action: Login\r\nActionID: 1\r\nUsername: ccf\r\nSecret: {SECRET}"
                         "\r\nEvents: off\r\n\r\n".encode())
            await reader.readuntil(b"Authentication accepted\r\n\r\n")
            for chan in (holder, listener):
                peer.channels[chan.name] = chan
            peer.bridge(listener.name, holder.name)
            names = [holder.name, listener.name]
            out = []
            peer.phone_hold(holder.name, True)
            out.append(await ask(reader, writer, 2, names))
            peer.phone_hold(holder.name, False)
            out.append(await ask(reader, writer, 5, names))
            peer.hangup(holder.name)
            peer.hangup(listener.name)
            out.append(await ask(reader, writer, 8, names))
            writer.close()
            return out
        finally:
            await peer.stop()

    return asyncio.run(main())


@pytest.mark.parametrize("name", [DIALLED, LOCAL])
def test_the_peer_answers_as_asterisk_did(name: str) -> None:
    """The peer holds the holder and the channel that heard the music: its Getvar replies are
    Asterisk's, header for header (the ActionIDs aside), and CoreShowChannels puts the two in
    one bridge while they talk."""
    captured = rounds(name)
    events = answers(name)
    holder = next(m for m in events if m.event == "Hold").get("Channel")
    listener = [m for m in events if m.event == "MusicOnHoldStart"][-1].get("Channel")
    for moment, got in enumerate(peer_answers(name)):
        reply, items, getvars = captured[moment]
        getvar_replies = [m for m in got if m.get("Response") and m.get("ActionID") not in (
            "2", "5", "8")]
        want = [getvars[str(c)] for c in (holder, listener)]

        def shape(message: AmiMessage) -> list[tuple[str, str]]:
            return [(k, str(v)) for k, v in message.headers.items() if k != "ActionID"]

        assert [shape(m) for m in getvar_replies] == [shape(m) for m in want]
        listed = {str(m.get("Channel")): m.get("BridgeId") for m in got
                  if m.event == "CoreShowChannel"}
        captured_bridges = {str(i.get("Channel")): i.get("BridgeId") for i in items}
        if moment < 2:
            assert listed[str(holder)] == listed[str(listener)] != ""
            assert captured_bridges[str(holder)] == captured_bridges[str(listener)] != ""
        else:
            assert listed == captured_bridges == {}


def test_a_reconnect_checks_only_its_own_servers_holds() -> None:
    """With two Asterisk servers, the link to one coming back leaves the holds on the other
    as they are, even when its Asterisk lists no such channel."""
    holds, told = phone_holds({"pjsip/8001"})
    until(holds, DIALLED, "Unhold")
    gone = rounds(DIALLED)[2]
    asyncio.run(holds.reconcile("b", CapturedLink(gone)))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-00000001"
    asyncio.run(holds.reconcile("a", CapturedLink(gone)))
    assert told == [("zhang", True), ("zhang", False)]


def test_a_reconnect_leaves_a_hold_on_another_server_even_where_a_channel_name_repeats() -> None:
    """Each Asterisk numbers its channels itself, so the other server may list a channel of
    the same name (PJSIP/8001-00000001), bridged and not held: the hold on the first server
    is that server's link's to check, and stays."""
    holds, told = phone_holds({"pjsip/8001"})
    until(holds, DIALLED, "Unhold")
    resumed = rounds(DIALLED)[1]
    assert "PJSIP/8001-00000001" in {str(i.get("Channel")) for i in resumed[1]}
    asyncio.run(holds.reconcile("b", CapturedLink(resumed)))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-00000001"
    asyncio.run(holds.reconcile("a", CapturedLink(resumed)))
    assert told == [("zhang", True), ("zhang", False)]


def test_a_local_members_hold_is_found_when_its_dial_was_never_seen() -> None:
    """The Local member's ;2 half dialled the phone while the link was down (no DialBegin
    read): CoreShowChannels lists the ;2 half in one bridge with the phone's channel, so the
    reconnect finds the phone behind the agent's Local channel, and its hold. Asked again
    after the resume, that hold ends; and the phone's own events are read as zhang's."""
    held, resumed, _gone = rounds(LOCAL)
    holds, told = phone_holds({"local/8001@agents"})
    asyncio.run(holds.reconcile("a", CapturedLink(held)))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-00000003"
    assert holds.agent_of_channel("a", "PJSIP/8001-00000003") == "zhang"
    assert holds.agent_of_channel("b", "PJSIP/8001-00000003") is None  # another server's
    asyncio.run(holds.reconcile("a", CapturedLink(resumed)))
    assert told == [("zhang", True), ("zhang", False)] and holds.holding("zhang") is None
    holds.apply("a", AmiMessage({"Event": "Hold", "Channel": "PJSIP/8001-00000003"}))
    assert told[-1] == ("zhang", True)
