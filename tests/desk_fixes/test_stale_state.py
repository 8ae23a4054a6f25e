"""A call action's reply carries the desk's state only where the action itself changes what
the desk shows (hold, resume). The desk applies a reply's state as it arrives: a hang-up's
reply said 'on call' and, arriving after the live feed's 'wrap-up', put the desk back on
the call."""

from __future__ import annotations

import pytest

from tests.console.desk_calls import on_call


@pytest.mark.parametrize("action", ["hangup", "transfer", "add_party", "read"])
def test_a_call_action_that_ends_or_moves_the_call_carries_no_state(console, action) -> None:
    on_call(console, "c1")
    reply = console.post(console.client("zhang"), f"/desk/call/c1/{action}",
                 kind="number", value="+8613800000009", mode="blind", text="hello",
                 language="en-US")
    assert reply.status_code == 200, reply.text
    assert "me" not in reply.json()  # the live feed says what became of the call


def test_hold_and_resume_carry_the_held_state(console) -> None:
    on_call(console, "c1")
    web = console.client("zhang")
    held = console.post(web, "/desk/call/c1/hold").json()
    assert held["me"]["state"] == "on_call" and held["me"]["held"] is True
    resumed = console.post(web, "/desk/call/c1/resume").json()
    assert resumed["me"]["held"] is False
