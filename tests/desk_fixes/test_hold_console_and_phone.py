"""The desk keeps the console's hold and the agent's phone's hold of a call each on its own
(AgentDesk.hold and phone_hold): the caller is held while either holds, the console's Resume
ends the console's only, and one `call_hold` row pair spans the whole time held."""

from __future__ import annotations

import asyncio

import pytest

from ccdsl.runtime.operations.centre_control import ControlError
from tests.console.test_agent_desk import desk_for, feed


def on_call(desk, call_id: str) -> None:
    feed(desk, call_id, ("agent_offered", {"agent": "zhang", "via": "queue"}),
         ("agent_answered", {"agent": "zhang"}))


def holds(rows) -> list[tuple[bool, str | None]]:
    return [(d["on"], d.get("by")) for kind, d, _ in rows if kind == "call_hold"]


def test_console_then_phone_then_resume_leaves_the_phones_hold() -> None:
    async def main():
        desk, control, rows = desk_for({"zhang": "ready"})
        on_call(desk, "c1")
        await desk.hold("zhang", "c1", True)
        since = desk.status("zhang").held_since
        desk.phone_hold("zhang", True)
        both = desk.status("zhang")
        assert both.holders == ("console", "phone")
        assert both.held_since == since  # one hold of the caller, timed from its start
        after = await desk.hold("zhang", "c1", False)
        assert after.held and after.holders == ("phone",) and after.held_since == since
        assert after.to_json()["held_by"] == ["phone"]
        with pytest.raises(ControlError) as refused:
            await desk.hold("zhang", "c1", False)
        assert refused.value.status == 409 and "own phone holds call c1" in str(refused.value)
        desk.phone_hold("zhang", False)
        assert not desk.status("zhang").held and desk.status("zhang").holders == ()
        assert [a for a in control.asked if a[0] == "hold"] == [("hold", "c1", True),
                                                                ("hold", "c1", False)]
        assert holds(rows) == [(True, None), (False, "phone")]

    asyncio.run(main())


def test_phone_then_console_hold_is_the_consoles_own() -> None:
    """Before, the console's Hold while the phone held did nothing (the desk was held
    already) and its Resume was then refused: now it holds, and Resume ends it."""
    async def main():
        desk, control, rows = desk_for({"zhang": "ready"})
        on_call(desk, "c1")
        desk.phone_hold("zhang", True)
        held = await desk.hold("zhang", "c1", True)
        assert held.holders == ("console", "phone")
        assert ("hold", "c1", True) in control.asked
        assert (await desk.hold("zhang", "c1", True)).holders == ("console", "phone")
        desk.phone_hold("zhang", False)
        assert desk.status("zhang").holders == ("console",) and desk.status("zhang").held
        assert not (await desk.hold("zhang", "c1", False)).held
        assert holds(rows) == [(True, "phone"), (False, None)]

    asyncio.run(main())


def test_the_calls_end_ends_both_holds() -> None:
    async def main():
        desk, _, _ = desk_for({"zhang": "ready"})
        on_call(desk, "c1")
        await desk.hold("zhang", "c1", True)
        desk.phone_hold("zhang", True)
        feed(desk, "c1", ("conversation_ended", {"agent": "zhang", "wrapup": False}))
        on_call(desk, "c2")
        assert desk.status("zhang").holders == () and not desk.status("zhang").held
        # Hold and Resume of the next call are the console's as ever
        assert (await desk.hold("zhang", "c2", True)).holders == ("console",)

    asyncio.run(main())
