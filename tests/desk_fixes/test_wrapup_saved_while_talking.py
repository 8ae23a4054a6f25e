"""A wrap-up the agent saved while still talking (stored when the call ends) is done: when the
conversation ends the agent is ready, not shown the form again and paused for it; a transferred
call's other agent still gets their own form."""

from __future__ import annotations

import asyncio

from tests.console.test_agent_desk import desk_for, feed


def _talk(desk, agent: str, call_id: str) -> None:
    feed(desk, call_id, ("agent_offered", {"agent": agent, "via": "queue"}),
         ("agent_answered", {"agent": agent}))


def _ends(desk, agent: str, call_id: str) -> None:
    feed(desk, call_id, ("conversation_ended", {"agent": agent, "wrapup": ["reason"]}))


def test_a_form_saved_while_talking_is_not_opened_again() -> None:
    async def main():
        desk, control, _ = desk_for({"zhang": "ready"})
        _talk(desk, "zhang", "c1")
        await desk.wrapped_up("zhang", "c1")  # saved during the call
        _ends(desk, "zhang", "c1")
        now = desk.status("zhang")
        assert (now.state, now.wrapups) == ("ready", ())
        await asyncio.sleep(0)  # a pause for the form would be asked for now
        assert [a for a in control.asked if a[0] == "agent_pause"] == []

    asyncio.run(main())


def test_the_other_agent_of_a_transferred_call_still_gets_their_form() -> None:
    async def main():
        desk, _, _ = desk_for({"zhang": "ready", "li": "ready"})
        _talk(desk, "zhang", "c1")
        await desk.wrapped_up("zhang", "c1")
        _ends(desk, "zhang", "c1")
        _talk(desk, "li", "c1")
        _ends(desk, "li", "c1")
        assert desk.status("zhang").state == "ready"
        assert (desk.status("li").state, desk.status("li").wrapups) == ("wrapup", ("c1",))

    asyncio.run(main())


def test_a_save_handed_back_unsaved_opens_the_form_at_the_end() -> None:
    async def main():
        desk, _, _ = desk_for({"zhang": "ready"})
        _talk(desk, "zhang", "c1")
        await desk.wrapped_up("zhang", "c1")
        desk.wrapup_unsaved("zhang", "c1")  # the store never took it
        _ends(desk, "zhang", "c1")
        assert (desk.status("zhang").state, desk.status("zhang").wrapups) == ("wrapup", ("c1",))

    asyncio.run(main())
