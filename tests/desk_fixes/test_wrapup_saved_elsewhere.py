"""An agent wrapping a call up on one worker whose form is saved elsewhere (on another worker
over the same store, or by `ccf wrapup`) is ready on this worker's desk too, as after a save
here: the desk looks for it on its own (no page load, no Ready), and whenever it is shown."""

from __future__ import annotations

from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import claim
from tests.console.desk_calls import store_call, wrapping_up
from tests.console.rig import Console, read_live
from tests.desk_fixes.test_wrapup_once import Crm, wire

JSON = {"Accept": "application/json"}
SAVE = {"f.reason": "order", "f.resolved": "yes"}


def two_workers(tmp_path, target: str | None = None) -> tuple[Console, Console]:
    """Two consoles over one store, as two `ccf serve` workers: the first one's SQLite file,
    or `target` (a PostgreSQL URL) for both."""
    one = Console(tmp_path / "one")
    two = Console(tmp_path / "two")
    if target is not None:
        one.store.close()
        one.store = one.ctx.store = CallStore(target, wait_s=0.25)
    two.store.close()
    two.store = two.ctx.store = CallStore(target or tmp_path / "one" / "calls.db", wait_s=0.25)
    crm = Crm()
    wire(one, crm)
    wire(two, crm)
    return one, two


def ready_on_the_feed(pairs) -> bool:
    return any(kind == "agent" and data.get("agent") == "zhang" and data["state"] == "ready"
               for kind, data in pairs)


def test_a_save_on_another_worker_makes_the_agent_ready_here(tmp_path, store_target) -> None:
    one, two = two_workers(tmp_path, None if store_target.endswith(".db") else store_target)
    try:
        store_call(one, "w1")
        web_one = one.client("zhang")
        wrapping_up(one, "w1")
        assert one.desk.status("zhang").state == "wrapup"
        web_two = two.client("zhang")
        assert two.post(web_two, "/desk/wrapup/w1", **SAVE).status_code == 200
        # worker one's open desk hears it from its own look at the store: no request made
        seen = read_live(web_one, ready_on_the_feed)
        last = [d for k, d in seen if k == "agent" and d.get("agent") == "zhang"][-1]
        assert last["state"] == "ready" and last["wrapups"] == []
        me = one.desk.status("zhang")
        assert (me.state, me.wrapups) == ("ready", ())
        # out of the queues' wrap-up pause, as a save on this worker does
        assert one.control.asked[-1] == ("agent_pause", "zhang", False, None)
        assert one.post(web_one, "/desk/wrapup/w1", **SAVE).status_code == 409
    finally:
        one.close()
        two.close()


def test_a_save_by_ccf_wrapup_leaves_the_next_form_and_ready(tmp_path) -> None:
    """The agent keeps an older unsaved form: the save elsewhere of the call being wrapped up
    makes them ready with the older form shown, as a save here does."""
    one, two = two_workers(tmp_path)
    try:
        store_call(one, "w0")
        store_call(one, "w1")
        web_one = one.client("zhang")
        wrapping_up(one, "w0")
        one.post(web_one, "/desk/ready")
        wrapping_up(one, "w1")
        assert one.desk.status("zhang").wrapups == ("w0", "w1")
        with CallStore(tmp_path / "one" / "calls.db") as cli_store:  # ccf wrapup's own
            assert claim(cli_store, "w1", {"reason": "order", "resolved": True}, agent="zhang")
        # the desk asked for (its summary) reads the store at once
        summary = web_one.get("/desk/summary", headers=JSON).json()
        assert summary["me"]["state"] == "ready"
        assert summary["me"]["wrapups"] == ["w0"]
        assert 'action="/desk/wrapup/w0"' in web_one.get("/desk").text
    finally:
        one.close()
        two.close()


def test_a_save_here_is_not_taken_twice(tmp_path) -> None:
    """The desk's own save already moved the agent: a later look at the store changes nothing
    (no second unpause, no second state change)."""
    one, two = two_workers(tmp_path)
    try:
        store_call(one, "w1")
        web_one = one.client("zhang")
        wrapping_up(one, "w1")
        assert one.post(web_one, "/desk/wrapup/w1", **SAVE).status_code == 200
        one.post(web_one, "/desk/pause", reason="lunch")
        asked = list(one.control.asked)
        summary = web_one.get("/desk/summary", headers=JSON).json()
        assert summary["me"]["state"] == "paused"
        assert one.control.asked == asked
    finally:
        one.close()
        two.close()
