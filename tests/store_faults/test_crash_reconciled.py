"""`ccf serve` killed (SIGKILL, a crash, the machine losing power) while calls
run: what reached the file stays, and the next `ccf serve` on this host
closes those calls as `interrupted`, saying when and why; `ccf calls list`
shows them and reports count them apart. Calls of a run still alive (a
second worker) or of another host are never touched."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
from pathlib import Path

from asterisk.test_serve import Served
from ccf_cli import ccf

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import RECONCILE_BATCH, CallStore
from ccdsl.runtime.operations.store_runs import ORPHANED_AFTER_S
from store_faults.rig import (
    WAIT_S,
    centre,
    held_backend,
    held_flow,
    on_disk,
    place,
    store_of,
    until,
    wait_for,
)

UID = "1796300000.1"


def test_a_call_of_a_killed_ccf_serve_is_reconciled_by_the_next(tmp_path: Path,
                                                                 store_target: str) -> None:
    config = centre(tmp_path, {"line": held_flow(wait="1h")}, store_target)
    store = store_of(config)

    async def main():
        first = Served(config, "--no-ami")
        held = held_backend()
        try:
            port = await first.start()
            call = asyncio.create_task(place(port, "line", UID, held, timeout=3600))
            await asyncio.wait_for(held.holding.wait(), WAIT_S)
            await until(lambda: on_disk(store, "SELECT count(*) FROM calls")[0][0] == 1,
                        "the running call in the file")
            killed_pid = first.proc.pid
            first.proc.send_signal(signal.SIGKILL)
            await first.proc.wait()
            held.release.set()
            await asyncio.gather(call, return_exceptions=True)
        finally:
            first.kill()
        after_kill = on_disk(store, "SELECT outcome FROM calls WHERE call_id = ?", (UID,))
        second = Served(config, "--no-ami")
        try:
            await second.start()
            await until(lambda: on_disk(store, "SELECT outcome FROM calls WHERE call_id = ?",
                                        (UID,)) == [("interrupted",)],
                        "the killed run's call reconciled")
            code, _, err = await second.stop()
        finally:
            second.kill()
        return killed_pid, after_kill, code, err

    killed_pid, after_kill, code, err = asyncio.run(main())
    assert after_kill == [(None,)]  # the crash left it open: it had a row, no end
    assert code == 0, err
    [(error, ended, duration, flow)] = on_disk(
        store, "SELECT error, ended, duration_ms, flow FROM calls WHERE call_id = ?", (UID,))
    assert flow == "line" and ended is not None and duration is not None
    assert f"pid {killed_pid}" in error and socket.gethostname() in error
    assert "interrupted" in error and "closed at" in error
    # its visits were written from its events, as a finished call's are
    assert on_disk(store, "SELECT node, node_kind FROM node_visits WHERE call_id = ?",
                   (UID,)) == [("on start", "handler")]
    listed = ccf("calls", "list", "--store", str(store), "-f", "json")
    assert listed.exit_code == 0, listed.output
    [call] = json.loads(listed.stdout)
    assert call["outcome"] == "interrupted"
    report = ccf("report", "--store", str(store), "--section", "summary", "-f", "json")
    assert report.exit_code == 0, report.output
    [summary] = json.loads(report.stdout)["sections"]["summary"]
    assert summary["interrupted"] == 1 and summary["in_progress"] == 0
    # the killed run is ended too; the second wrote no call, so it has no run row
    [(pid, ended, note)] = on_disk(store, "SELECT pid, ended IS NOT NULL, end_note FROM runs")
    assert (pid, ended) == (killed_pid, 1) and "no longer running" in note


def test_only_calls_of_dead_runs_on_this_host_are_reconciled(store_target: str) -> None:
    path = store_target
    CallStore(path).close()
    alive = subprocess.Popen(["sleep", "60"])  # a second worker, still running
    try:
        db = connect(path)
        here = socket.gethostname()
        # each run with an open call: alive here, on another host, gone here
        for run_id, host, pid, call_id in ((901, here, alive.pid, "alive-1"),
                                           (902, "another-host", 2**22 + 17, "elsewhere-1"),
                                           (903, here, 2**22 + 17, "dead-1")):
            db.execute("INSERT INTO runs (run_id, host, pid, started, started_ms) "
                       "VALUES (?, ?, ?, '2026-11-30T02:00:00+00:00', 0)", (run_id, host, pid))
            db.execute("INSERT INTO calls (call_id, started, started_ms, run_id) "
                       "VALUES (?, '2026-11-30T02:00:00+00:00', 1796300000000, ?)",
                       (call_id, run_id))
        db.close()
        with CallStore(path) as store:
            closed = store.reconcile()
    finally:
        alive.kill()
        alive.wait()
    assert closed == ["dead-1"]
    assert on_disk(path, "SELECT call_id, outcome FROM calls ORDER BY call_id") == [
        ("alive-1", None), ("dead-1", "interrupted"), ("elsewhere-1", None)]
    assert on_disk(path, "SELECT run_id FROM runs WHERE ended IS NULL ORDER BY run_id") == \
        [(901,), (902,)]


def test_calls_of_another_hosts_worker_are_reconciled_once_it_has_gone_silent(
        store_target: str) -> None:
    """A host lost with its `ccf serve`: no worker will start there to reconcile its calls, so
    the others do, once its worker row has not been beaten for ORPHANED_AFTER_S; a worker
    beating recently, or one that stopped cleanly, is left alone."""
    path = store_target
    CallStore(path).close()
    now_ms = int(time.time() * 1000)
    silent = now_ms - int(ORPHANED_AFTER_S * 1000) - 5_000
    db = connect(path)
    # each: another host's run with an open call, and its worker row
    for run_id, host, beat, state, call_id in (
            (911, "lost-host", silent, "serving", "lost-1"),
            (912, "busy-host", now_ms - 3_000, "serving", "busy-1"),
            (913, "quiet-host", silent, "stopped", "stopped-1")):
        db.execute("INSERT INTO runs (run_id, host, pid, process_start, started, started_ms) "
                   "VALUES (?, ?, 4242, 'boot:1', '2026-11-30T02:00:00+00:00', 0)",
                   (run_id, host))
        db.execute("INSERT INTO calls (call_id, started, started_ms, run_id) "
                   "VALUES (?, '2026-11-30T02:00:00+00:00', 1796300000000, ?)",
                   (call_id, run_id))
        db.execute("INSERT INTO workers (worker, host, pid, started, heartbeat_ms, state) "
                   "VALUES (?, ?, 4242, '2026-11-30T02:00:00+00:00', ?, ?)",
                   (f"{host} 4242 boot:1", host, beat, state))
    db.close()
    with CallStore(path) as store:
        closed = store.reconcile()
    assert closed == ["lost-1"]
    assert on_disk(path, "SELECT call_id, outcome FROM calls ORDER BY call_id") == [
        ("busy-1", None), ("lost-1", "interrupted"), ("stopped-1", None)]
    [(error,)] = on_disk(path, "SELECT error FROM calls WHERE call_id = 'lost-1'")
    assert "pid 4242 on lost-host" in error and "stopped beating its worker row" in error
    [(note,)] = on_disk(path, "SELECT end_note FROM runs WHERE run_id = 911")
    assert note.startswith("silent since ")
    assert on_disk(path, "SELECT run_id FROM runs WHERE ended IS NULL ORDER BY run_id") == \
        [(912,), (913,)]


def test_a_dead_run_with_many_calls_is_closed_a_batch_per_transaction(store_target: str) -> None:
    """A killed worker may leave thousands of calls: each reconciling transaction closes
    RECONCILE_BATCH of them (it holds the store's write lock), the next queued behind the
    other writes, and the run is ended with its last call."""
    path = store_target
    CallStore(path).close()
    db = connect(path)
    db.execute("INSERT INTO runs (run_id, host, pid, started, started_ms) "
               "VALUES (921, ?, ?, '2026-11-30T02:00:00+00:00', 0)",
               (socket.gethostname(), 2**22 + 19))
    many = RECONCILE_BATCH * 2 + 7
    db.executemany("INSERT INTO calls (call_id, started, started_ms, run_id) "
                   "VALUES (?, '2026-11-30T02:00:00+00:00', 1796300000000, 921)",
                   [(f"many-{i:04d}",) for i in range(many)])
    db.close()
    with CallStore(path) as store:
        first = store.reconcile()
        wait_for(lambda: on_disk(path, "SELECT count(*) FROM calls WHERE outcome IS NULL")
                 == [(0,)], "every call of the dead run closed")
        store.flush()
    assert first == [f"many-{i:04d}" for i in range(RECONCILE_BATCH)]
    assert on_disk(path, "SELECT count(*) FROM calls WHERE outcome = 'interrupted'") == \
        [(many,)]
    [(ended, note)] = on_disk(path, "SELECT ended IS NOT NULL, end_note FROM runs "
                                    "WHERE run_id = 921")
    assert ended == 1 and "no longer running" in note
