"""Every builtin of the registry has a run-time implementation that does
what docs/language.md "Builtins" says; CRM and HTTP calls time out, fail
as ExternalError and leave events."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from scripted_channel import History, ScriptedChannel, compile_flow

from ccdsl.builtins import BUILTINS
from ccdsl.runtime.core import hours
from ccdsl.runtime.core.builtins import implementations as builtins_impl
from ccdsl.runtime.core.call import CallRuntime
from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.events import EventList
from ccdsl.runtime.core.interpreter import OPS
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.core.values import Duration, Record, Ref
from ccdsl.runtime.sim.centre import SimCentre

FLOW = """\
flow b:
  languages en-US

hours office tz "Asia/Shanghai":
  mon-fri 09:00-12:00, 13:00-18:00
  sat 10:00-16:00
  closed 2026-10-01..2026-10-07 "National Day"
  open 2026-09-27 09:00-18:00 "make-up day"

queue service skills {general: 2} max_wait 60s

on start:
  x = office.open() and service.waiting() >= 0
  hangup
"""

OFFICE = {
    "tz": "Asia/Shanghai",
    "weekly": {"mon": [[540, 720], [780, 1080]], "tue": [[540, 1080]], "wed": [[540, 1080]],
               "thu": [[540, 1080]], "fri": [[540, 1080]], "sat": [[600, 960]], "sun": []},
    "closed": [{"from": "2026-10-01", "to": "2026-10-07", "label": "National Day"}],
    "open": [{"from": "2026-09-27", "to": "2026-09-27", "label": None, "times": [[540, 1080]]}],
}


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    return compile_flow(tmp_path_factory.mktemp("b"), FLOW)


def runtime_for(program, *, crm=None, agents=(), config=None, now=None) -> CallRuntime:
    clock = VirtualClock(now or datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # Mon 10:00 Shanghai
    services = Services(clock=clock, crm=crm or SqliteCRM(":memory:"),
                        centre=SimCentre([(a, None) for a in agents]), history=History(),
                        sink=EventList(), config=config or RuntimeConfig())
    return CallRuntime(program, ScriptedChannel(clock), services, OPS)


def call(rt, name, *args, **kwargs):
    return asyncio.run(builtins_impl.call(rt, name, list(args), kwargs, {"line": 1}))


def events(rt, kind):
    return rt.services.sink.of_kind(kind)


def test_every_registry_entry_has_an_implementation():
    implemented = set(builtins_impl.VALUES) | set(builtins_impl.FUNCTIONS)
    missing = sorted(set(BUILTINS) - implemented)
    assert missing == [], f"builtins without a run-time implementation: {missing}"
    assert set(builtins_impl.VALUES) == {n for n, b in BUILTINS.items() if b.kind == "value"}


def test_hours_open_in_their_own_time_zone():
    def at(text):
        return datetime.fromisoformat(text)

    assert hours.is_open(OFFICE, at("2026-11-30T02:00:00+00:00"))  # Mon 10:00 in Shanghai
    assert not hours.is_open(OFFICE, at("2026-11-30T04:30:00+00:00"))  # 12:30 lunch
    assert not hours.is_open(OFFICE, at("2026-10-02T03:00:00+00:00"))  # National Day
    assert hours.is_open(OFFICE, at("2026-09-27T02:00:00+00:00"))  # make-up Sunday
    assert not hours.is_open(OFFICE, at("2026-11-29T02:00:00+00:00"))  # a plain Sunday


def test_next_open_skips_closed_days():
    after = datetime.fromisoformat("2026-09-30T12:00:00+00:00")  # Wed 20:00 Shanghai
    opens = hours.next_open(OFFICE, after)
    assert opens.isoformat() == "2026-10-08T09:00:00+08:00"
    lunch = hours.next_open(OFFICE, datetime.fromisoformat("2026-11-30T04:30:00+00:00"))
    assert lunch.isoformat() == "2026-11-30T13:00:00+08:00"
    always = {"tz": None, "weekly": {d: [[0, 1440]] for d in hours.WEEKDAYS},
              "closed": [], "open": []}
    assert hours.next_open(always, datetime(2026, 1, 1, tzinfo=UTC)) is None
    never = {"tz": "UTC", "weekly": {d: [] for d in hours.WEEKDAYS}, "closed": [], "open": []}
    assert hours.next_open(never, datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_hours_and_queue_methods(program):
    agents = [Agent("li", skills={"general": 3}), Agent("wu", skills={"general": 1}),
              Agent("ma", skills={"general": 5}, state=AgentState.BUSY)]
    rt = runtime_for(program, agents=agents)
    assert call(rt, "hours.open", Ref("hours", "office")) is True
    assert call(rt, "hours.next_open", Ref("hours", "office")).hour == 13
    assert call(rt, "queue.available", Ref("queue", "service")) == 1  # li: level 3 >= 2
    assert call(rt, "queue.waiting", Ref("queue", "service")) == 0
    assert isinstance(call(rt, "queue.expected_wait", Ref("queue", "service")), Duration)


def test_now_and_today_follow_the_configured_zone(program):
    rt = runtime_for(program, config=RuntimeConfig(timezone="Asia/Shanghai"),
                     now=datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    assert call(rt, "now").hour == 4
    assert call(rt, "today") == date(2026, 12, 1)


def test_agents_builtins(program):
    rt = runtime_for(program, agents=[Agent("li", "Li Na", skills={"tech": 3}),
                                      Agent("wu", state=AgentState.LOGGED_OFF)])
    assert call(rt, "agents.available", ("tech",)) == 1
    assert call(rt, "agents.available", {"tech": 4}) == 0
    assert call(rt, "agents.state", "wu") == "offline"
    assert call(rt, "agents.state", "nobody") == "offline"
    assert call(rt, "agents.get", "li").get("name") == "Li Na"
    assert call(rt, "agents.get", "nobody") is None


def test_crm_calls_reach_the_sqlite_crm_and_emit_events(program, tmp_path):
    crm = SqliteCRM(str(tmp_path / "crm.db"))
    crm.upsert("customer", [{"id": "C1", "name": "Wang", "phone": "+8613800000001",
                             "owner": "zhang"}])
    rt = runtime_for(program, crm=crm)
    customer = call(rt, "crm.customer", phone="+8613800000001")
    assert customer.get("name") == "Wang"
    assert call(rt, "crm.owner", customer) == "zhang"
    assert call(rt, "crm.owner", None) is None
    ticket = call(rt, "crm.create", "ticket", subject="Call back", customer="C1")
    assert call(rt, "crm.update", ticket, status="open").get("status") == "open"
    assert call(rt, "crm.find", "ticket", customer="C1").get("status") == "open"
    assert call(rt, "crm.log_call", customer=customer, outcome="done") is None
    queries = events(rt, "crm_query")
    assert [e.data["operation"] for e in queries] == ["customer", "owner", "create", "update",
                                                      "find", "log_call"]
    assert queries[0].data["result"] == {"kind": "customer", "id": "C1"}
    assert all(e.data["error"] is None and e.data["ms"] >= 0 for e in queries)


class SlowCRM(SqliteCRM):
    async def find_customer(self, phone):
        await asyncio.sleep(5)


class BrokenCRM(SqliteCRM):
    async def find(self, record_type, fields):
        raise ConnectionError("connection refused")


def test_a_slow_crm_times_out_as_an_external_error(program):
    rt = runtime_for(program, crm=SlowCRM(":memory:"), config=RuntimeConfig(crm_timeout_ms=50))
    started = time.perf_counter()
    with pytest.raises(ExternalError) as caught:
        call(rt, "crm.customer", phone="+1")
    assert time.perf_counter() - started < 2
    assert caught.value.timed_out and caught.value.service == "crm"
    assert "within 50 ms" in events(rt, "crm_query")[0].data["error"]


def test_a_failing_crm_is_an_external_error(program):
    rt = runtime_for(program, crm=BrokenCRM(":memory:"))
    with pytest.raises(ExternalError, match="connection refused"):
        call(rt, "crm.find", "order", number="1")
    assert events(rt, "crm_query")[0].data["result"] is None


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's spelling
        if self.path == "/slow":
            time.sleep(1)
        body = json.dumps({"state": "in transit", "path": self.path,
                           "auth": self.headers.get("X-Token")}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (the timeout test)

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        data = self.rfile.read(length)
        self.send_response(201)
        self.end_headers()
        self.wfile.write(b"got " + data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_get_and_post_against_a_local_server(program, server):
    rt = runtime_for(program)
    reply = call(rt, "http.get", f"{server}/orders/1", headers={"X-Token": "s3cret"})
    assert reply.get("status") == 200
    assert reply.get("json")["state"] == "in transit"
    assert reply.get("json")["auth"] == "s3cret"
    posted = call(rt, "http.post", f"{server}/notes", body={"n": 1})
    assert posted.get("status") == 201 and posted.get("body") == 'got {"n":1}'
    assert posted.get("json") is None
    text = call(rt, "http.post", f"{server}/notes", body="plain")
    assert text.get("body") == "got plain"
    sent = events(rt, "http_request")
    assert [(e.data["method"], e.data["status"]) for e in sent] == [
        ("GET", 200), ("POST", 201), ("POST", 201)]
    assert "s3cret" not in json.dumps([e.data for e in sent])


def test_http_timeouts_and_dead_servers_are_external_errors(program, server):
    rt = runtime_for(program)
    with pytest.raises(ExternalError) as caught:
        call(rt, "http.get", f"{server}/slow", timeout=Duration(100))
    assert caught.value.timed_out and caught.value.service == "http"
    dead = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = dead.server_address[1]
    dead.server_close()
    with pytest.raises(ExternalError, match="failed"):
        call(rt, "http.get", f"http://127.0.0.1:{port}/")
    assert [e.data["error"] is not None for e in events(rt, "http_request")] == [True, True]


def test_text_and_number_helpers(program):
    rt = runtime_for(program)
    assert call(rt, "len", "abc") == 3 and call(rt, "len", None) == 0
    assert call(rt, "len", (1, 2)) == 2 and call(rt, "len", {"a": 1}) == 1
    assert call(rt, "upper", "iws") == "IWS" and call(rt, "lower", "IWS") == "iws"
    assert call(rt, "trim", "  x ") == "x" and call(rt, "upper", None) is None
    assert call(rt, "contains", "hello", "ell") is True
    assert call(rt, "contains", ("a", "b"), "c") is False
    assert call(rt, "starts_with", "+8613", "+86") is True
    assert call(rt, "replace", "a-b-c", "-", "+") == "a+b+c"
    assert call(rt, "to_number", "0042") == 42 and call(rt, "to_number", "2.5") == 2.5
    assert call(rt, "to_number", "abc") is None and call(rt, "to_number", "nan") is None
    assert call(rt, "to_text", True) == "true" and call(rt, "to_text", 3.0) == "3"
    assert call(rt, "round", 2.5) == 3 and call(rt, "round", 2.345, digits=2) == 2.35
    assert call(rt, "abs", -4) == 4 and call(rt, "min", 3, 9) == 3 and call(rt, "max", 3, 9) == 9


def test_facts_about_the_call(program):
    rt = runtime_for(program)
    rt.language = "zh-CN"
    caller = builtins_impl.value_of(rt, "caller", None)
    assert caller.get("number") == "+8613800000001" and caller.get("language") == "zh-CN"
    the_call = builtins_impl.value_of(rt, "call", None)
    assert the_call.get("talked_to_agent") is False
    assert the_call.get("queue_wait") == Duration(0)
    assert builtins_impl.value_of(rt, "agent", None) is None
    assert isinstance(caller, Record)


def test_an_external_call_is_bounded_once_it_waits():
    from ccdsl.runtime.core.builtins.external import within

    cleaned: list[str] = []

    async def answers_at_once():
        return "at once"

    async def waits_a_few_times():
        for _ in range(3):
            await asyncio.sleep(0)
        return "after waiting"

    async def fails_after_waiting():
        await asyncio.sleep(0)
        raise ConnectionError("reset")

    async def hangs():
        try:
            await asyncio.sleep(5)
        finally:
            cleaned.append("hangs")

    async def main():
        soon = asyncio.get_running_loop().time() + 0.05
        assert await within(answers_at_once(), soon) == "at once"
        assert await within(waits_a_few_times(), soon) == "after waiting"
        future = asyncio.get_running_loop().create_future()  # an awaitable, not a coroutine
        asyncio.get_running_loop().call_soon(future.set_result, "a future")
        assert await within(future, soon) == "a future"
        with pytest.raises(ConnectionError, match="reset"):
            await within(fails_after_waiting(), soon)
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            await within(hangs(), soon)
        assert time.perf_counter() - started < 2 and cleaned == ["hangs"]

    asyncio.run(main())


def test_cancelling_a_call_reaches_the_external_call_it_waits_on():
    from ccdsl.runtime.core.builtins.external import within

    cleaned: list[str] = []

    async def hangs():
        try:
            await asyncio.sleep(5)
        finally:
            cleaned.append("hangs")

    async def main():
        task = asyncio.create_task(within(hangs(), asyncio.get_running_loop().time() + 10))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task  # cancelled, not turned into a timeout

    asyncio.run(main())
    assert cleaned == ["hangs"]
