"""The agent desk's actions: state changes and call control, checked on the server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.centre_control import ControlError, Target
from tests.console.desk_calls import on_call, ringing, store_call


def post(console, web, url, **fields):
    return web.post(url, data=fields, headers={"X-CSRF-Token": console.csrf(web)})


def test_ready_pause_with_a_reason_and_leave_the_queues(console) -> None:
    web = console.client("zhang")
    reply = post(console, web, "/desk/join")
    assert reply.json()["me"]["state"] == "ready"
    paused = post(console, web, "/desk/pause", reason="lunch")
    assert paused.status_code == 200 and paused.json()["me"] == {
        **paused.json()["me"], "state": "paused", "reason": "lunch"}
    assert ("agent_pause", "zhang", True, "lunch") in console.control.asked
    assert post(console, web, "/desk/ready").json()["me"]["state"] == "ready"
    assert ("agent_pause", "zhang", False, None) in console.control.asked
    left = post(console, web, "/desk/leave")
    assert left.json() == {"ok": True, "me": {**left.json()["me"], "state": "logged_out"}}
    assert ("agent_logout", "zhang") in console.control.asked


def test_a_pause_reason_not_configured_is_refused(console) -> None:
    web = console.client("li")
    reply = post(console, web, "/desk/pause", reason="nap")
    assert reply.status_code == 400 and reply.json()["ok"] is False
    assert "pause reason" in reply.json()["error"]
    assert not [a for a in console.control.asked if a[0] == "agent_pause"]


def test_state_changes_need_the_csrf_token_an_agent_and_the_same_origin(console) -> None:
    web = console.client("li")
    assert web.post("/desk/ready").status_code == 403
    assert web.post("/desk/pause", data={"reason": "lunch", "csrf": "forged"}).status_code == 403
    foreign = web.post("/desk/pause", data={"reason": "lunch"},
                       headers={"X-CSRF-Token": console.csrf(web),
                                "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    sup = console.client("sup")
    assert post(console, sup, "/desk/pause", reason="lunch").status_code == 403
    assert console.client().post("/desk/ready").status_code == 401
    assert console.control.asked == []


def test_each_call_action_on_the_desks_call_reaches_the_control(console) -> None:
    on_call(console, "c1")
    web = console.client("zhang")
    steps = [("hangup", {}, ("hangup", "c1")),
             ("hold", {}, ("hold", "c1", True)),
             ("resume", {}, ("hold", "c1", False)),
             ("transfer", {"kind": "agent", "value": "li", "mode": "attended"},
              ("transfer", "c1", Target("agent", "li"), "attended")),
             ("transfer", {"kind": "number", "value": "+86 138-0000-0009", "mode": "blind"},
              ("transfer", "c1", Target("number", "+8613800000009"), "blind")),
             ("add_party", {"kind": "queue", "value": "service"},
              ("add_party", "c1", Target("queue", "service"))),
             ("read", {"text": "Your order shipped on 28 November", "language": "en-GB"},
              ("read_to_caller", "c1", "Your order shipped on 28 November", "en-GB"))]
    for action, fields, asked in steps:
        console.control.asked.clear()
        reply = post(console, web, f"/desk/call/c1/{action}", **fields)
        assert reply.status_code == 200 and reply.json()["ok"] is True, reply.text
        assert console.control.asked == [asked]


def test_read_without_a_language_uses_the_calls(console) -> None:
    store_call(console, "c2", ended=False, form=None)
    console.store.emit(Event("c2", 9, datetime.now(UTC), "language_set",
                             {"language": "zh-CN", "previous": "en-US"}))
    on_call(console, "c2")
    reply = post(console, console.client("zhang"), "/desk/call/c2/read", text="您好")
    assert reply.json()["language"] == "zh-CN"
    assert console.control.asked[-1] == ("read_to_caller", "c2", "您好", "zh-CN")


def test_an_agent_may_act_only_on_the_call_its_desk_names(console) -> None:
    on_call(console, "mine")
    on_call(console, "theirs", agent="li")
    web = console.client("zhang")
    for action in ("hangup", "hold", "read", "transfer"):
        reply = post(console, web, f"/desk/call/theirs/{action}", text="hi", kind="agent",
                     value="li")
        assert reply.status_code == 403
        assert "not the call on your desk (call mine)" in reply.json()["error"]
    sup = console.client("sup")
    assert post(console, sup, "/desk/call/mine/hangup").status_code == 403
    assert web.post("/desk/call/mine/hangup").status_code == 403  # no CSRF token
    assert [a for a in console.control.asked if a[0] == "hangup"] == []


@pytest.mark.parametrize(("action", "fields", "said"), [
    ("transfer", {"kind": "fax", "value": "1", "mode": "blind"}, "kind: one of agent"),
    ("transfer", {"kind": "agent", "value": "li", "mode": "psychic"}, "mode: one of blind"),
    ("transfer", {"kind": "agent", "value": "nobody", "mode": "blind"}, "no agent 'nobody'"),
    ("transfer", {"kind": "agent", "value": "zhang", "mode": "blind"}, "that is you"),
    ("transfer", {"kind": "number", "value": "call me", "mode": "blind"}, "not a phone number"),
    ("add_party", {"kind": "queue", "value": ""}, "value: the queue to connect is missing"),
    ("add_party", {"kind": "queue", "value": "a queue; drop"}, "not a queue name"),
    ("read", {"text": "   "}, "text: type what to read"),
    ("read", {"text": "x" * 501}, "at most 500 characters, got 501"),
    ("read", {"text": "hello", "language": "<en>"}, "not a language tag"),
])
def test_bad_inputs_are_refused_with_what_is_wrong(console, action, fields, said) -> None:
    on_call(console, "c1")
    reply = post(console, console.client("zhang"), f"/desk/call/c1/{action}", **fields)
    assert reply.status_code == 400 and said in reply.json()["error"]
    assert [a for a in console.control.asked if a[0] != "agent_login"] == []


def test_a_control_error_keeps_its_status_and_message(console) -> None:
    on_call(console, "c1")
    console.control.refuse["hold"] = ControlError("call c1 has ended", 404)
    reply = post(console, console.client("zhang"), "/desk/call/c1/hold")
    assert reply.status_code == 404 and reply.json() == {"ok": False,
                                                         "error": "call c1 has ended"}
    assert post(console, console.client("zhang"), "/desk/call/c1/fly").status_code == 404


def test_answer_is_there_only_in_a_simulated_centre_with_an_answer(console) -> None:
    ringing(console, "c1")
    web = console.client("zhang")
    page = web.get("/desk").text
    assert '<button type="button" id="btn-answer" class="primary" hidden>' in page
    refused = post(console, web, "/desk/call/c1/answer")
    assert refused.status_code == 409 and "answered on the phone" in refused.json()["error"]
    answered = []
    console.control.answer = lambda agent, call_id: answered.append((agent, call_id)) or call_id
    assert 'id="btn-answer" class="primary" >' in web.get("/desk").text
    assert post(console, web, "/desk/call/c1/answer").json()["ok"] is True
    assert answered == [("zhang", "c1")]
    assert post(console, web, "/desk/call/other/answer").status_code == 403


def test_the_desk_remembers_a_hold_so_a_page_opened_again_shows_it(console) -> None:
    on_call(console, "c1")
    web = console.client("zhang")
    console.control.asked.clear()
    assert post(console, web, "/desk/call/c1/hold").json()["me"]["held"] is True
    again = post(console, web, "/desk/call/c1/hold")  # a second press, or another tab
    assert again.json()["me"]["held"] is True
    assert console.control.asked == [("hold", "c1", True)]  # asked of the phones once
    assert web.get("/desk/summary").json()["me"]["held"] is True
    assert 'data-held="yes"' in web.get("/desk", headers={"Accept": "text/html"}).text
    assert post(console, web, "/desk/call/c1/resume").json()["me"]["held"] is False
    assert web.get("/desk/summary").json()["me"]["held"] is False
