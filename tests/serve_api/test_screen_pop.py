"""Screen pop (runtime/operations/screenpop.py): the webhook against a real HTTP server
on 127.0.0.1 (the payload, the token, the recent calls and the CRM record),
a slow or failing desktop never delaying the call, every send kept as a
centre_events row; and the AMI UserEvent through the AMI peer, as the
captures show it (the reply `Event Sent`, then the UserEvent event carrying
the ActionID and every header of the action)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asterisk.centre import WAIT_S
from doubles.ami_server import AmiPeer

from ccdsl.runtime.asterisk.ami import AmiLink
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.screenpop import USER_EVENT, PopTarget, ScreenPop, recent_calls
from ccdsl.runtime.operations.store import CallStore

from .helpers import Desktop, until

TOKEN = "pop-token-never-logged"
CALLER = "+8613800000001"
START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def past_calls(store: CallStore, count: int) -> None:
    """`count` finished calls of CALLER, an hour apart, the later ones
    answered by li with a wrap-up; and one call of someone else."""
    for n in range(count):
        call_id = f"old-{n}"
        at = START - timedelta(hours=count - n)
        events = [("call_started", {"caller": CALLER, "flow": "hotline"}),
                  ("agent_offered", {"agent": "li", "via": "dial"}),
                  ("agent_answered", {"agent": "li"}),
                  ("call_ended", {"outcome": "hangup"})]
        for seq, (kind, data) in enumerate(events, 1):
            store.emit(Event(call_id, seq, at + timedelta(seconds=seq), kind, data))
        store.set_wrapup(call_id, {"reason": f"reason {n}"})
    store.emit(Event("other", 1, START, "call_started", {"caller": "+8613999999999"}))
    store.emit(Event("other", 2, START, "call_ended", {"outcome": "hangup"}))


def offer(pop: ScreenPop, call_id: str = "1795.7", *, customer: bool = True,
          via: str = "queue") -> float:
    """The events of a call up to an agent being offered it; how long the
    emits took (the call's own time)."""
    events = [("call_started", {"caller": CALLER, "caller_name": "CHEN JING",
                                "dialled": "4008001234", "flow": "hotline"}),
              ("step_entered", {"step": "main_menu"}),
              ("menu_choice", {"menu": {"line": 4}, "key": "timeout", "attempt": 1}),
              ("menu_choice", {"menu": {"line": 4}, "key": "1", "pressed": "1"}),
              ("step_entered", {"step": "order_status"}),
              ("collected", {"name": "order", "value": "20261128", "attempts": 1})]
    if customer:
        events.append(("crm_query", {"operation": "customer", "args": {"phone": CALLER},
                                     "result": {"kind": "customer", "id": "C1001"}}))
    events.append(("agent_offered", {"agent": "li", "via": via}))
    started = time.perf_counter()
    for seq, (kind, data) in enumerate(events, 1):
        pop.emit(Event(call_id, seq, START, kind, data))
    return time.perf_counter() - started


def rig(tmp_path: Path, desktop: Desktop, check, *, timeout_s: float = WAIT_S, token=TOKEN,
        history: int = 6, use_crm: bool = True):
    async def main():
        url = await desktop.start()
        store = CallStore(tmp_path / "calls.db")
        crm = SqliteCRM(tmp_path / "crm.db")
        crm.upsert("customer", [{"id": "C1001", "name": "Chen Jing", "phone": CALLER,
                                 "tier": "vip", "owner": "zhang"}])
        past_calls(store, history)
        pop = ScreenPop(PopTarget(url, token, timeout_s), crm=crm if use_crm else None,
                        history=store.recent_calls,
                        record=lambda kind, data, call_id: store.record_centre_event(
                            "serve", kind, data, START, call_id=call_id))
        try:
            result = await check(pop)
            await pop.drain()
            rows = store.query("SELECT source, kind, call_id, data FROM centre_events")
            return result, rows
        finally:
            store.close()
            crm.close_now()
            await desktop.stop()
    return asyncio.run(main())


def test_the_webhook_carries_the_call_the_customer_and_recent_calls(tmp_path: Path,
                                                                     caplog) -> None:
    desktop = Desktop(status=204)
    caplog.set_level(logging.DEBUG)

    async def check(pop):
        offer(pop)
        await until(lambda: pop.sent, "the pop to be sent")

    _, rows = rig(tmp_path, desktop, check)
    (request,) = desktop.received
    assert request.method == "POST" and request.path == "/ccf/pop"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    payload = request.json()
    # the caller's path through the IVR: a retried menu shows the choice only
    assert payload["call"] == {"id": "1795.7", "caller": CALLER, "caller_name": "CHEN JING",
                               "dialled": "4008001234",
                               "flow": "hotline", "started": START.isoformat(),
                               "path": [{"step": "main_menu"}, {"menu": "main_menu", "key": "1"},
                                        {"step": "order_status"},
                                        {"collected": "order", "value": "20261128",
                                         "step": "order_status"}]}
    assert payload["agent"] == "li"
    # the whole record, read again: the call's event kept only its id
    assert payload["customer"] == {"kind": "customer", "id": "C1001", "name": "Chen Jing",
                                   "phone": CALLER, "tier": "vip", "owner": "zhang"}
    recent = payload["recent_calls"]
    assert [c["call_id"] for c in recent] == ["old-5", "old-4", "old-3", "old-2", "old-1"]
    assert recent[0] == {"call_id": "old-5", "time": (START - timedelta(hours=1, seconds=-1))
                         .isoformat(), "outcome": "hangup", "agent": "li",
                         "wrapup": {"reason": "reason 5"},
                         "wrapups": [{"agent": "li", "values": {"reason": "reason 5"}}],
                         "recorded": False}
    assert [(r["source"], r["kind"], r["call_id"]) for r in rows] == [
        ("serve", "screen_pop_sent", "1795.7")]
    data = json.loads(rows[0]["data"])
    assert data["agent"] == "li" and data["via"] == "webhook" and data["status"] == 204
    assert TOKEN not in caplog.text and TOKEN not in json.dumps(rows)
    assert TOKEN not in repr(PopTarget("http://x", TOKEN))


def test_an_unknown_caller_pops_with_a_null_customer_and_no_token(tmp_path: Path) -> None:
    desktop = Desktop()

    async def check(pop):
        offer(pop, customer=False)
        await until(lambda: pop.sent, "the pop to be sent")

    # the call looked nobody up: the CRM's record of the caller's number is sent
    rig(tmp_path, desktop, check, token=None, history=0)
    payload = desktop.received[0].json()
    assert "authorization" not in desktop.received[0].headers
    assert payload["customer"]["id"] == "C1001" and payload["recent_calls"] == []

    desktop = Desktop()
    rig(tmp_path / "no-crm", desktop, check, token=None, history=0, use_crm=False)
    assert desktop.received[0].json()["customer"] is None


def test_a_slow_desktop_never_delays_the_call_and_is_recorded_as_failed(
        tmp_path: Path) -> None:
    desktop = Desktop(delay_s=2.0)

    async def check(pop):
        spent = offer(pop)
        # the call goes on: its next events are emitted while the pop waits
        pop.emit(Event("1795.7", 9, START, "agent_answered", {"agent": "li"}))
        started = time.monotonic()
        await until(lambda: pop.sent, "the pop to time out")
        return spent, time.monotonic() - started

    (spent, waited), rows = rig(tmp_path, desktop, check, timeout_s=0.3)
    assert spent < 0.05  # the emits returned at once
    assert 0.2 < waited < 1.5
    assert [r["kind"] for r in rows] == ["screen_pop_failed"]
    data = json.loads(rows[0]["data"])
    assert data == {"agent": "li", "via": "webhook", "error": "no answer within 0.3 s"}


def test_a_failing_or_absent_desktop_is_recorded_as_failed(tmp_path: Path) -> None:
    desktop = Desktop(status=500)

    async def check(pop):
        offer(pop)
        await until(lambda: pop.sent, "the pop to be answered")

    _, rows = rig(tmp_path, desktop, check)
    data = json.loads(rows[0]["data"])
    assert rows[0]["kind"] == "screen_pop_failed"
    assert data["status"] == 500 and data["error"] == "HTTP 500"

    async def refused(pop):
        pop.target = PopTarget("http://127.0.0.1:9/ccf/pop", TOKEN, 1.0)  # nothing listens
        offer(pop)
        await until(lambda: pop.sent, "the pop to fail")

    _, rows = rig(tmp_path / "refused", Desktop(), refused)
    data = json.loads(rows[0]["data"])
    assert rows[0]["kind"] == "screen_pop_failed" and data["via"] == "webhook"
    assert data["error"].startswith("ConnectError")


def test_recent_calls_are_the_last_five_of_that_caller(tmp_path: Path) -> None:
    with CallStore(tmp_path / "calls.db") as store:
        past_calls(store, 3)
        assert [c["call_id"] for c in recent_calls(store.recent_calls, CALLER, "old-2")] == [
            "old-1", "old-0"]
        assert recent_calls(store.recent_calls, None, "x") == []
        assert recent_calls(store.recent_calls, "+8613999999999", "x")[0]["wrapup"] is None


# ---- the AMI UserEvent ----------------------------------------------------------------------


def test_the_user_event_goes_through_the_ami_peer_as_captured(tmp_path: Path) -> None:
    async def main():
        peer = AmiPeer(users={"ccf": "secret"})
        await peer.start()
        seen = []
        link = AmiLink("127.0.0.1", peer.port, "ccf", "secret", on_event=seen.append,
                       timeout=WAIT_S, ping_interval=None)
        await link.start()
        store = CallStore(tmp_path / "calls.db")
        crm = SqliteCRM(tmp_path / "crm.db")
        crm.upsert("customer", [{"id": "C1001", "name": "Chen Jing", "phone": CALLER}])
        past_calls(store, 2)
        pop = ScreenPop(None, crm=crm, history=store.recent_calls, ami=lambda: link,
                        record=lambda kind, data, call_id: store.record_centre_event(
                            "serve", kind, data, START, call_id=call_id))
        try:
            offer(pop)
            await until(lambda: pop.sent, "the UserEvent to be answered")
            await until(lambda: any(e.event == "UserEvent" for e in seen), "the event")
            await pop.drain()
            rows = store.query("SELECT kind, data FROM centre_events")
            return peer.actions, seen, rows, pop.sent
        finally:
            await link.close()
            await peer.stop()
            store.close()
            crm.close_now()

    actions, seen, rows, sent = asyncio.run(main())
    (action,) = [a for a in actions if a["Action"] == "UserEvent"]
    assert action == {"Action": "UserEvent", "ActionID": action["ActionID"],
                      "UserEvent": USER_EVENT, "Agent": "li", "CallId": "1795.7",
                      "Caller": CALLER, "Customer": "C1001", "Recent": "2"}
    (event,) = [e for e in seen if e.event == "UserEvent"]
    # main/manager.c: every header of the action but Action and UserEvent, ActionID too
    assert event.headers == {"Event": "UserEvent", "Privilege": "user,all",
                             "UserEvent": USER_EVENT, "ActionID": action["ActionID"],
                             "Agent": "li", "CallId": "1795.7", "Caller": CALLER,
                             "Customer": "C1001", "Recent": "2"}
    assert [r["kind"] for r in rows] == ["screen_pop_sent"]
    assert json.loads(rows[0]["data"]) == {"agent": "li", "via": "ami",
                                           "action_id": action["ActionID"]}
    assert sent[0]["via"] == "ami"


def test_a_user_event_with_a_line_break_is_refused_not_sent(tmp_path: Path) -> None:
    async def main():
        peer = AmiPeer(users={"ccf": "secret"})
        await peer.start()
        link = AmiLink("127.0.0.1", peer.port, "ccf", "secret", timeout=WAIT_S,
                       ping_interval=None)
        await link.start()
        pop = ScreenPop(None, ami=lambda: link)
        try:
            pop.emit(Event("1795.8", 1, START, "call_started",
                           {"caller": "+86138\r\nAction: Hangup", "flow": "hotline"}))
            pop.emit(Event("1795.8", 2, START, "agent_offered", {"agent": "li"}))
            await until(lambda: pop.sent, "the pop to be refused")
            return peer.actions, pop.sent
        finally:
            await link.close()
            await peer.stop()

    actions, sent = asyncio.run(main())
    assert not any(a["Action"] in ("UserEvent", "Hangup") for a in actions)
    assert sent[0]["kind"] == "screen_pop_failed" and "line break" in sent[0]["error"]


# ---- in the simulator ------------------------------------------------------------------------


def test_ccf_simulate_pops_to_the_url_it_is_given(tmp_path: Path) -> None:
    import http.server
    import threading

    from ccf_cli import ccf

    got: list[tuple[str | None, dict]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.headers.get("Authorization"), json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = Path(__file__).resolve().parents[2]
    store = tmp_path / "calls.db"
    url = f"http://127.0.0.1:{server.server_address[1]}/pop"
    try:
        results = [ccf("simulate", str(root / "examples" / "iws" / "hotline.ccf"),
                       "--at", "2026-11-30 10:00", "--press", "0", "--caller", CALLER,
                       "--store", str(store), "--screen-pop-url", url,
                       env={"CCF_SCREEN_POP_TOKEN": TOKEN}) for _ in range(2)]
        bad = ccf("simulate", str(root / "examples" / "iws" / "hotline.ccf"),
                  "--screen-pop-url", "desk.example.com")
    finally:
        server.shutdown()
        thread.join(5)
    for result in results:
        assert result.exit_code == 0, result.output
        assert f"screen pop for zhang to {url}: HTTP 204" in result.output
        assert TOKEN not in result.output
    # each call: the pop of the offer, and the flow's own `screen_pop customer,
    # call` (hotline's `on answered by agent`) as a second post
    assert [auth for auth, _ in got] == [f"Bearer {TOKEN}"] * 4
    offers = [payload for _, payload in got if payload["pop"] == "offer"]
    flows = [payload for _, payload in got if payload["pop"] == "flow"]
    first, second = offers
    assert first["call"]["id"] == "sim-1" and second["call"]["id"] == "sim-2"
    assert first["agent"] == "zhang" and first["customer"]["name"] == "Chen Jing"
    assert first["recent_calls"] == [] and [c["call_id"] for c in second["recent_calls"]] == [
        "sim-1"]
    assert sorted(p["call"]["id"] for p in flows) == ["sim-1", "sim-2"]
    assert all(p["agent"] == "zhang" and p["items"] for p in flows)
    with CallStore(store) as calls:
        rows = calls.query("SELECT source, kind, call_id FROM centre_events ORDER BY id")
    assert sorted((r["kind"], r["call_id"]) for r in rows) == [
        ("screen_pop_sent", "sim-1"), ("screen_pop_sent", "sim-1"),
        ("screen_pop_sent", "sim-2"), ("screen_pop_sent", "sim-2")]
    assert {r["source"] for r in rows} == {"ccf"}
    assert bad.exit_code == 2 and "write an http:// or https:// URL" in bad.output
