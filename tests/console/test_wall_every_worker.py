"""The wallboard's calls of every worker: the console asks each other worker listed up for its
GET /status (with this worker's own API token), lists its calls naming their worker (escaped),
shows a worker listed up whose API is closed as not answering, asks once for every wall within
a while, and never asks itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from http_stand_in import JsonHandler, serving
from ports import free_port

from tests.console.rig import Console
from tests.console.test_history_calls import HOSTILE, HTML
from tests.console.test_wall import first_wall_event

TOKEN = "wall-token-1"
THEIRS = {
    "server": {"version": "0004"},
    "calls": [{"call_id": "there-1", "flow": "hotline", "caller": "+8613900000009",
               "seconds": 75.0, "step": "main_menu", "state": "ivr", "queue": None,
               "agent": None},
              {"call_id": "there-2", "flow": "hotline", "caller": HOSTILE, "seconds": 12.0,
               "step": "agent", "state": "queue", "queue": "service", "agent": None}],
    "queues": [{"queue": "service", "waiting": 3, "longest_wait_s": 12.0}],
    "agents": [],
}


@contextmanager
def other_worker() -> Iterator[tuple[int, list[dict]]]:
    """A stand-in for another worker's API: its status to the right token only."""
    seen: list[dict] = []

    class Handler(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_json(401, {"ok": False, "error": "unauthorized"})
            else:
                self.send_json(200, THEIRS)

    with serving(Handler) as port:
        yield port, seen


def worker(host: str, api: str, status: str = "up") -> dict:
    return {"host": host, "pid": 7, "address": "10.0.0.1:4573", "api": api, "status": status,
            "calls_running": 1, "served": 5, "version": "0004", "seconds_since_heartbeat": 1.0}


@pytest.fixture
def with_token(tmp_path):
    rig = Console(tmp_path, token=TOKEN)
    yield rig
    rig.close()


def centre_of(console: Console, other: int, silent: int) -> None:
    """This console's worker, the other worker and one listed up whose API is closed."""
    own = console.base.removeprefix("http://")
    console.app.state.board.peers.every_s = 3600.0  # "a while": however slow this machine is
    console.ctx.api_address = lambda: own
    console.status_doc["calls"] = [
        {"call_id": "here-1", "flow": "hotline", "caller": "+8613800000001", "seconds": 30.0,
         "step": "main_menu", "state": "ivr", "queue": None, "agent": None}]
    console.status_doc["workers"] = [
        worker("cc-here", own), worker(f"cc-{HOSTILE}", f"127.0.0.1:{other}"),
        worker("cc-gone", f"127.0.0.1:{silent}"), worker("cc-old", "127.0.0.1:1", "down")]


def test_the_wall_lists_every_workers_calls_by_worker(with_token) -> None:
    with other_worker() as (port, seen):
        centre_of(with_token, port, free_port())
        web = with_token.client("sup")
        assert with_token.client("zhang").get("/wall", headers=HTML).status_code == 403
        html = web.get("/wall", headers=HTML).text
        wall = first_wall_event(web)
    rows = {(r["call_id"], r["worker"], r["here"]) for r in wall["call_rows"]}
    assert rows == {("here-1", "cc-here", True), ("there-1", f"cc-{HOSTILE}", False),
                    ("there-2", f"cc-{HOSTILE}", False)}
    assert [r["call_id"] for r in wall["call_rows"]] == ["there-1", "here-1", "there-2"]
    assert wall["calls"] == 3 and wall["ivr"] == [["main_menu", 2]]
    assert next(q for q in wall["queues"] if q["queue"] == "service")["waiting"] == 3
    assert wall["not_answering"] == ["cc-gone"]
    assert {w["host"]: w["answering"] for w in wall["workers"]} == {
        "cc-here": True, f"cc-{HOSTILE}": True, "cc-gone": False, "cc-old": None}
    # the page: the other worker's call with its worker's name, every value escaped
    assert 'id="wall-call-rows"' in html and 'data-call="there-1"' in html
    assert "+8613900000009" in html and HOSTILE not in html
    assert "cc-&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "not answering" in html and "cc-gone" in html
    # asked with this worker's own token, once for the page and the stream within PEERS_S
    assert seen == [{"path": "/status", "auth": f"Bearer {TOKEN}"}]


def test_many_walls_ask_the_other_worker_once(with_token) -> None:
    with other_worker() as (port, seen):
        centre_of(with_token, port, free_port())
        walls = [with_token.client("sup") for _ in range(4)]

        async def a_change() -> None:  # each wall's snapshot is made again: not its peers
            with_token.feed.publish("agent", {"state": "ready"}, agent="li")

        for web in walls:
            with_token.run(a_change())
            assert "there-1" in web.get("/wall", headers=HTML).text
    assert len(seen) == 1


def test_a_worker_that_does_not_answer_is_not_fatal(with_token) -> None:
    centre_of(with_token, free_port(), free_port())
    web = with_token.client("sup")
    page = web.get("/wall", headers=HTML)
    assert page.status_code == 200 and 'data-call="here-1"' in page.text
    wall = first_wall_event(web)
    assert [r["call_id"] for r in wall["call_rows"]] == ["here-1"]
    assert sorted(wall["not_answering"]) == sorted([f"cc-{HOSTILE}", "cc-gone"])


def test_without_its_own_address_the_wall_asks_no_other_worker(with_token) -> None:
    with other_worker() as (port, seen):
        centre_of(with_token, port, free_port())
        with_token.ctx.api_address = None
        wall = first_wall_event(with_token.client("sup"))
    assert [r["call_id"] for r in wall["call_rows"]] == ["here-1"] and not seen
    assert wall["not_answering"] == []


def test_two_consoles_each_show_the_others_calls(tmp_path) -> None:
    """Two real console servers (two workers' web sides), each listing both as up."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = Console(tmp_path / "a", token=TOKEN), Console(tmp_path / "b", token=TOKEN)
    try:
        addresses = {}
        for name, rig in (("cc-one", one), ("cc-two", two)):
            addresses[name] = rig.base.removeprefix("http://")
            rig.ctx.api_address = (lambda own: lambda: own)(addresses[name])
            rig.status_doc["calls"] = [
                {"call_id": f"{name}-call", "flow": "hotline", "caller": "+861", "seconds": 5.0,
                 "step": "main_menu", "state": "ivr", "queue": None, "agent": None}]
        for rig in (one, two):
            rig.status_doc["workers"] = [worker(name, api) for name, api in addresses.items()]
        for rig, name, other in ((one, "cc-one", "cc-two"), (two, "cc-two", "cc-one")):
            wall = first_wall_event(rig.client("sup"))
            assert sorted((r["call_id"], r["worker"], r["here"]) for r in wall["call_rows"]) == \
                sorted([(f"{name}-call", name, True), (f"{other}-call", other, False)])
            assert wall["not_answering"] == []
    finally:
        one.close()
        two.close()
