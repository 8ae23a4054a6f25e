"""After a reconnect ccf serve lists Asterisk's channels once: the holds check reuses the
CoreShowChannels answer AmiCentre.resync read, judged against what ccf serve knew before that
question. A hold or a Local member's dial read live after it (a channel made between the
list and the check, so missing from the list) must not be ended or forgotten; what was known
before the list, and is gone from it, ends."""

from __future__ import annotations

import asyncio

from ccdsl.runtime.asterisk.ami_holds import PhoneHolds
from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.names import interface_of_channel

LISTED = AmiMessage({"Response": "Success", "EventList": "start",
                     "Message": "Channels will follow"})


class NoQuestions:
    async def list_action(self, action: str, **headers: object):
        raise AssertionError(f"{action} asked again: the resync's list was given")

    async def action(self, action: str, **headers: object) -> AmiMessage:
        raise AssertionError(f"{action} {headers} asked: no channel of the list is bridged")


def holds_of(devices: set[str]) -> tuple[PhoneHolds, list[tuple[str, bool]]]:
    holds = PhoneHolds(lambda chan: (
        "zhang" if interface_of_channel(chan).lower() in devices else None))
    told: list[tuple[str, bool]] = []
    holds.on_hold = lambda agent, on: told.append((agent, on))
    return holds, told


def test_a_hold_known_before_the_list_and_gone_from_it_ends_without_a_second_list() -> None:
    holds, told = holds_of({"pjsip/8001"})
    holds.apply("a", AmiMessage({"Event": "Hold", "Channel": "PJSIP/8001-00000001"}))
    before = holds.snapshot()
    asyncio.run(holds.reconcile("a", NoQuestions(), (LISTED, []), before))
    assert told == [("zhang", True), ("zhang", False)] and holds.holding("zhang") is None


def test_a_hold_read_after_the_list_stays() -> None:
    holds, told = holds_of({"pjsip/8001"})
    before = holds.snapshot()  # then the list is asked; meanwhile a new call's phone holds
    holds.apply("a", AmiMessage({"Event": "Hold", "Channel": "PJSIP/8001-00000002"}))
    asyncio.run(holds.reconcile("a", NoQuestions(), (LISTED, []), before))
    assert told == [("zhang", True)] and holds.holding("zhang") == "PJSIP/8001-00000002"


def test_a_local_members_dial_read_after_the_list_is_not_forgotten() -> None:
    holds, told = holds_of({"local/8001@agents"})
    holds.apply("a", AmiMessage({"Event": "DialBegin", "Channel": "Local/8001@agents-00000000;2",
                                 "DestChannel": "PJSIP/8001-00000001"}))
    before = holds.snapshot()
    holds.apply("a", AmiMessage({"Event": "DialBegin", "Channel": "Local/8001@agents-00000002;2",
                                 "DestChannel": "PJSIP/8001-00000003"}))
    asyncio.run(holds.reconcile("a", NoQuestions(), (LISTED, []), before))
    assert holds.agent_of_channel("a", "PJSIP/8001-00000001") is None  # gone from the list
    assert holds.agent_of_channel("a", "PJSIP/8001-00000003") == "zhang"
    holds.apply("a", AmiMessage({"Event": "Hold", "Channel": "PJSIP/8001-00000003"}))
    assert told == [("zhang", True)]
