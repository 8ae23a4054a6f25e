"""`ccf status` with N workers on one call store: the workers GET /status lists, each with its
host, FastAGI address, up or down, calls and version (a peer's text shown, never obeyed); and,
when the worker at [api] does not answer, the workers the store knows to be up."""

from __future__ import annotations

import json

from ccf_cli import ccf
from ports import free_port

from ccdsl.runtime.operations.store_runs import Process
from ccdsl.runtime.operations.workers import WorkerRows
from ops.test_status import STATUS, config_for, status_server

WORKERS = [
    {"host": "cc-worker-1", "pid": 4101, "started": "2026-12-07T01:00:00+00:00",
     "address": "10.0.0.11:4573", "api": None, "status": "up", "state": "serving",
     "last_heartbeat": "2026-12-07T02:00:00+00:00", "seconds_since_heartbeat": 1.2,
     "calls_running": 37, "served": 1200, "version": "0004", "stopped": None},
    {"host": "cc-worker-2[/]\x1b[2J", "pid": 4102, "started": "2026-12-07T01:00:00+00:00",
     "address": "10.0.0.12:4573", "api": None, "status": "down", "state": "serving",
     "last_heartbeat": "2026-12-07T01:58:00+00:00", "seconds_since_heartbeat": 125.0,
     "calls_running": 12, "served": 800, "version": "0004", "stopped": None},
]


def rows_of(out: str) -> list[list[str]]:
    return [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()
            if line.startswith("│")]


def test_every_worker_of_the_store_is_shown(tmp_path) -> None:
    with status_server({**STATUS, "workers": WORKERS}) as (port, _):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 0, result.output
    assert "Workers (ccf serve processes of the call store)" in result.stdout
    rows = rows_of(result.stdout)
    assert ["cc-worker-1", "4101", "10.0.0.11:4573", "up", "37", "1200", "0004", "0:01"] in rows
    # a host name is a peer's text: its escape is shown as text, its markup not obeyed
    assert ["cc-worker-2[/]\\x1b[2J", "4102", "10.0.0.12:4573", "down", "12", "800", "0004",
            "2:05"] in rows
    assert "\x1b[2J" not in result.stdout


def test_a_single_worker_without_a_store_list_shows_no_workers_table(tmp_path) -> None:
    with status_server() as (port, _):
        result = ccf("status", "--once", "--config", config_for(tmp_path, port))
    assert result.exit_code == 0 and "Workers" not in result.stdout


def test_when_the_worker_at_api_is_down_the_store_names_those_up(tmp_path) -> None:
    port = free_port()
    config = config_for(tmp_path, port)
    rows = WorkerRows(str(tmp_path / "calls.db"), Process("cc-worker-3", 77, None),
                      address="10.0.0.13:4573", api="10.0.0.13:8573")
    rows.register("0004")
    gone = WorkerRows(str(tmp_path / "calls.db"), Process("cc-worker-4", 78, None),
                      address="10.0.0.14:4573")
    gone.register("0004")
    gone.stopped(served=3)
    result = ccf("status", "--once", "--config", config)
    assert result.exit_code == 4  # UNREACHABLE, as with one worker
    assert f"ccf serve is not running at 127.0.0.1:{port}" in result.output
    assert ("the call store has 1 worker up: cc-worker-3 (API 10.0.0.13:8573)"
            in " ".join(result.output.split()))


def test_the_calls_of_every_worker_up_are_shown_each_naming_its_worker(tmp_path) -> None:
    """Two workers' HTTP APIs (stand-ins on loopback): the one at [api] lists the other as up;
    `ccf status` adds the other's calls, a queue's waiting the larger count, and says which
    workers answered; a worker listed up that does not answer is named, not fatal."""
    theirs = {**STATUS, "calls": [dict(STATUS["calls"][0], call_id="1796.9", caller="+861390")],
              "queues": [dict(STATUS["queues"][0], waiting=5, longest_wait_s=12.0)]}
    silent = f"127.0.0.1:{free_port()}"
    with status_server(theirs) as (other, seen_there):
        workers = [dict(WORKERS[0], api=f"127.0.0.1:{other}"),
                   dict(WORKERS[0], host="cc-worker-9", api=silent)]
        with status_server({**STATUS, "workers": workers}) as (port, _):
            asked = f"127.0.0.1:{port}"
            workers.append(dict(WORKERS[0], host="cc-worker-0", api=asked))  # itself: once
            result = ccf("status", "--once", "--format", "json", "--config",
                         config_for(tmp_path, port))
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    by_id = {c["call_id"]: c["worker"] for c in status["calls"]}
    assert by_id == {"1795.1": asked, "1795.2": asked, "1795.3": asked,
                     "1796.9": f"127.0.0.1:{other}"}
    [queue] = status["queues"]
    assert (queue["waiting"], queue["longest_wait_s"]) == (5, 95.0)
    assert status["server"]["workers_answering"] == [asked, f"127.0.0.1:{other}"]
    assert status["server"]["workers_not_answering"] == [silent]
    assert [r["path"] for r in seen_there] == ["/status"]
