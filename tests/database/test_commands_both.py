"""`ccf calls list/show/callbacks`, `ccf voicemail list`, `ccf wrapup` and the console's history
queries give the same output on a SQLite store and on PostgreSQL: one store of simulated calls
(recorded, answered, a message left, call-backs booked) copied into a real PostgreSQL database
(store_copy), then `ccf simulate --store` and `ccf wrapup --store` run into each."""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from calls.test_cli_calls import three_calls
from ccf_cli import ccf
from queue_callbacks.world import T0, booked

from ccdsl.runtime.console.history_pages import wrapup_view
from ccdsl.runtime.console.history_search import Search, find_calls, handled_by
from ccdsl.runtime.operations.ivr_path import ivr_path
from ccdsl.runtime.operations.recordings import call_recordings
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_copy import copy_store
from ccdsl.runtime.operations.voicemail import message

ROOT = Path(__file__).resolve().parents[2]
WRAPUP = ("-f", "reason=order", "-f", "resolved=1", "-f", "order_number=20261128")
# what differs between two runs of one simulation, whatever the store: its temporary folder
# and the CRM's measured time
RUN_BOUND = re.compile(r"ccf-simulate-[a-z0-9_]+|(?<=\()\d+(\.\d+)?(?= ms\))|"
                       r"(?<=\"ms\": )\d+(\.\d+)?")


def same_run(text: str) -> str:
    return RUN_BOUND.sub("0", text)


def _sqlite_store(folder: Path) -> str:
    """tests/calls' three calls (calls.test_cli_calls.three_calls), and two call-backs booked
    in `service`, one in `sales`."""
    path = three_calls(folder)
    with CallStore(path, timezone="UTC") as store:
        for n, queue in enumerate(("service", "service", "sales")):
            booked(store, f"cb{n}", queue=queue, start=T0 + timedelta(days=1, minutes=n))
    return path


@pytest.fixture
def stores(pg_url: str, tmp_path: Path, monkeypatch) -> dict[str, str]:
    """The same calls in a SQLite file and in PostgreSQL, then one hotline call simulated
    into each by `ccf simulate --store` and wrapped up by `ccf wrapup --store`."""
    sqlite = _sqlite_store(tmp_path)
    copy_store(sqlite, pg_url)
    monkeypatch.chdir(ROOT)  # the events name examples/iws/hotline.ccf relative to it
    targets = {"sqlite": sqlite, "postgresql": pg_url}
    wrapped = {}
    for name, target in targets.items():
        simulated = ccf("simulate", "examples/iws/hotline.ccf", "--at", "2026-12-01 10:00",
                        "--press", "0", "--caller", "+8613800000001", "--store", target,
                        env={"CCF_STORE": ""})
        assert simulated.exit_code == 0, simulated.output
        wrapped[name] = ccf("wrapup", "sim-4", "--store", target, *WRAPUP)
        assert wrapped[name].exit_code == 0, wrapped[name].output
    assert wrapped["sqlite"].output == wrapped["postgresql"].output
    assert wrapped["sqlite"].output.startswith('wrap-up of call sim-4 stored: reason="order"')
    return targets


COMMANDS = [
    ("calls", "list"),
    ("calls", "list", "--format", "json"),
    ("calls", "list", "--customer", "C1", "--format", "json"),
    ("calls", "list", "--agent", "li", "--format", "json"),
    ("calls", "list", "--agent", "zhang"),
    ("calls", "list", "--since", "2026-11-30 10:30+00:00", "--limit", "2"),
    ("calls", "show", "sim-1"),
    ("calls", "show", "sim-1", "--format", "json"),
    ("calls", "show", "sim-3"),
    ("calls", "show", "sim-4"),
    ("calls", "show", "sim-4", "--format", "json"),
    ("calls", "show", "cb1", "--format", "json"),
    ("calls", "callbacks"),
    ("calls", "callbacks", "--format", "json"),
    ("voicemail", "list"),
    ("voicemail", "list", "--format", "json"),
    ("calls", "show", "nope"),
]


def test_the_commands_say_the_same_on_both(stores: dict[str, str]) -> None:
    for words in COMMANDS:
        said = {}
        for name, target in stores.items():
            result = ccf(*words, "--store", target, env={"CCF_STORE": "", "TZ": "UTC"})
            said[name] = (result.exit_code, same_run(result.output.replace(target, "STORE")))
        assert said["sqlite"] == said["postgresql"], words
        if words[-1] == "json":
            assert json.loads(said["sqlite"][1]), words  # something was listed
    shown = ccf("calls", "show", "sim-4", "--store", stores["postgresql"], "--format", "json")
    assert json.loads(shown.output)["call"]["wrapup"]["values"]["resolved"] is True


def test_the_console_history_reads_the_same_on_both(stores: dict[str, str]) -> None:
    seen = {}
    for name, target in stores.items():
        with CallStore(target) as store:
            pages = [find_calls(store, Search(**search), UTC) for search in
                     ({}, {"agent": "li"}, {"caller": "+8613800000001"},
                      {"outcome": "voicemail"}, {"since": "2026-12-01", "until": "2026-12-01"})]
            calls = {call_id: (store.call(call_id), ivr_path(store.events(call_id)),
                               call_recordings(store, call_id), message(store, call_id))
                     for call_id in ("sim-1", "sim-2", "sim-3", "sim-4", "cb0")}
            seen[name] = (pages, calls, handled_by(store, "sim-1", "li"),
                          handled_by(store, "sim-2", "li"),
                          wrapup_view(store.call("sim-4").get("wrapup")))
    assert same_run(json.dumps(seen["sqlite"], default=str)) == \
        same_run(json.dumps(seen["postgresql"], default=str))
    pages, calls, li_took_1, li_took_2, wrapup = seen["postgresql"]
    assert [row["call_id"] for row in pages[0][0]][:2] == ["cb2", "cb1"]
    assert [row["call_id"] for row in pages[1][0]] == ["sim-1"]
    assert li_took_1 and not li_took_2
    assert calls["sim-3"][3] is not None and wrapup
