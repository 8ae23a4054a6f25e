"""A wrap-up form waits on the desk until it is saved, whatever the agent does meanwhile
(ready, pause, leave the queues): the server keeps it, so a reload shows it again."""

from __future__ import annotations

import pytest

from tests.console.desk_calls import store_call, wrapping_up

HTML = {"Accept": "text/html"}


@pytest.mark.parametrize(("url", "fields", "state"), [
    ("/desk/ready", {}, "ready"),
    ("/desk/pause", {"reason": "lunch"}, "paused"),
    ("/desk/leave", {}, "logged_out"),
])
def test_the_form_outlives_a_state_change_and_a_reload(console, url, fields, state) -> None:
    store_call(console, "w1")
    web = console.client("zhang")
    wrapping_up(console, "w1")
    changed = console.post(web, url, **fields)
    assert changed.status_code == 200 and changed.json()["me"]["state"] == state
    assert changed.json()["me"]["wrapups"] == ["w1"]
    page = web.get("/desk", headers=HTML).text
    assert 'action="/desk/wrapup/w1"' in page
    assert '<form id="wrapup-form" method="post" action="/desk/wrapup/w1" >' in page  # shown
    assert 'id="wrapup" class="card due"' in page
    assert web.get("/desk/wrapup/w1").json()["ok"] is True
    saved = console.post(web, "/desk/wrapup/w1", **{"f.reason": "x", "f.resolved": "no"})
    assert saved.status_code == 200 and saved.json()["me"]["state"] == state
    assert saved.json()["me"]["wrapups"] == []
    assert 'action="/desk/wrapup/w1"' not in web.get("/desk", headers=HTML).text


def test_two_unsaved_forms_come_one_after_the_other(console) -> None:
    store_call(console, "w1")
    store_call(console, "w2")
    web = console.client("zhang")
    wrapping_up(console, "w1")
    console.post(web, "/desk/ready")
    wrapping_up(console, "w2")
    assert console.desk.status("zhang").wrapups == ("w1", "w2")
    assert 'action="/desk/wrapup/w1"' in web.get("/desk", headers=HTML).text
    console.post(web, "/desk/wrapup/w1", **{"f.reason": "x", "f.resolved": "no"})
    assert console.desk.status("zhang").state == "wrapup"  # still wrapping w2 up
    assert 'action="/desk/wrapup/w2"' in web.get("/desk", headers=HTML).text
