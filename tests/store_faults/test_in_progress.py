"""A call is on disk from its first event, not from its end or the next
event: another reader of the file (a report, `ccf calls list`) sees a call
that waits on a long prompt, in a queue or with an agent while it runs,
as in progress (outcome NULL)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from ccf_cli import ccf

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import (
    WAIT_S,
    centre,
    held_backend,
    held_flow,
    live_config,
    on_disk,
    place,
    until,
    wait_for,
)

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_a_calls_first_event_reaches_the_store_with_no_further_event(store_target: str) -> None:
    path = store_target
    store = CallStore(path)
    try:
        store.emit(Event("long-1", 1, T0, "call_started",
                         {"flow": "line", "caller": "+8613800000001", "dialled": "4008001234"}))
        store.emit(Event("long-1", 2, T0, "step_entered", {"step": "hold"}))
        # nothing else happens in this call for a long time (a long prompt,
        # a queue), and no other call comes: the row must not wait for them
        wait_for(lambda: on_disk(path, "SELECT count(*) FROM calls")[0][0] == 1,
                 "the call's row in the file")
        assert on_disk(path, "SELECT call_id, flow, caller, outcome FROM calls") == \
            [("long-1", "line", "+8613800000001", None)]
        wait_for(lambda: on_disk(path, "SELECT count(*) FROM events")[0][0] == 2,
                 "the call's events in the file")
    finally:
        store.close()
    assert on_disk(path, "SELECT outcome FROM calls") == [("error",)]


def test_a_long_call_on_ccf_serve_shows_in_calls_list_and_reports_while_it_runs(
        tmp_path: Path, store_target: str) -> None:
    config_path = centre(tmp_path, {"line": held_flow()}, store_target)
    config = live_config(config_path)
    store = config.store_path

    async def main():
        live = LiveCentre(config, port=0, api_port=0, use_ami=False)
        _, port = await live.start()
        held = held_backend()
        try:
            call = asyncio.create_task(place(port, "line", "1796000000.1", held))
            await asyncio.wait_for(held.holding.wait(), WAIT_S)
            await until(lambda: on_disk(store, "SELECT count(*) FROM calls")[0][0] == 1,
                        "the running call's row in the file")
            # what the call did so far follows in the writer's next batch (250 ms at most)
            await until(lambda: on_disk(store, "SELECT count(*) FROM events WHERE call_id = ? "
                                              "AND kind = 'prompt_played'",
                                        ("1796000000.1",)) == [(1,)],
                        "the running call's prompt in the file")
            listed = ccf("calls", "list", "--store", str(store), "-f", "json")
            report = ccf("report", "--store", str(store), "--section", "summary",
                         "-f", "json")
            text = ccf("calls", "list", "--store", str(store))
            prompt_seen = on_disk(store, "SELECT count(*) FROM events WHERE call_id = ? "
                                         "AND kind = 'prompt_played'", ("1796000000.1",))
            held.release.set()
            await asyncio.wait_for(call, WAIT_S)
        finally:
            held.release.set()
            await live.stop(1.0)
        return listed, report, text, prompt_seen

    listed, report, text, prompt_seen = asyncio.run(main())
    assert listed.exit_code == 0, listed.output
    [running] = json.loads(listed.stdout)
    assert running["call_id"] == "1796000000.1" and running["outcome"] is None
    assert running["flow"] == "line" and running["caller"] == "+8613800000001"
    assert "in progress" in text.stdout
    assert report.exit_code == 0, report.output
    [summary] = json.loads(report.stdout)["sections"]["summary"]
    assert summary["calls"] == 1 and summary["in_progress"] == 1
    assert prompt_seen == [(1,)]  # what the call did so far is there too
    assert on_disk(store, "SELECT outcome FROM calls") == [("hangup",)]
