"""Saving a wrap-up waits on the phone system; meanwhile the agent may go ready, take another
call and wrap that one up. The late save must not end the new call's wrap-up."""

from __future__ import annotations

import asyncio

from tests.console.rig import RecordingControl
from tests.console.test_agent_desk import desk_for, feed


def test_a_save_that_returns_after_a_new_call_leaves_that_calls_wrapup_alone() -> None:
    async def main():
        desk, _, _ = desk_for({"zhang": "ready"})
        plain = RecordingControl.agent_pause

        async def meanwhile(control, agent, paused, reason):
            await plain(control, agent, paused, reason)
            if not paused and len([a for a in control.asked if a[2] is False]) == 1:
                await desk.ready(agent)
                feed(desk, "c2", ("agent_offered", {"agent": agent, "via": "queue"}),
                     ("agent_answered", {"agent": agent}),
                     ("conversation_ended", {"agent": agent, "wrapup": True}))

        desk.control.agent_pause = lambda *a: meanwhile(desk.control, *a)
        feed(desk, "c1", ("agent_offered", {"agent": "zhang", "via": "queue"}),
             ("agent_answered", {"agent": "zhang"}),
             ("conversation_ended", {"agent": "zhang", "wrapup": True}))
        await asyncio.sleep(0.01)
        await desk.wrapped_up("zhang", "c1")
        await asyncio.sleep(0.01)
        return desk.status("zhang")

    after = asyncio.run(main())
    assert (after.state, after.call_id) == ("wrapup", "c2")
    assert after.wrapups == ("c2",)
