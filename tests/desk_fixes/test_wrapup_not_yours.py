"""Another agent's call is answered as a call that does not exist: an agent learns nothing of
which calls there are from the wrap-up form's address."""

from __future__ import annotations

from tests.console.desk_calls import store_call


def test_another_agents_call_and_no_call_get_the_same_404(console) -> None:
    store_call(console, "w2", agent="li")
    web = console.client("zhang")
    theirs, none = web.get("/desk/wrapup/w2"), web.get("/desk/wrapup/w9")
    assert theirs.status_code == none.status_code == 404
    assert theirs.json()["error"] == none.json()["error"].replace("w9", "w2")
    posted = web.post("/desk/wrapup/w2", data={"f.reason": "x"},
                      headers={"X-CSRF-Token": console.csrf(web)})
    assert posted.status_code == 404 and posted.json()["error"] == theirs.json()["error"]
    assert console.wrapups == []
