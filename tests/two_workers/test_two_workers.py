"""Two real `ccf serve` workers on one call store, one SIGKILLed with calls in flight: every
finished call is stored exactly once, and the killed worker's calls are reconciled by the other
worker, or by itself when started again (bench/scale.py's run, small; on each back end)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import scale  # noqa: E402


@pytest.mark.parametrize("restart", [None, 0.5], ids=["left-dead", "restarted"])
def test_a_killed_worker_loses_no_finished_call(store_target, tmp_path, restart):
    plan = scale.Plan(calls=60, place_s=1.0, hold_s=3.0, kill_at_s=2.0, restart_after_s=restart)
    run, marks, _, workers = asyncio.run(scale.scale(tmp_path, store_target, plan))
    rows = scale.stored(store_target)
    outcome = scale.account(run, marks, rows)
    # both workers took calls, and the kill cut calls in flight
    assert min(sum(1 for w in run.worker.values() if w == name) for name in "AB") > 0
    assert run.cut and not run.refused
    assert outcome.ok, (outcome.lost, outcome.twice, outcome.unreconciled)
    # the documented losses aside, every served call is stored finished, once
    assert len(outcome.served_stored) + len(outcome.end_unwritten) == len(run.served)
    assert outcome.reconciled, "the calls the killed worker left open were closed"
    assert scale.open_calls(store_target) == 0
    assert marks["exit_codes"] == ([0] if restart is None else [0, 0])
