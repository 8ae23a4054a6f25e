"""The desk's hold made on the agent's own phone (AgentDesk.phone_hold, told by ccf serve's AMI
side, runtime/asterisk/ami_holds.py, which alone keeps which channel holds): the desk keeps who
made the hold it shows, so the phone's hold is the call the agent talks on, never a call kept
from before."""

from __future__ import annotations

import asyncio

import pytest

from ccdsl.runtime.operations.centre_control import ControlError
from tests.console.test_agent_desk import desk_for, feed


def on_call(desk, call_id: str) -> None:
    feed(desk, call_id, ("agent_offered", {"agent": "zhang", "via": "queue"}),
         ("agent_answered", {"agent": "zhang"}))


def holds(rows) -> list[tuple[bool, str | None, str | None]]:
    return [(d["on"], d.get("by"), c) for kind, d, c in rows if kind == "call_hold"]


def test_the_phones_hold_only_the_phone_ends() -> None:
    async def main():
        desk, control, rows = desk_for({"zhang": "ready"})
        on_call(desk, "c1")
        desk.phone_hold("zhang", True)
        assert desk.status("zhang").held and desk.status("zhang").holders == ("phone",)
        with pytest.raises(ControlError) as refused:
            await desk.hold("zhang", "c1", False)
        assert refused.value.status == 409 and "own phone holds call c1" in str(refused.value)
        desk.phone_hold("zhang", False)
        assert not desk.status("zhang").held and desk.status("zhang").holders == ()
        assert holds(rows) == [(True, "phone", "c1"), (False, "phone", "c1")]
        assert [name for name, *_ in control.asked if name == "hold"] == []

    asyncio.run(main())


def test_the_phones_resume_does_not_end_the_consoles_hold() -> None:
    async def main():
        desk, _, rows = desk_for({"zhang": "ready"})
        on_call(desk, "c1")
        await desk.hold("zhang", "c1", True)
        assert desk.status("zhang").holders == ("console",)
        desk.phone_hold("zhang", True)  # the phone holds too: the console's hold stays
        desk.phone_hold("zhang", False)
        assert desk.status("zhang").held and desk.status("zhang").holders == ("console",)
        await desk.hold("zhang", "c1", False)
        assert not desk.status("zhang").held
        assert holds(rows) == [(True, None, "c1"), (False, None, "c1")]

    asyncio.run(main())


def test_a_phone_hold_of_an_ended_call_is_not_carried_to_the_next() -> None:
    """The call ended while the phone held it (its Unhold never came): the next call is not
    held, and the console may hold and resume it."""
    async def main():
        desk, _, rows = desk_for({"zhang": "ready"})
        on_call(desk, "c1")
        desk.phone_hold("zhang", True)
        feed(desk, "c1", ("conversation_ended", {"agent": "zhang", "wrapup": False}))
        assert desk.status("zhang").state == "ready" and desk.status("zhang").holders == ()
        on_call(desk, "c2")
        assert not desk.status("zhang").held
        desk.phone_hold("zhang", False)  # a late end of the old hold changes nothing
        await desk.hold("zhang", "c2", True)
        await desk.hold("zhang", "c2", False)
        assert holds(rows) == [(True, "phone", "c1"), (True, None, "c2"), (False, None, "c2")]

    asyncio.run(main())
