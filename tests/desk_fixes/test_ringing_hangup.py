"""A ringing call is answered or left to ring: the server refuses to hang up (or control) a
call the agent has not answered, which would drop a caller still waiting in the queue."""

from __future__ import annotations

import pytest

from tests.console.desk_calls import on_call, ringing


@pytest.mark.parametrize("action", ["hangup", "hold", "transfer", "add_party", "read"])
def test_a_ringing_call_cannot_be_hung_up_or_controlled(console, action) -> None:
    ringing(console, "c1")
    reply = console.post(console.client("zhang"), f"/desk/call/c1/{action}",
                 kind="agent", value="li", mode="blind", text="hello")
    assert reply.status_code == 409, reply.text
    said = reply.json()["error"]
    assert "ringing" in said and "not answered" in said and "stays in the queue" in said
    assert [a for a in console.control.asked if a[0] != "agent_login"] == []
    assert console.desk.status("zhang").state == "ringing"


def test_once_answered_the_call_is_hung_up(console) -> None:
    on_call(console, "c1")
    reply = console.post(console.client("zhang"), "/desk/call/c1/hangup")
    assert reply.status_code == 200 and ("hangup", "c1") in console.control.asked


def test_answer_is_only_for_a_ringing_call(console) -> None:
    answered = []
    console.control.answer = lambda agent, call_id: answered.append((agent, call_id))
    on_call(console, "c1")
    reply = console.post(console.client("zhang"), "/desk/call/c1/answer")
    assert reply.status_code == 409 and "already answered" in reply.json()["error"]
    assert answered == []
