"""Logging out of the console on a call is refused, the session kept: ringing, talking, or
with the call's wrap-up not saved. The server decides; the page shows its answer."""

from __future__ import annotations

import pytest

from tests.console.desk_calls import on_call, ringing, store_call, wrapping_up

JSON = {"Accept": "application/json"}


def log_out(console, web, **headers):
    return web.post("/logout", data={"csrf": console.csrf(web)}, headers=headers)


@pytest.mark.parametrize(("where", "said"), [
    (ringing, "a call is ringing on your desk"),
    (on_call, "finish the call first"),
    (wrapping_up, "save the wrap-up of call c1 first"),
])
def test_log_out_on_a_call_is_refused_and_the_session_kept(console, where, said) -> None:
    store_call(console, "c1", ended=False)
    web = console.client("zhang")
    where(console, "c1")
    reply = log_out(console, web, **JSON)
    assert reply.status_code == 409, reply.text
    assert said in reply.json()["error"] and "then log out" in reply.json()["error"]
    assert web.get("/me").status_code == 200  # still logged in
    assert ("agent_logout", "zhang") not in console.control.asked
    # a plain form's post (no script) comes back to the desk, which says why
    plain = log_out(console, web)
    assert plain.status_code == 303 and plain.headers["location"] == "/desk?refused=logout"
    page = web.get("/desk?refused=logout", headers={"Accept": "text/html"}).text
    assert said in page


def test_log_out_in_wrap_up_after_ready_still_waits_for_the_form(console) -> None:
    store_call(console, "c1")
    web = console.client("zhang")
    wrapping_up(console, "c1")
    ready = web.post("/desk/ready", headers={"X-CSRF-Token": console.csrf(web)})
    assert ready.json()["me"]["state"] == "ready"
    reply = log_out(console, web, **JSON)
    assert reply.status_code == 409 and "save the wrap-up of call c1" in reply.json()["error"]


def test_log_out_after_the_call_ends_the_session_and_leaves_the_queues(console) -> None:
    store_call(console, "c1")
    web = console.client("zhang")
    wrapping_up(console, "c1")
    saved = web.post("/desk/wrapup/c1", data={"f.reason": "x", "f.resolved": "yes"},
                     headers={"X-CSRF-Token": console.csrf(web)})
    assert saved.status_code == 200, saved.text
    reply = log_out(console, web, **JSON)
    assert reply.status_code == 200 and reply.json() == {"ok": True, "next": "/login"}
    assert ("agent_logout", "zhang") in console.control.asked
    assert web.get("/me").status_code == 401


def test_a_wrap_up_whose_form_cannot_be_found_no_longer_keeps_the_agent(console) -> None:
    """The call ended and its form was never stored: asking for it (404) drops it from the
    unsaved forms, and the agent may log out (they could not until the server restarted)."""
    store_call(console, "c1", form=None)
    web = console.client("zhang")
    wrapping_up(console, "c1")
    assert web.get("/desk/wrapup/c1", headers=JSON).status_code == 404
    assert console.desk.status("zhang").wrapups == ()
    reply = log_out(console, web, **JSON)
    assert reply.status_code == 200, reply.text


def test_a_form_the_store_says_never_comes_does_not_keep_the_agent(console) -> None:
    """Logging out reads the store first: the call ended with no form stored, so the form
    the desk still held no longer keeps the agent (no need to ask for it first)."""
    store_call(console, "c1", form=None)
    web = console.client("zhang")
    wrapping_up(console, "c1")
    assert console.desk.status("zhang").wrapups == ("c1",)
    reply = log_out(console, web, **JSON)
    assert reply.status_code == 200, reply.text


def test_a_form_not_stored_yet_of_a_running_call_still_waits(console) -> None:
    """While the call runs its form may still come (the flow asks at the conversation's
    end): a 404 then keeps it among the unsaved forms."""
    store_call(console, "c1", form=None, ended=False)
    web = console.client("zhang")
    wrapping_up(console, "c1")
    assert web.get("/desk/wrapup/c1", headers=JSON).status_code == 404
    assert console.desk.status("zhang").wrapups == ("c1",)
    assert log_out(console, web, **JSON).status_code == 409


def test_a_phone_system_failure_on_log_out_is_not_shown_as_a_refusal(console) -> None:
    from ccdsl.runtime.operations.centre_control import ControlError
    console.control.refuse["agent_logout"] = ControlError("the phone system did not answer")
    web = console.client("zhang")
    joined = web.post("/desk/join", headers={"X-CSRF-Token": console.csrf(web)})
    assert joined.json()["me"]["state"] == "ready", joined.text
    reply = log_out(console, web, **JSON)
    assert reply.status_code == 200 and reply.json() == {"ok": True, "next": "/login"}
    assert web.get("/me").status_code == 401
