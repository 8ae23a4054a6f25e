"""`pause recording` / `resume recording` (issue 13): pausing while a card
number is keyed (PCI) keeps ONE recording, silent meanwhile, and that one
reaches the CRM's call log; `stop recording` then `record call` still makes
two. Both runtimes: the simulator, and ccf serve through the FastAGI peer
(MixMonitorMute over the peer's AMI, answered as app_mixmonitor.c does)."""

from __future__ import annotations

import pytest

from calls.world import ROOT, RUNTIMES, run_on
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.operations.store import CallStore

FLOW = ROOT / "tests" / "scenarios" / "pci_pause_line.ccf"
PAUSE = "the recording pauses while the card number is keyed"


def _run(runtime: str, tmp_path):
    """The call, and its CRM (the FastAGI testbed gives each call a folder)."""
    crm = tmp_path / "w" / ("crm.db" if runtime == "sim" else "call-1/crm.db")
    return run_on(runtime, FLOW, PAUSE, tmp_path), crm


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_paused_recording_is_one_file_silent_meanwhile_and_logged_to_the_crm(
        runtime, tmp_path):
    run, crm_path = _run(runtime, tmp_path)
    kinds = [e.kind for e in run.events if e.kind.startswith("recording_")]
    assert kinds == ["recording_started", "recording_paused", "recording_resumed",
                     "recording_stopped"]
    (started,) = [e for e in run.events if e.kind == "recording_started"]
    file = started.data["file"]
    paused = next(e for e in run.events if e.kind == "recording_paused")
    resumed = next(e for e in run.events if e.kind == "recording_resumed")
    assert paused.data["file"] == resumed.data["file"] == file
    # silent from the pause through the card number's prompt and keys
    assert resumed.data["paused_ms"] == int((resumed.at - paused.at).total_seconds() * 1000)
    assert resumed.data["paused_ms"] > 4_000
    assert run.result.outcome == "hangup"
    # the line muted and unmuted the one recording it made
    line = [(kind, d) for kind, d in run.line if kind.startswith("recording_")]
    assert [kind for kind, _ in line] == ["recording_started", "recording_paused",
                                          "recording_resumed", "recording_stopped"]
    (stopped,) = [d for kind, d in line if kind == "recording_stopped"]
    ((muted_from, muted_to),) = stopped["paused"]
    assert muted_to - muted_from == resumed.data["paused_ms"]
    with CallStore(tmp_path / "calls.db") as store:
        rows = store.query("SELECT file FROM recordings")
    assert [r["file"] for r in rows] == [file]
    crm = SqliteCRM(crm_path)
    try:
        logged = crm.db.conn.execute("SELECT customer, recording FROM call_log").fetchall()
    finally:
        crm.close_now()
    assert [tuple(r) for r in logged] == [("C1", file)]
