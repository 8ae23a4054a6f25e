"""The agents' desk (runtime/operations/agent_desk.py): the states people and calls move an
agent through, what it asks the phone system, what it records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.agent_desk import AgentDesk
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.live_feed import LiveFeed
from tests.console.rig import RecordingControl

AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def desk_for(initial, **options):
    control, rows = RecordingControl(), []
    desk = AgentDesk(initial, control=control, feed=LiveFeed(), now=lambda: AT,
                     record=lambda kind, data, call_id: rows.append((kind, data, call_id)),
                     **options)
    return desk, control, rows


def feed(desk: AgentDesk, call_id: str, *events) -> None:
    for seq, (kind, data) in enumerate(events, 1):
        desk.emit(Event(call_id, seq, AT, kind, data))


def test_a_ring_out_in_an_autopause_queue_shows_the_agent_paused() -> None:
    desk, _, rows = desk_for({"zhang": "ready", "li": "ready"},
                             autopaused=lambda queue: queue == "service")
    feed(desk, "c1", ("agent_offered", {"agent": "zhang", "via": "queue", "queue": "service"}),
         ("agent_no_answer", {"agent": "zhang", "via": "queue", "queue": "service"}))
    feed(desk, "c2", ("agent_offered", {"agent": "li", "via": "queue", "queue": "sales"}),
         ("agent_no_answer", {"agent": "li", "via": "queue", "queue": "sales"}))
    assert (desk.status("zhang").state, desk.status("zhang").reason) == ("paused", "no answer")
    assert desk.status("li").state == "ready"
    assert [(d["agent"], d["from"], d["state"]) for _, d, _ in rows] == [
        ("zhang", "ready", "ringing"), ("zhang", "ringing", "paused"),
        ("li", "ready", "ringing"), ("li", "ringing", "ready")]


def test_after_a_conversation_with_a_form_the_agent_wraps_up_paused_then_is_ready() -> None:
    async def main():
        desk, control, rows = desk_for({"zhang": "ready", "li": "ready"})
        feed(desk, "c1", ("agent_offered", {"agent": "zhang", "via": "queue"}),
             ("agent_answered", {"agent": "zhang"}),
             ("conversation_ended", {"agent": "zhang", "wrapup": True}),
             ("wrapup_requested", {"agent": "zhang", "fields": ["reason"]}))
        feed(desk, "c2", ("agent_offered", {"agent": "li", "via": "queue"}),
             ("agent_answered", {"agent": "li"}),
             ("conversation_ended", {"agent": "li", "wrapup": False}))
        await asyncio.sleep(0.01)
        assert desk.status("li").state == "ready"  # no form: free at once
        during = desk.status("zhang")
        await desk.wrapped_up("zhang", "c1")
        return during, desk.status("zhang"), control.asked, rows

    during, after, asked, rows = asyncio.run(main())
    assert (during.state, during.call_id) == ("wrapup", "c1") and after.state == "ready"
    assert asked == [("agent_pause", "zhang", True, "wrap-up"),
                     ("agent_pause", "zhang", False, None)]
    assert [d["state"] for _, d, _ in rows if d["agent"] == "zhang"] == [
        "ringing", "on_call", "wrapup", "ready"]


def test_people_change_states_through_the_control_and_wrong_ones_are_refused() -> None:
    async def main():
        desk, control, _ = desk_for({"zhang": "logged_out", "li": "ready"},
                                    reasons=("lunch",))
        await desk.login("zhang")
        await desk.pause("zhang", "lunch")
        with pytest.raises(ControlError, match="not a pause reason"):
            await desk.pause("zhang", "nap")
        await desk.ready("zhang")
        feed(desk, "c1", ("agent_offered", {"agent": "li"}), ("agent_answered", {"agent": "li"}))
        with pytest.raises(ControlError, match="on a call: log out after the call"):
            await desk.logout("li")
        with pytest.raises(ControlError) as unknown:
            desk.status("nobody")
        await desk.logout("zhang")
        return control.asked, unknown.value.status, desk.status("zhang").state

    asked, status, state = asyncio.run(main())
    assert asked == [("agent_login", "zhang"), ("agent_pause", "zhang", True, "lunch"),
                     ("agent_pause", "zhang", False, None), ("agent_logout", "zhang")]
    assert status == 404 and state == "logged_out"
