"""The workers of a call store and their ccf-answered signals, on SQLite and on a real
PostgreSQL: rows each worker writes, up or down by heartbeat, stopped on a clean stop, and a
signal taken once, by the worker running the call, until it expires."""

from __future__ import annotations

import threading

from ccf_cli import ccf

from ccdsl.runtime.operations import workers
from ccdsl.runtime.operations.shared_db import shared
from ccdsl.runtime.operations.store_runs import Process
from ccdsl.runtime.operations.workers import WorkerRows, list_workers, workers_json

A = Process("host-a", 101, "boot:1")
B = Process("host-b", 202, "boot:2")


def test_workers_beat_and_stop_and_a_silent_one_is_down(store_target):
    a = WorkerRows(store_target, A, address="10.0.0.1:4573", api="10.0.0.1:8573")
    b = WorkerRows(store_target, B, address="10.0.0.2:4573")
    a.register("0001")
    b.register("0001")
    a.beat(calls_running=3, served=40, version="0002")
    b.beat(calls_running=1, served=7, version="0001", state="stopping")
    rows = list_workers(store_target)
    assert [(r.host, r.pid, r.address, r.calls_running, r.served, r.version, r.state)
            for r in rows] == [("host-a", 101, "10.0.0.1:4573", 3, 40, "0002", "serving"),
                               ("host-b", 202, "10.0.0.2:4573", 1, 7, "0001", "stopping")]
    now = workers.now_ms()
    assert [r.status(now) for r in rows] == ["up", "up"]
    # a worker whose beats stopped (killed, its host lost) is down once DOWN_AFTER_S passed
    later = now + int(workers.DOWN_AFTER_S * 1000) + 5_000
    assert [r.status(later) for r in rows] == ["down", "down"]
    a.stopped(served=41)
    shown = workers_json(list_workers(store_target), later)
    assert shown[0]["status"] == "stopped" and shown[0]["calls_running"] == 0
    assert shown[0]["served"] == 41 and shown[0]["stopped"]
    assert shown[0]["api"] == "10.0.0.1:8573" and shown[1]["api"] is None
    assert shown[1]["status"] == "down" and shown[1]["seconds_since_heartbeat"] >= 10
    # a restart of the same process identity serves again under its row
    a.register("0002")
    assert list_workers(store_target)[0].state == "serving"


def test_a_signal_is_taken_once_by_the_worker_running_the_call(store_target):
    sender = WorkerRows(store_target, A, address="a:1")
    runner = WorkerRows(store_target, B, address="b:1")
    other = WorkerRows(store_target, Process("host-c", 303, None), address="c:1")
    at = sender.send_answered("1795.1", "li", "PJSIP/8002-0000000a")
    assert sender.signal_state("1795.1", at, "PJSIP/8002-0000000a") == (None, False)
    assert other.take_answered(["1795.9"]) == []  # not its call: left for the one running it
    taken: list = []
    lock = threading.Lock()

    def take() -> None:
        found = runner.take_answered(["1795.1", "1795.2"])
        with lock:
            taken.extend(found)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert taken == [("1795.1", at, "li", "PJSIP/8002-0000000a")]
    assert sender.signal_state("1795.1", at, "PJSIP/8002-0000000a") == (runner.id, False)
    runner.answered_done("1795.1", at, "PJSIP/8002-0000000a")
    assert sender.signal_state("1795.1", at, "PJSIP/8002-0000000a") == (runner.id, True)


def test_stale_signals_expire(store_target):
    rows = WorkerRows(store_target, A, address="a:1")
    rows.send_answered("gone.1", "li", "")
    old = workers.now_ms() - int(workers.SIGNAL_TTL_S * 1000) - 1_000
    with shared(store_target) as db:
        db.execute("UPDATE answered_signals SET at_ms = ?", (old,))
    assert rows.take_answered(["gone.1"]) == []  # too old to fire a hook
    assert rows.expire_signals() == 1
    with shared(store_target) as db:
        assert db.execute("SELECT count(*) FROM answered_signals").fetchone()[0] == 0


def test_a_deploy_into_an_empty_database_makes_the_whole_call_store(pg_url) -> None:
    """Flows deployed before any worker ran: the database becomes a call store of this
    version (not a database of a few tables `ccf store migrate` would refuse)."""
    from ccdsl.runtime.operations.database import connect
    from ccdsl.runtime.operations.store_migrate import version_of
    from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

    with shared(pg_url):
        pass
    db = connect(pg_url)
    try:
        assert version_of(db) == SCHEMA_VERSION
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()
    assert {"calls", "event_batches", "flow_versions", "workers"} <= tables
    assert ccf("store", "migrate", "--store", pg_url).output.endswith("up to date\n")
