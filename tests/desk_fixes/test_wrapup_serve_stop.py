"""`ccf serve` stops cleanly with a held wrap-up still being tried again: the store's wrap-ups
are locked by another session when the call ends, the save is refused and waits to be tried
again, and the service's stop gives it up (it retried for minutes before, and the stop waited
10 s for it, then closed the store under it). Nothing is stored or logged; the store keeps the
agent's form unsaved, which the desk rebuilt at the next start shows. A real LiveCentre
(no AMI) over a PostgreSQL store, whose row lock leaves the service's other writes free."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from types import SimpleNamespace

from store_faults.rig import centre, held_flow, live_config

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.operations import store_wrapups
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import waiting_all
from tests.console.desk_calls import store_call
from tests.desk_fixes.test_wrapup_held_apart import WAIT_S, until, wrapups_lock
from tests.desk_fixes.test_wrapup_once import end_call

BODY = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}


def test_serve_stops_with_a_held_save_retrying_and_the_form_stays_unsaved(
        tmp_path: Path, pg_url: str, monkeypatch, caplog) -> None:
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.3)
    config = live_config(centre(tmp_path, {"line": held_flow()}, pg_url))

    def retrying() -> bool:
        return any("not stored yet (tried again" in r.getMessage() for r in caplog.records)

    async def main():
        live = LiveCentre(config, port=0, api_port=0, use_ami=False)
        await live.start()
        rig = SimpleNamespace(store=live.store)
        store_call(rig, "w1", ended=False)
        running = {"w1": True}
        live.wrapups.running = lambda call_id: running.get(call_id, False)
        taken = await live.wrapups.submit("w1", BODY)
        running["w1"] = False
        end_call(rig, "w1")
        with wrapups_lock(pg_url):
            # as the FastAGI server reports a call's end
            live._call_ended(SimpleNamespace(info=SimpleNamespace(call_id="w1"),
                                             handed_back=False), None)
            await until(retrying, "the held save refused once, waiting to be tried again")
            await asyncio.wait_for(live.stop(0.1), WAIT_S)
            assert not live.held.tasks and not live.wrapups.saving
        return taken

    with caplog.at_level(logging.INFO, logger="ccdsl"):
        taken = asyncio.run(main())
    assert taken.status == 200 and taken.body["stored"] == "when the call ends", taken
    said = [r.getMessage() for r in caplog.records if r.name == "ccdsl.wrapup"]
    assert any("wrap-up of call w1 by zhang not saved: stopping while the call store is busy"
               in s and "back on the agent's desk at the next start" in s for s in said), said
    assert not any("stored (" in s for s in said), said
    with CallStore(pg_url) as store:
        assert store.call("w1")["wrapup"]["values"] is None
        assert waiting_all(store, int(time.time() * 1000), limit=50) == {"zhang": ("w1",)}
        kinds = [r["kind"] for r in store.query("SELECT kind FROM centre_events "
                                                 "WHERE call_id = 'w1'")]
    assert "wrapup_stored" not in kinds
