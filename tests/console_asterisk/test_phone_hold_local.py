"""A queue member that is a Local channel holds on its phone: the real ccf serve (LiveCentre and
its console), its agents' interface `Local/{extension}@agents`, reads the AMI events a real
Asterisk 22.10.1 sent for such a call (captures/ami-phone-hold-queue-local*.txt: Queue() rang
Local/8001@agents, whose ;2 half dialled PJSIP/8001, and that phone held and resumed), replayed
by the AMI double event for event. The Hold comes on PJSIP/8001-…, which is no agent's device
here: ccf serve matches it to zhang through the Local pair's DialBegin, so the wallboard says
"on hold (m:ss)" until the Unhold. A DialBegin lost while the AMI link was down is made up
for at the reconnect, from the channels Asterisk lists."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asterisk.centre import IWS, compiled, until, write_config
from doubles.ami_state import PeerChannel

from ccdsl.runtime.asterisk.config import CentreConfig, load_config
from ccdsl.runtime.asterisk.deploy import ami_connector, deploy, make_plan
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.core.events import Event
from tests.asterisk.test_phone_hold_capture import captured
from tests.console_asterisk.served import USERS, Rig, supervisor
from tests.console_asterisk.test_phone_hold_reconnect import hold_rows, link_down

SECRET = "phone-hold-local"
LOCAL = 'interface = "Local/{extension}@agents"\n'


async def local_member_centre(folder: Path, port: int) -> CentreConfig:
    """examples/iws's hotline deployed as in the other console tests, with the agents' queue
    interface a Local channel (the captures' `Local/8001@agents` for zhang, extension 8001)."""
    path = write_config(folder, port, numbers='"4008001234" = "hotline"', extra=USERS)
    text = path.read_text(encoding="utf-8")
    assert text.count("[agents]\n") == 1
    path.write_text(text.replace("[agents]\n", "[agents]\n" + LOCAL), encoding="utf-8")
    config = load_config(path, environ={"CCF_AMI_SECRET": SECRET})
    flows = FlowStore(config.flows_dir)
    plan = make_plan(config, flows, {"hotline": compiled(IWS / "hotline.ccf")})
    await deploy(config, flows, plan, connect=ami_connector(config))
    return config


@pytest.mark.parametrize("name", ["ami-phone-hold-queue-local.txt",
                                  "ami-phone-hold-queue-local-audio.txt"])
def test_a_local_members_phone_hold_reaches_the_wallboard(tmp_path: Path, name: str) -> None:
    events = [m for m in captured(name) if m.event and m.event not in (
        "FullyBooted", "SuccessfulAuth")]
    call = events[0].get("Uniqueid")  # the caller's channel: Queue() ran on it
    hold = next(n for n, m in enumerate(events) if m.event == "Hold")
    unhold = next(n for n, m in enumerate(events) if m.event == "Unhold")
    phone = events[hold].get("Channel")

    async def scenario(rig: Rig) -> None:
        live = rig.live
        assert live.desk is not None
        live.desk.emit(Event(str(call), 5, datetime.now(UTC), "agent_answered",
                             {"agent": "zhang", "via": "queue"}))
        for message in events[:hold]:
            rig.peer.emit(dict(message.headers))
        await rig.read()
        assert rig.status().state == "on_call" and not rig.status().held
        assert live.centre.holds.agent_of_channel("", str(phone)) == "zhang"
        rig.peer.emit(dict(events[hold].headers))
        await until(lambda: rig.status().held, "zhang's caller on hold")
        assert live.centre.holds.holding("zhang") == phone
        assert "on hold (" in await rig.wall_row()
        for message in events[hold + 1:unhold + 1]:
            rig.peer.emit(dict(message.headers))
        await until(lambda: not rig.status().held, "zhang's caller off hold")
        for message in events[unhold + 1:]:
            rig.peer.emit(dict(message.headers))
        await rig.read()
        row = await rig.wall_row()
        assert "on hold" not in row
        # the phone's Hangup: what the Local member dialled is forgotten
        assert live.centre.holds.agent_of_channel("", str(phone)) is None
        live.store.flush()
        assert [json.loads(r["data"]) for r in live.store.query(
            "SELECT data FROM centre_events WHERE kind = 'call_hold' ORDER BY id")] == [
            {"agent": "zhang", "on": True, "by": "phone"},
            {"agent": "zhang", "on": False, "by": "phone"}]

    async def main() -> None:
        async with supervisor(tmp_path, SECRET, local_member_centre) as rig:
            await scenario(rig)

    asyncio.run(main())


def test_a_local_members_call_dialled_while_the_link_was_down_is_matched(tmp_path: Path) -> None:
    """Queue() rang Local/8001@agents and its ;2 half dialled zhang's phone while the AMI link
    was down (no DialBegin read), and the phone held. On the reconnect ccf serve finds the
    phone behind the Local member from CoreShowChannels (the ;2 half and the phone in one
    bridge, as captures/ami-phone-hold-ask-queue-local.txt lists them): the hold is shown, and
    the phone's Unhold, read live afterwards, is zhang's."""
    call, phone = "1796663778.2", "PJSIP/8001-00000003"
    one, two = "Local/8001@agents-00000000;1", "Local/8001@agents-00000000;2"

    async def scenario(rig: Rig) -> None:
        rig.live.desk.emit(Event(call, 5, datetime.now(UTC), "agent_answered",
                                 {"agent": "zhang", "via": "queue"}))
        with link_down(rig):
            for n, (name, partner) in enumerate((("PJSIP/caller-00000002", None), (one, two),
                                                 (two, one), (phone, None))):
                rig.peer.channels[name] = PeerChannel(
                    name, f"1796663778.{n + 2}", call, "agents", "8001", state=6,
                    partner=partner, device=name.rsplit("-", 1)[0])
            rig.peer.bridge("PJSIP/caller-00000002", one)
            rig.peer.bridge(two, phone)
            rig.peer.phone_hold(phone, True)
        await until(lambda: rig.status().held, "the hold shown after the reconnect")
        assert rig.live.centre.holds.holding("zhang") == phone
        assert "on hold (" in await rig.wall_row()
        rig.peer.phone_hold(phone, False)
        await until(lambda: not rig.status().held, "zhang's caller off hold")
        assert hold_rows(rig) == [{"agent": "zhang", "on": True, "by": "phone"},
                                  {"agent": "zhang", "on": False, "by": "phone"}]

    async def main() -> None:
        async with supervisor(tmp_path, SECRET, local_member_centre) as rig:
            await scenario(rig)

    asyncio.run(main())
