"""The wallboard: staff only, today's service level and abandoned calls from the report's
query, live `wall` events, and Listen/Whisper/Barge ringing the supervisor's own device."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.console.wall_model import TICK_S, TODAY_S, WallBoard
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from tests.console.rig import Console, read_live
from tests.console.test_history_calls import HOSTILE, HTML, store_call

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def with_device(tmp_path):
    rig = Console(tmp_path, settings=ConsoleSettings(users=str(tmp_path / "users.json"),
                                                     supervisor_devices={"sup": "2001"}))
    yield rig
    rig.close()


def on_call(console, agent: str = "zhang", call_id: str = "live-1",
            caller: str = "+8613800000001") -> None:
    """The agent logged in and talking on a call the status document shows."""
    async def go():
        await console.desk.login(agent)
        console.desk.emit(Event(call_id, 5, NOW, "agent_answered", {"agent": agent}))
    console.run(go())
    console.status_doc["calls"] = [
        {"call_id": call_id, "caller": caller, "step": "agent", "state": "agent",
         "queue": "service", "agent": agent},
        {"call_id": "ivr-1", "caller": "+861", "step": "main_menu", "state": "ivr"},
        {"call_id": "ivr-2", "caller": "+862", "step": "main_menu", "state": "ivr"}]


def abandoned_today(store, call_id: str) -> None:
    at = NOW - timedelta(seconds=40)
    events = [("call_started", {"caller": "+8613700000000", "flow": "hotline"}),
              ("step_entered", {"step": "agent"}),
              ("queue_joined", {"queue": "service", "priority": 0, "position": 1}),
              ("queue_left", {"queue": "service", "outcome": "hangup", "wait_ms": 30000}),
              ("hangup", {"by": "caller"}), ("call_ended", {"outcome": "abandoned"})]
    for seq, (kind, data) in enumerate(events, 1):
        store.emit(Event(call_id, seq, at + timedelta(seconds=seq), kind, data))
    store.flush()


def first_wall_event(web) -> dict:
    pairs = read_live(web, lambda seen: any(kind == "wall" for kind, _ in seen))
    return next(data for kind, data in pairs if kind == "wall")


def test_the_wallboard_is_for_staff(console) -> None:
    assert console.client("zhang").get("/wall", headers=HTML).status_code == 403
    agent = console.client("zhang")
    refused = agent.post("/wall/monitor", data={"csrf": console.csrf(agent),
                                                "call_id": "x", "mode": "listen"})
    assert refused.status_code == 403 and not console.control.asked
    nobody = console.client().get("/wall", headers=HTML)
    assert nobody.status_code == 303 and nobody.headers["location"] == "/login?next=/wall"
    for user in ("sup", "root"):
        page = console.client(user).get("/wall", headers=HTML)
        assert page.status_code == 200
        for element in ('id="wall-queues"', 'id="wall-agents"', 'id="wall-ivr"',
                        'src="/static/wall.js"'):
            assert element in page.text


def test_today_figures_come_from_the_report_and_go_out_live(console) -> None:
    store_call(console.store, "ok-1", at=NOW - timedelta(seconds=60))  # answered in 5 s
    abandoned_today(console.store, "gone-1")
    store_call(console.store, "yesterday", at=NOW - timedelta(days=2))
    on_call(console)
    web = console.client("sup")
    html = web.get("/wall", headers=HTML).text
    assert "50.0 %" in html  # one of two calls that joined today answered within 20 s
    wall = asyncio.run(console.app.state.board.current())  # what /live sends as `wall`
    service = next(q for q in wall["queues"] if q["queue"] == "service")
    assert service["sl_today_pct"] == 50.0 and service["abandoned_today"] == 1
    assert service["offered_today"] == 2 and service["busy"] == 1 and service["ready"] == 1
    zhang = next(a for a in wall["agents"] if a["id"] == "zhang")
    assert zhang["state"] == "on_call" and zhang["call_id"] == "live-1"
    assert zhang["step"] == "agent" and zhang["monitorable"]
    assert wall["ivr"] == [("main_menu", 2)]
    assert 'data-monitor="listen"' in html and 'data-monitor="barge"' in html


def test_the_live_stream_sends_the_wall_with_todays_figures(console) -> None:
    abandoned_today(console.store, "gone-1")
    on_call(console)
    wall = first_wall_event(console.client("sup"))
    service = next(q for q in wall["queues"] if q["queue"] == "service")
    assert service["abandoned_today"] == 1 and service["sl_today_pct"] == 0.0
    assert [a["id"] for a in wall["agents"] if a["monitorable"]] == ["zhang"]


def counted_reports(monkeypatch) -> list[int]:
    import ccdsl.runtime.operations.reports as reports
    reads: list[int] = []
    original = reports.make_report

    def counting(*args, **kwargs):
        reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(reports, "make_report", counting)
    return reads


def test_todays_figures_are_read_at_most_every_ten_seconds(console, monkeypatch) -> None:
    reads = counted_reports(monkeypatch)
    clock = [1000.0]
    board = WallBoard(console.ctx, clock=lambda: clock[0])
    for _ in range(5):
        board.today(NOW)
    assert len(reads) == 1
    clock[0] += TODAY_S + 0.1
    board.today(NOW)
    assert len(reads) == 2


def test_one_snapshot_per_tick_serves_every_wallboard(console, monkeypatch) -> None:
    """However many supervisors' streams ask within a tick, the status document
    and the desk are read once; a change published on the feed, or the next
    tick, makes it again."""
    asked = []
    status = console.ctx.status
    monkeypatch.setattr(console.ctx, "status", lambda: asked.append(1) or status())
    clock = [1000.0]
    board = WallBoard(console.ctx, clock=lambda: clock[0])
    first = asyncio.run(board.current())
    assert all(asyncio.run(board.current()) is first for _ in range(20)) and len(asked) == 1
    clock[0] += TICK_S
    assert asyncio.run(board.current()) is not first and len(asked) == 2
    console.feed.publish("agent", {"state": "ready"}, agent="li")
    asyncio.run(board.current())
    asyncio.run(board.current())
    assert len(asked) == 3


def test_monitor_without_a_device_says_so(console) -> None:
    on_call(console)
    web = console.client("sup")
    reply = web.post("/wall/monitor", data={"call_id": "live-1", "mode": "listen"},
                     headers={"X-CSRF-Token": console.csrf(web)})
    assert reply.status_code == 409
    assert "no device is configured for sup" in reply.json()["error"]
    assert not [a for a in console.control.asked if a[0] == "monitor"]
    assert "no device configured for you" in web.get("/wall", headers=HTML).text


def test_monitor_rings_the_supervisors_device(with_device) -> None:
    on_call(with_device)
    web = with_device.client("sup")
    token = with_device.csrf(web)
    for mode in ("listen", "whisper", "barge"):
        reply = web.post("/wall/monitor", data={"call_id": "live-1", "mode": mode},
                         headers={"X-CSRF-Token": token})
        assert reply.status_code == 200 and reply.json()["extension"] == "2001"
        assert ("monitor", "live-1", "2001", mode) in with_device.control.asked
    assert web.post("/wall/monitor", data={"call_id": "live-1", "mode": "record"},
                    headers={"X-CSRF-Token": token}).status_code == 400
    assert web.post("/wall/monitor", data={"call_id": "live-1",
                                           "mode": "listen"}).status_code == 403  # no CSRF
    from ccdsl.runtime.operations.centre_control import ControlError
    with_device.control.refuse["monitor"] = ControlError("no call live-9 now", 404)
    gone = web.post("/wall/monitor", data={"call_id": "live-9", "mode": "listen"},
                    headers={"X-CSRF-Token": token})
    assert gone.status_code == 404 and gone.json()["error"] == "no call live-9 now"


def test_a_hostile_caller_on_the_wall_is_escaped(console) -> None:
    on_call(console, caller=HOSTILE)
    console.status_doc["calls"][1]["step"] = HOSTILE
    html = console.client("sup").get("/wall", headers=HTML).text
    assert HOSTILE not in html and "&lt;script&gt;" in html
