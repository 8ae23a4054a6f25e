"""The wallboard's workers: every ccf serve of the call store as GET /status lists them, for
staff only, a host's text escaped, and the same list in each live `wall` event."""

from __future__ import annotations

import asyncio

from tests.console.rig import Console
from tests.console.test_history_calls import HOSTILE, HTML

WORKERS = [
    {"host": "cc-worker-1", "pid": 4101, "address": "10.0.0.11:4573", "status": "up",
     "calls_running": 37, "served": 1200, "version": "0004", "seconds_since_heartbeat": 1.2,
     "api": "10.0.0.11:8573"},
    {"host": HOSTILE, "pid": 4102, "address": "10.0.0.12:4573", "status": "down",
     "calls_running": 12, "served": 800, "version": "0004", "seconds_since_heartbeat": 125.0},
]


def test_the_wall_shows_every_worker_to_staff_escaped(console) -> None:
    console.status_doc["workers"] = WORKERS
    assert console.client("zhang").get("/wall", headers=HTML).status_code == 403
    html = console.client("sup").get("/wall", headers=HTML).text
    assert 'id="wall-workers"' in html
    assert "cc-worker-1" in html and "10.0.0.11:4573" in html and 'class="worker-down"' in html
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    wall = asyncio.run(console.app.state.board.current())  # what /live sends as `wall`
    assert [(w["host"], w["status"], w["calls_running"]) for w in wall["workers"]] == [
        ("cc-worker-1", "up", 37), (HOSTILE, "down", 12)]
    assert "api" not in wall["workers"][0]  # only what the board shows goes out


def test_a_simulated_centre_says_why_it_has_no_workers(console) -> None:
    html = console.client("sup").get("/wall", headers=HTML).text
    assert "a simulated centre: its calls run in this ccf serve, on no FastAGI worker" in html
    assert "no workers in the call store" not in html
    assert asyncio.run(console.app.state.board.current())["workers"] == []


def test_a_centre_on_asterisk_without_workers_says_so(tmp_path) -> None:
    rig = Console(tmp_path, mode="asterisk")
    try:
        html = rig.client("sup").get("/wall", headers=HTML).text
        assert "no workers in the call store" in html
        assert 'data-empty="no workers in the call store"' in html  # what wall.js writes live
    finally:
        rig.close()
