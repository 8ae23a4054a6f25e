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

import httpx
from asterisk.centre import WAIT_S, deployed_hotline, until
from doubles.ami_server import AmiPeer
from ops.peer_thread import add_call

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.console_users import new_user, save_users

SECRET = "phone-hold-secret"
PASSWORD = "correct horse battery"
CALL = "1797200000.9"
TRUNK = "PJSIP/trunk-00000009"  # the caller's channel (add_call's)
AGENT_LEG = "PJSIP/8001-0000000a"  # zhang's phone (extension 8001 in examples/iws)
HTML = {"Accept": "text/html"}


class Rig:
    def __init__(self, served: ServedCentre, peer: AmiPeer, web: httpx.AsyncClient) -> None:
        self.served, self.peer, self.web = served, peer, web

    @property
    def live(self) -> LiveCentre:
        return self.served.live

    def status(self, agent: str = "zhang"):
        assert self.live.desk is not None
        return self.live.desk.status(agent)

    async def read(self) -> None:
        """Until ccf serve has read every event the peer sent so far: a new channel's
        Newchannel, sent after them, is in its mirror (events are read in order)."""
        name = f"PJSIP/marker-{len(self.peer.channels):08x}"
        self.peer.emit({"Event": "Newchannel", "Channel": name, "ChannelState": 0,
                        "Uniqueid": name, "Linkedid": name})
        await until(lambda: name in self.live.centre.channels, "the peer's events read")

    async def wall_row(self, agent: str = "zhang") -> str:
        page = await self.web.get("/wall", headers=HTML)
        assert page.status_code == 200, page.text
        return re.search(rf'<tr data-agent="{agent}">.*?</tr>', page.text, re.S)[0]

    async def live_wall(self) -> dict:
        """The first `wall` event of the supervisor's /live stream (the whole board)."""
        async with self.web.stream("GET", "/live") as reply:
            assert reply.status_code == 200
            kind = None
            async for line in reply.aiter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "wall":
                    board = json.loads(line[6:])
                    return next(a for a in board["agents"] if a["id"] == "zhang")
        raise AssertionError("the live stream ended without the board")


def run(tmp_path: Path, scenario) -> None:
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, auth_failure_delay=0.01)
        await peer.start()
        save_users(tmp_path / "console-users.json",
                   {"sup": new_user("sup", "supervisor", PASSWORD, "Sun Supervisor")})
        config = await deployed_hotline(tmp_path, peer.port, SECRET,
                                        extra='[console]\nusers = "console-users.json"\n')
        served = ServedCentre(LiveCentre(config, port=0, api_port=0))
        try:
            await served.start()
            live = served.live
            assert live.api_address is not None and live.desk is not None
            await until(lambda: live.ami is not None and live.ami.connected, "the AMI link")
            # zhang answered the call (the flow's agent_answered) on the phone's channel
            add_call(peer, CALL, agent_channel=AGENT_LEG)
            peer.bridge(TRUNK, AGENT_LEG)
            live.desk.emit(Event(CALL, 5, datetime.now(UTC), "agent_answered",
                                 {"agent": "zhang", "via": "queue"}))
            host, port = live.api_address
            async with httpx.AsyncClient(base_url=f"http://{host}:{port}",
                                         timeout=WAIT_S) as web:
                ok = await web.post("/login", data={"user": "sup", "password": PASSWORD})
                assert ok.status_code == 303, ok.text
                web.cookies.set("ccf_session", ok.cookies["ccf_session"])
                await scenario(Rig(served, peer, web))
        finally:
            await served.stop(1.0)
            await peer.stop()

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
