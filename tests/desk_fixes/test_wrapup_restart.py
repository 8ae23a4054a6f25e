"""An agent's unsaved wrap-up forms survive a restart of the console's server: the store knows
which calls' forms were asked of the agent and not filled in, and the desk shows them again
(a deploy, a crash); with several workers over one store, each worker's desk shows the same."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from tests.console.desk_calls import FORM, store_call, wrapping_up
from tests.console.rig import Console
from tests.desk_fixes.test_wrapup_once import Crm, wire

HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}
SAVE = {"f.reason": "order", "f.resolved": "yes"}


def until(done, bound_s: float = 10.0) -> bool:
    """Whether `done()` holds within a generous bound (the start's rebuild runs beside it)."""
    deadline = time.monotonic() + bound_s
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def log_out(console, web):
    return web.post("/logout", data={"csrf": console.csrf(web)}, headers=JSON)


def shown(web, call_id: str) -> bool:
    return f'action="/desk/wrapup/{call_id}"' in web.get("/desk", headers=HTML).text


def old_call(console, call_id: str, hours: float) -> None:
    """A call of zhang's with its form asked for and never filled in, `hours` ago."""
    start = datetime.now(UTC) - timedelta(hours=hours)
    for seq, (kind, data) in enumerate((
            ("call_started", {"caller": "+8613800000001", "flow": "hotline"}),
            ("agent_answered", {"agent": "zhang", "ring_ms": 3000}),
            ("conversation_ended", {"agent": "zhang", "talk_ms": 60_000, "wrapup": True}),
            ("wrapup_requested", {"agent": "zhang", "fields": ["reason"], "form": FORM}),
            ("call_ended", {"outcome": "hangup"})), 1):
        console.store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))
    console.store.flush()


def test_the_forms_come_back_after_a_restart_and_are_saved_once(tmp_path) -> None:
    first = Console(tmp_path)
    try:
        store_call(first, "w1")
        store_call(first, "w2")
        web = first.client("zhang")
        wrapping_up(first, "w1")
        first.post(web, "/desk/ready")
        wrapping_up(first, "w2")
        assert first.desk.status("zhang").wrapups == ("w1", "w2")
    finally:
        first.close()  # the server stops (a deploy): the desk's memory is gone

    again = Console(tmp_path)  # started again over the same store
    try:
        # rebuilt at start, before any desk is opened
        assert until(lambda: again.desk.status("zhang").wrapups == ("w1", "w2"))
        crm = Crm()
        wire(again, crm)
        web = again.client("zhang")
        assert shown(web, "w1")  # the oldest first, as before the restart
        me = again.desk.status("zhang")
        assert me.wrapups == ("w1", "w2")
        # waiting as after Ready: not wrapping a live call up, and not free to leave
        assert me.state == "logged_out" and me.call_id is None
        refused = log_out(again, web)
        assert refused.status_code == 409, refused.text
        assert "save the wrap-up of call w1" in refused.json()["error"]
        saved = again.post(web, "/desk/wrapup/w1", **SAVE)
        assert saved.status_code == 200, saved.text
        assert saved.json()["me"]["wrapups"] == ["w2"]
        twice = again.post(web, "/desk/wrapup/w1", **SAVE)
        assert twice.status_code == 409, twice.text
        assert again.post(web, "/desk/wrapup/w2", **SAVE).status_code == 200
        assert [e["call_id"] for e in crm.logged] == ["w1", "w2"]
        assert not shown(web, "w1") and not shown(web, "w2")
        assert log_out(again, web).status_code == 200
    finally:
        again.close()


def test_only_the_agents_own_recent_forms_come_back(tmp_path) -> None:
    first = Console(tmp_path)
    try:
        store_call(first, "mine")
        store_call(first, "hers", agent="li")
        store_call(first, "done")
        first.store.set_wrapup("done", {"reason": "order", "resolved": True})
        old_call(first, "stale", hours=30)
        first.store.flush()
    finally:
        first.close()

    again = Console(tmp_path)
    try:
        zhang, li = again.client("zhang"), again.client("li")
        assert shown(zhang, "mine")
        assert again.desk.status("zhang").wrapups == ("mine",)
        assert shown(li, "hers")
        assert again.desk.status("li").wrapups == ("hers",)
    finally:
        again.close()


def test_two_workers_show_the_same_forms(tmp_path) -> None:
    """Two consoles over one store, as two `ccf serve` workers: the call ended on one (its
    desk heard the events), the agent opens the desk on the other."""
    one = Console(tmp_path / "one")
    two = Console(tmp_path / "two")
    two.store.close()
    from ccdsl.runtime.operations.store import CallStore
    two.store = two.ctx.store = CallStore(tmp_path / "one" / "calls.db", wait_s=0.25)
    try:
        crm = Crm()
        wire(one, crm)
        wire(two, crm)
        store_call(one, "w1")
        web_one = one.client("zhang")
        wrapping_up(one, "w1")
        web_two = two.client("zhang")
        assert shown(web_two, "w1")
        assert log_out(two, web_two).status_code == 409
        assert two.post(web_two, "/desk/wrapup/w1", **SAVE).status_code == 200
        # saved on the other worker: this one's desk shows it no more, and lets the agent go
        assert not shown(web_one, "w1")
        assert one.desk.status("zhang").wrapups == ()
        assert one.post(web_one, "/desk/wrapup/w1", **SAVE).status_code == 409
        assert len(crm.logged) == 1
    finally:
        one.close()
        two.close()
