"""The AMI link drops while an agent's phone holds a call, and comes back: the real ccf serve
(LiveCentre and its console) against the AMI double, whose events meanwhile are lost (the
double's state changes, nothing reaches ccf serve), then the connection is cut. On the reconnect
ccf serve asks what Asterisk 22 can tell (CoreShowChannels, then Getvar CHANNEL(onhold) of the
channels bridged with the agent's, as captures/ami-phone-hold-ask*.txt show): a hold resumed or
hung up while the link was down ends on the wallboard, one still held stays, and one begun
while it was down is shown."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from asterisk.centre import until
from doubles.ami_state import PeerChannel

from tests.console_asterisk.served import Rig
from tests.console_asterisk.test_phone_hold import AGENT_LEG, CALL, TRUNK, run


@contextmanager
def link_down(rig: Rig):
    """What the peer does inside is lost to ccf serve (as events sent while its link is
    down are); then the link drops, and ccf serve reconnects by itself."""
    emit = rig.peer.emit
    rig.peer.emit = lambda event: None
    try:
        yield
    finally:
        rig.peer.emit = emit
    asked = len(getvars(rig))
    rig.actions_before = len(rig.peer.actions)
    rig.peer.drop()
    rig.asked_before = asked


def getvars(rig: Rig) -> list[str]:
    return [str(a.get("Channel")) for a in rig.peer.actions
            if a.get("Action") == "Getvar" and a.get("Variable") == "CHANNEL(onhold)"]


async def back(rig: Rig, asked: int) -> None:
    """Until ccf serve reconnected and had Asterisk's answer about `asked` channels (more
    Getvars of CHANNEL(onhold) than before the drop), and read past them."""
    await until(lambda: len(getvars(rig)) >= rig.asked_before + asked, "the holds checked")
    await until(lambda: rig.live.ami is not None and rig.live.ami.connected, "the AMI link")
    for _ in range(2):
        await rig.read()


def hold_rows(rig: Rig) -> list[dict]:
    rig.live.store.flush()
    return [json.loads(r["data"]) for r in rig.live.store.query(
        "SELECT data FROM centre_events WHERE kind = 'call_hold' ORDER BY id")]


ON = {"agent": "zhang", "on": True, "by": "phone"}
OFF = {"agent": "zhang", "on": False, "by": "phone"}


def test_a_resume_missed_while_the_link_was_down_ends_the_hold(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        rig.peer.phone_hold(AGENT_LEG, True)
        await until(lambda: rig.status().held, "zhang's caller on hold")
        assert "on hold (" in await rig.wall_row()
        with link_down(rig):
            rig.peer.phone_hold(AGENT_LEG, False)  # the Unhold never reaches ccf serve
        await until(lambda: not rig.status().held, "the hold ended after the reconnect")
        # asked about the caller's channel, the one bridged with zhang's
        assert getvars(rig)[rig.asked_before:] == [TRUNK]
        assert rig.status().state == "on_call" and rig.status().call_id == CALL
        row = await rig.wall_row()
        assert "on call (" in row and "on hold" not in row
        assert hold_rows(rig) == [ON, OFF]

    run(tmp_path, scenario)


def test_a_hang_up_missed_while_the_link_was_down_ends_the_hold(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        rig.peer.phone_hold(AGENT_LEG, True)
        await until(lambda: rig.status().held, "zhang's caller on hold")
        with link_down(rig):
            rig.peer.hangup(AGENT_LEG)  # the phone hung up while holding: no Unhold
        await until(lambda: not rig.status().held, "the hold ended after the reconnect")
        assert "on hold" not in await rig.wall_row()
        assert hold_rows(rig) == [ON, OFF]

    run(tmp_path, scenario)


def test_a_hold_that_still_stands_stays(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        rig.peer.phone_hold(AGENT_LEG, True)
        await until(lambda: rig.status().held, "zhang's caller on hold")
        since = rig.status().held_since
        with link_down(rig):
            pass
        await back(rig, 1)
        assert rig.status().held and rig.status().held_since == since
        # the channels listed once for the reconnect: the mirror's list serves the holds too
        assert [a.get("Action") for a in rig.peer.actions[rig.actions_before:]
                if a.get("Action") == "CoreShowChannels"] == ["CoreShowChannels"]
        assert "on hold (" in await rig.wall_row()
        assert hold_rows(rig) == [ON]
        # and the phone's resume, read live, ends it as before
        rig.peer.phone_hold(AGENT_LEG, False)
        await until(lambda: not rig.status().held, "zhang's caller off hold")
        assert hold_rows(rig) == [ON, OFF]

    run(tmp_path, scenario)


def test_a_hold_begun_while_the_link_was_down_is_shown(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        with link_down(rig):
            rig.peer.phone_hold(AGENT_LEG, True)  # the Hold never reaches ccf serve
        await until(lambda: rig.status().held, "the hold shown after the reconnect")
        assert rig.live.centre.holds.holding("zhang") == AGENT_LEG
        assert "on hold (" in await rig.wall_row()
        # the caller's own hold while the link was down is not zhang's
        rig.peer.phone_hold(AGENT_LEG, False)
        await until(lambda: not rig.status().held, "zhang's caller off hold")
        with link_down(rig):
            rig.peer.phone_hold(TRUNK, True)
        await back(rig, 1)
        assert not rig.status().held and rig.live.centre.holds.holding("zhang") is None
        assert hold_rows(rig) == [ON, OFF]

    run(tmp_path, scenario)


def test_a_hold_moved_to_another_channel_of_the_agent_is_shown_at_once(tmp_path: Path) -> None:
    """While the link was down zhang's phone resumed its call and held another line (a
    second call on the same phone): the reconnect ends the old hold and shows the new one
    together, not at the next reconnect."""
    async def scenario(rig: Rig) -> None:
        rig.peer.phone_hold(AGENT_LEG, True)
        await until(lambda: rig.status().held, "zhang's caller on hold")
        other_trunk, other_leg = "PJSIP/trunk-00000011", "PJSIP/8001-00000012"
        with link_down(rig):
            rig.peer.phone_hold(AGENT_LEG, False)
            for name in (other_trunk, other_leg):
                rig.peer.channels[name] = PeerChannel(
                    name, "1797200001.1" + name[-1], "1797200001.11", "ccf-inbound", "s",
                    state=6, device=name.rsplit("-", 1)[0])
            rig.peer.bridge(other_trunk, other_leg)
            rig.peer.phone_hold(other_leg, True)
        await back(rig, 2)
        assert rig.live.centre.holds.holding("zhang") == other_leg
        assert rig.status().held
        assert "on hold (" in await rig.wall_row()
        assert hold_rows(rig) == [ON, OFF, ON]

    run(tmp_path, scenario)
