"""A hold made on the agent's own phone reaches the wallboard: the real ccf serve (LiveCentre
with its console) linked over a socket to the AMI double, which sends Asterisk 22's Hold and
Unhold (tests/doubles/ami_state.py phone_hold) on the agent's channel of a call the desk has the
agent talking on. The supervisor's wallboard (its page and its /live stream) says "on hold
(m:ss)"; Unhold and the agent's hang-up end it; a hold on a channel that is no agent's (the
caller's own phone) changes nothing."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from asterisk.centre import deployed_hotline, until
from ops.peer_thread import add_call

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.centre_control import ControlError
from tests.console_asterisk.served import USERS, Rig, supervisor

SECRET = "phone-hold-secret"
CALL = "1797200000.9"
TRUNK = "PJSIP/trunk-00000009"  # the caller's channel (add_call's)
AGENT_LEG = "PJSIP/8001-0000000a"  # zhang's phone (extension 8001 in examples/iws)


def run(tmp_path: Path, scenario) -> None:
    """The scenario on the served hotline, with zhang talking on CALL over AGENT_LEG."""
    async def main():
        async with supervisor(tmp_path, SECRET, lambda folder, port: deployed_hotline(
                folder, port, SECRET, extra=USERS)) as rig:
            # zhang answered the call (the flow's agent_answered) on the phone's channel
            add_call(rig.peer, CALL, agent_channel=AGENT_LEG)
            rig.peer.bridge(TRUNK, AGENT_LEG)
            rig.live.desk.emit(Event(CALL, 5, datetime.now(UTC), "agent_answered",
                                     {"agent": "zhang", "via": "queue"}))
            await scenario(rig)

    asyncio.run(main())


def test_the_agents_phone_holds_and_the_wallboard_says_on_hold(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        assert rig.status().state == "on_call" and not rig.status().held
        assert "on call (" in await rig.wall_row()

        rig.peer.phone_hold(AGENT_LEG, True)
        await until(lambda: rig.status().held, "zhang's caller on hold")
        held = rig.status()
        assert held.state == "on_call" and held.call_id == CALL
        assert held.held_since is not None and held.held_since >= held.since
        row = await rig.wall_row()
        assert re.search(r"on hold \(0:0\d\)", row), row
        assert "on call" not in row
        board = await rig.live_wall()
        assert board["held"] is True and board["held_seconds"] is not None
        assert board["state"] == "on_call"
        # the console cannot take the phone's hold off (the phone must)
        try:
            await rig.live.desk.hold("zhang", CALL, False)
        except ControlError as exc:
            assert "own phone holds" in str(exc) and exc.status == 409
        else:
            raise AssertionError("the console resumed a hold the phone made")
        assert rig.status().held

        rig.peer.phone_hold(AGENT_LEG, False)
        await until(lambda: not rig.status().held, "zhang's caller off hold")
        assert rig.status().held_since is None and rig.status().state == "on_call"
        row = await rig.wall_row()
        assert "on call (" in row and "on hold" not in row
        assert (await rig.live_wall())["held"] is False
        rig.live.store.flush()
        holds = [json.loads(r["data"]) for r in rig.live.store.query(
            "SELECT data FROM centre_events WHERE kind = 'call_hold' ORDER BY id")]
        assert holds == [{"agent": "zhang", "on": True, "by": "phone"},
                         {"agent": "zhang", "on": False, "by": "phone"}]

    run(tmp_path, scenario)


def test_a_hold_of_a_channel_that_is_no_agents_changes_nothing(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        before = rig.status()
        # the caller's own phone holds (its channel is the trunk's): Hold on the caller's
        # channel, MusicOnHoldStart on zhang's; neither is zhang's phone holding
        rig.peer.phone_hold(TRUNK, True)
        rig.peer.emit({"Event": "Hold", "Privilege": "call,all", "Channel": "PJSIP/8009-00000001",
                       "Uniqueid": "1797200000.50", "Linkedid": "1797200000.50"})
        await rig.read()
        assert rig.status() == before
        assert "on call (" in await rig.wall_row()
        rig.peer.phone_hold(TRUNK, False)
        await rig.read()
        assert rig.status() == before

    run(tmp_path, scenario)


def test_the_agent_hanging_up_while_holding_ends_the_hold(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        rig.peer.phone_hold(AGENT_LEG, True)
        await until(lambda: rig.status().held, "zhang's caller on hold")
        # a phone that hangs up while holding sends BYE: Hangup, never Unhold
        rig.peer.hangup(AGENT_LEG)
        await until(lambda: not rig.status().held, "the hold over with the hang-up")
        assert rig.status().held_since is None
        assert "on hold" not in await rig.wall_row()

    run(tmp_path, scenario)
