"""A save whose call left the call store between the form and the save (pruned by `ccf store
prune`, say) says so: the desk and the API answer 404 "call X is not in the call store
(pruned?); nothing saved", `ccf wrapup --store` exits 2 (a call that is not there, as `ccf calls
show` of an unknown call), a wrap-up held for the call's end is logged as lost with its call.
Before, each said the wrap-up was "already saved" (the store's save counted no row either
way). On SQLite and PostgreSQL; the call is removed by the store's real prune."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace

from ccf_cli import ccf

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_prune import prune
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import store_call, wrapping_up
from tests.desk_fixes.test_wrapup_once import Crm, end_call, wire

BODY = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}


def prune_all(target: str) -> None:
    """`ccf store prune --before` a moment after now: every ended call goes."""
    db = connect(target)
    try:
        prune(db, int(time.time() * 1000) + 60_000)
    finally:
        db.close()


class PrunedAfterReading:
    """A store whose call is pruned (by another process) once the saver has read its events:
    after the form was checked, before the values are written."""

    def __init__(self, store: CallStore) -> None:
        self.store = store

    def events(self, call_id: str):
        found = self.store.events(call_id)
        prune_all(str(self.store.path))
        return found

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_the_desk_answers_404_for_a_call_pruned_before_the_save(store_target) -> None:
    crm = Crm()
    with CallStore(store_target, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        desk = WrapupDesk(PrunedAfterReading(store), crm, None)
        outcome = asyncio.run(desk.submit("w1", BODY))
        assert store.call("w1") is None
    assert outcome.status == 404, outcome
    assert outcome.body["error"] == ("call w1 is not in the call store (pruned?); "
                                     "nothing saved")
    assert outcome.body["gone"] is True  # `ccf wrapup` gives no hint to list the calls
    assert "already" not in outcome.body
    assert crm.logged == []


def test_a_held_wrap_up_whose_call_was_pruned_is_logged_as_such(store_target, caplog) -> None:
    crm = Crm()
    live = {"w1": True}

    async def main(store: CallStore) -> None:
        desk = WrapupDesk(store, crm, None, running=lambda call_id: live[call_id])
        taken = await desk.submit("w1", BODY)
        assert taken.status == 200 and taken.body["stored"] == "when the call ends"
        live["w1"] = False
        end_call(SimpleNamespace(store=store), "w1")
        prune_all(store_target)
        await desk.call_ended("w1")
        assert not desk.saving and not desk.pending

    with CallStore(store_target, wait_s=0.25) as store, \
            caplog.at_level(logging.WARNING, logger="ccdsl.wrapup"):
        store_call(SimpleNamespace(store=store), "w1", ended=False)
        asyncio.run(main(store))
    said = [r.getMessage() for r in caplog.records if r.name == "ccdsl.wrapup"]
    assert any("wrap-up of call w1 by zhang not stored: call w1 is not in the call store "
               "(pruned?)" in s for s in said), said
    assert not any("came first" in s for s in said), said
    assert crm.logged == []


def test_the_desk_page_says_so_and_drops_the_form(console) -> None:
    """The agent's form of a call pruned meanwhile can never be saved: the desk's save says
    why and the form no longer waits (it kept the agent from logging out)."""
    crm = Crm()
    desk = wire(console, crm)
    desk.store = PrunedAfterReading(console.store)
    store_call(console, "w1")
    wrapping_up(console, "w1")
    web = console.client("zhang")
    saved = console.post(web, "/desk/wrapup/w1", **{"f.reason": "order", "f.resolved": "yes"})
    assert saved.status_code == 404, saved.text
    assert "call w1 is not in the call store (pruned?); nothing saved" in saved.json()["error"]
    assert saved.json()["me"]["wrapups"] == []
    # as after a save: the agent wrapping that call up is not left paused on it
    assert saved.json()["me"]["state"] == "ready"
    assert console.desk.status("zhang").state == "ready"
    assert crm.logged == []


def test_ccf_wrapup_store_exits_2_for_a_call_pruned_before_the_save(tmp_path,
                                                                  monkeypatch) -> None:
    from ccdsl.cli import common
    from tests.serve_api.test_wrapup_cli import simulated_store

    store = simulated_store(tmp_path)
    opened = common.open_store
    monkeypatch.setattr(common, "open_store",
                        lambda *a, **kw: PrunedAfterReading(opened(*a, **kw)))
    result = ccf("wrapup", "sim-1", "--store", str(store), "-f", "reason=order",
                 "-f", "resolved=yes")
    assert result.exit_code == 2, result.output
    assert (f"error: call sim-1 is not in the call store {store} (pruned?); nothing saved"
            in result.output)
    assert "already saved" not in result.output and "Traceback" not in result.output


def test_ccf_wrapup_to_ccf_serve_exits_2_for_a_call_pruned_before_the_save(tmp_path) -> None:
    """The API's 404 for it reaches `ccf wrapup` as the same words and exit 2, with no hint
    to look the call up in `ccf calls list` (it was there when its form was shown)."""
    from tests.serve_api.test_wrapup_cli import Served

    with Served(tmp_path) as served:
        store = served.store
        events = store.events

        def pruned_after(call_id: str):
            found = events(call_id)
            prune_all(str(store.path))
            return found

        store.events = pruned_after
        result = ccf("wrapup", "1795.1", "-f", "reason=order", "-f", "resolved=yes",
                     "--config", str(served.config(tmp_path)))
    assert result.exit_code == 2, result.output
    assert result.output == ("error: call 1795.1 is not in the call store (pruned?); "
                             "nothing saved\n")


def test_ccf_wrapup_to_ccf_serve_points_to_the_list_for_a_call_never_there(tmp_path) -> None:
    """An unknown call (mistyped) is one to look up: the hint is given, as with --store."""
    from tests.serve_api.test_wrapup_cli import Served

    with Served(tmp_path) as served:
        result = ccf("wrapup", "nope.1", "-f", "reason=order", "-f", "resolved=yes",
                     "--config", str(served.config(tmp_path)))
    assert result.exit_code == 2, result.output
    assert result.output.endswith(": `ccf calls list` lists them\n"), result.output
