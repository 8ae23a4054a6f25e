"""An agent with more than MAX_UNSAVED forms left unsaved, whose waiting list no longer holds
the call they are wrapping up, is still made ready when that call's form is saved elsewhere
(another worker, `ccf wrapup`): the desk asks the store about the call it wraps up whatever the
list holds. Before, the agent stayed paused in wrap-up until they pressed Ready."""

from __future__ import annotations

from ccdsl.runtime.console import desk_wrapups
from ccdsl.runtime.operations.agent_desk import MAX_UNSAVED
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import claim
from tests.console.desk_calls import store_call, wrapping_up
from tests.console.rig import read_live

JSON = {"Accept": "application/json"}
OLDER = [f"old-{n:02d}" for n in range(MAX_UNSAVED)]  # forms the store has not written yet


def wrapping_up_off_the_list(console, call_id: str) -> None:
    """The agent wraps `call_id` up, and a read of the store listed it among more than
    MAX_UNSAVED unsaved forms, oldest first: the list kept the newest, without it."""
    store_call(console, call_id)
    wrapping_up(console, call_id)

    async def synced():
        return console.desk.sync_wrapups("zhang", [call_id, *OLDER])

    me = console.run(synced())
    assert (me.state, me.call_id) == ("wrapup", call_id)
    assert call_id not in me.wrapups and len(me.wrapups) == MAX_UNSAVED


def saved_elsewhere(tmp_path, call_id: str) -> None:
    with CallStore(tmp_path / "calls.db") as elsewhere:  # `ccf wrapup`'s own store
        assert claim(elsewhere, call_id, {"reason": "order", "resolved": True}, agent="zhang")


def test_the_desk_shown_makes_the_agent_ready(console, tmp_path) -> None:
    web = console.client("zhang")
    wrapping_up_off_the_list(console, "w1")
    saved_elsewhere(tmp_path, "w1")
    me = web.get("/desk/summary", headers=JSON).json()["me"]
    assert me["state"] == "ready"
    assert me["wrapups"] == OLDER  # the forms still unsaved wait on
    assert console.control.asked[-1] == ("agent_pause", "zhang", False, None)


def test_the_watch_makes_the_agent_ready(console, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(desk_wrapups, "WATCH_S", 0.1)
    web = console.client("zhang")
    wrapping_up_off_the_list(console, "w1")
    saved_elsewhere(tmp_path, "w1")
    read_live(web, lambda seen: any(k == "agent" and d.get("agent") == "zhang"
                                    and d["state"] == "ready" for k, d in seen))
    assert console.desk.status("zhang").state == "ready"
