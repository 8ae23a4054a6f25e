"""Recorded calls: the call store's `recordings` rows (simulator and the
FastAGI peer), the migration from schema 3, and the link to the customer's
CRM record for both adapters even when the flow never calls crm.log_call."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from store_files import set_back

from calls.world import (
    OWNER_MESSAGE,
    RECORDING,
    ROOT,
    block_named,
    compiled,
    over_fastagi,
    run_test_call,
)
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.http import HttpCRM
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import EventList
from ccdsl.runtime.core.interpreter import run_call
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.sim.scenario import Scenario, scenario_centre
from ccdsl.runtime.testing.via_asterisk import run_test_over_agi

ANSWERED = "a recorded call is answered by an agent"
UNANSWERED = "nobody answers: the recording still ends with the call"


def test_a_recorded_call_is_indexed_with_caller_agent_and_customer(tmp_path):
    run = run_test_call(RECORDING, ANSWERED, tmp_path / "w", tmp_path / "calls.db")
    assert run.result.agent == "li"
    with CallStore(tmp_path / "calls.db") as store:
        rows = store.query("SELECT * FROM recordings")
        call = store.call(run.result.call_id)
    assert len(rows) == 1
    row = rows[0]
    started = [e for e in run.events if e.kind == "recording_started"][0]
    stopped = [e for e in run.events if e.kind == "recording_stopped"][0]
    assert (row["call_id"], row["file"]) == (run.result.call_id, started.data["file"])
    assert (row["caller"], row["agent"], row["customer_id"], row["flow"]) == \
        ("+8613800000001", "li", "C1", "recording_line")
    assert row["duration_ms"] == int((stopped.at - started.at).total_seconds() * 1000) > 60_000
    assert row["started"] == started.at.astimezone(UTC).isoformat()
    assert call["recording"] == row["file"]
    assert SCHEMA_VERSION >= 6  # recordings came in 4; 7 added queue_callbacks


def test_an_unanswered_recorded_call_has_no_agent_and_no_customer(tmp_path):
    run_test_call(RECORDING, UNANSWERED, tmp_path / "w", tmp_path / "calls.db")
    with CallStore(tmp_path / "calls.db") as store:
        (row,) = store.query("SELECT * FROM recordings")
    assert (row["caller"], row["agent"], row["customer_id"]) == ("+8613900000000", None, None)
    assert row["duration_ms"] > 0


def test_a_version_3_store_gains_recordings_filled_from_its_events(tmp_path):
    path = tmp_path / "calls.db"
    run_test_call(RECORDING, ANSWERED, tmp_path / "w", path)
    with CallStore(path) as store:
        before = store.query("SELECT * FROM recordings")
    set_back(path, 3, "DROP TABLE recordings")
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        after = store.query("SELECT * FROM recordings")
    assert after == before and len(after) == 1


def test_the_sqlite_crm_gets_the_recorded_call_though_the_flow_never_logs_it(tmp_path):
    run = run_test_call(RECORDING, ANSWERED, tmp_path / "w", tmp_path / "calls.db")
    logged = [e for e in run.events if e.kind == "crm_query"
              and e.data["operation"] == "log_call"]
    assert len(logged) == 1 and logged[0].data["args"]["automatic"] is True
    assert logged[0].data["error"] is None
    crm = SqliteCRM(tmp_path / "w" / "crm.db")
    try:
        rows = crm.db.conn.execute("SELECT customer, call_id, recording, agent, outcome "
                                   "FROM call_log").fetchall()
    finally:
        crm.close_now()
    file = [e for e in run.events if e.kind == "recording_started"][0].data["file"]
    assert [tuple(r) for r in rows] == [("C1", run.result.call_id, file, "li", "hangup")]


def test_an_unknown_caller_is_not_logged_and_the_recording_stays_indexed(tmp_path):
    run = run_test_call(RECORDING, UNANSWERED, tmp_path / "w", tmp_path / "calls.db")
    assert not [e for e in run.events if e.kind == "crm_query"
                and e.data["operation"] == "log_call"]


LOGS_ITSELF = """flow logs_itself:
  languages en-US

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> customer = null
  record call
  play tts "Hello."
  hangup

on hangup:
  crm.log_call(customer: customer, note: "by the flow") on error -> log "not logged"
"""


def test_a_flow_that_logs_its_recording_is_not_logged_twice(tmp_path):
    flow = tmp_path / "logs_itself.ccf"
    flow.write_text(LOGS_ITSELF + '\ntest "logged once":\n'
                    '  crm customer {id: "C1", phone: "+8613800000001"}\n'
                    '  call from "+8613800000001"\n  expect hangup\n', encoding="utf-8")
    run_test_call(flow, "logged once", tmp_path / "w", tmp_path / "calls.db")
    crm = SqliteCRM(tmp_path / "w" / "crm.db")
    try:
        notes = [r[0] for r in crm.db.conn.execute("SELECT note FROM call_log")]
    finally:
        crm.close_now()
    assert notes == ["by the flow"]


# -- the HTTP adapter, against a CRM API on 127.0.0.1 --------------------------------------


class CrmApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[dict] = []


class _Handler(BaseHTTPRequestHandler):
    server: CrmApi

    def log_message(self, format, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._any()

    def do_POST(self) -> None:
        self._any()

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        url = urlsplit(self.path)
        self.server.seen.append({"method": self.command, "path": url.path, "json": body})
        if url.path == "/customers":
            phone = parse_qs(url.query).get("phone", [""])[0]
            found = [{"id": "C1", "phone": phone, "owner": "zhang"}] \
                if phone == "+8613800000001" else []
            return self._answer(200, {"data": found})
        if url.path.startswith("/customers/") and url.path.endswith("/calls"):
            return self._answer(201, {"ok": True})
        return self._answer(404, {"error": "no such endpoint"})

    def _answer(self, status: int, data) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def crm_api():
    server = CrmApi()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _call_with(crm, flow_ir: dict, caller: str, workdir: str):
    """One simulated call of the flow's first test world, with this CRM."""
    program = load_program(flow_ir, validate=False)
    start = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    scenario = Scenario(name="http", loc={}, start=start, caller=caller,
                        agents=(AgentSpec(id="li", skills={"general": 0},
                                          answer_after_ms=2000),))
    clock = VirtualClock(start)
    info = CallInfo(call_id="http-1", caller_number=caller, caller_name=None, dialled="",
                    started=start, channel="sim/1")
    channel = SimChannel(info, clock, ScriptedCaller(()), scenario_centre(flow_ir, scenario))
    events = EventList()

    async def go():
        try:
            services = Services(clock=clock, crm=crm, centre=channel.centre, history=None,
                                sink=events, config=RuntimeConfig(recordings_dir=workdir))
            return await run_call(program, channel, services)
        finally:
            await crm.close()

    return asyncio.run(go()), events.events


def test_the_http_crm_gets_the_log_call_operation_for_a_recorded_call(crm_api, tmp_path):
    crm = HttpCRM({"base_url": f"http://127.0.0.1:{crm_api.server_address[1]}",
                   "timeout_ms": 2000, "retries": 0,
                   "operations": {"find_customer": {"url": "/customers?phone={phone}",
                                                    "result": "data"},
                                  "log_call": {"method": "POST",
                                               "url": "/customers/{customer}/calls"}}})
    result, events = _call_with(crm, compiled(RECORDING), "+8613800000001", str(tmp_path))
    assert result.agent == "li"
    posts = [s for s in crm_api.seen if s["method"] == "POST"]
    assert [p["path"] for p in posts] == ["/customers/C1/calls"]
    body = posts[0]["json"]
    file = [e for e in events if e.kind == "recording_started"][0].data["file"]
    assert (body["customer"], body["call_id"], body["recording"], body["agent"]) == \
        ("C1", "http-1", file, "li")
    assert body["note"] == "recorded call" and body["outcome"] == "hangup"


# -- over the Asterisk test peer (FastAGI) ---------------------------------------------------


@pytest.mark.parametrize(("path", "name"), [
    (RECORDING, ANSWERED), (RECORDING, UNANSWERED),
    (OWNER_MESSAGE, "the owner gets the message and a follow-up task"),
    (OWNER_MESSAGE, "an unknown caller's message goes to the fallback mailbox, with its task"),
])
def test_the_scenarios_pass_over_fastagi(path, name):
    ir = compiled(path)
    result = run_test_over_agi(ir, block_named(ir, name))
    assert result.passed, [(o.expectation.describe(), o.happened) for o in result.outcomes
                           if not o.passed] or result.error


def test_a_call_recorded_over_fastagi_is_indexed_and_logged_to_the_crm(tmp_path):
    store_path = tmp_path / "calls.db"
    (run,) = over_fastagi(RECORDING, (ANSWERED,), tmp_path, store_path)
    with CallStore(store_path) as store:
        (row,) = store.query("SELECT * FROM recordings")
    assert (row["call_id"], row["agent"], row["customer_id"], row["caller"]) == \
        (run.result.call_id, "li", "C1", "+8613800000001")
    assert row["file"].startswith(str(tmp_path / "recordings"))
    logged = [e for e in run.events if e.kind == "crm_query"
              and e.data["operation"] == "log_call"]
    assert len(logged) == 1 and logged[0].data["error"] is None
    crm = SqliteCRM(tmp_path / "call-1" / "crm.db")
    try:
        rows = crm.db.conn.execute("SELECT customer, recording FROM call_log").fetchall()
    finally:
        crm.close_now()
    assert [tuple(r) for r in rows] == [("C1", row["file"])]


def test_the_documented_recording_and_message_queries_run_and_count_right(tmp_path):
    import re

    text = (ROOT / "docs" / "store.md").read_text(encoding="utf-8")
    recordings, messages = re.findall(r"```sqlite\n(.*?)```", text, re.S)
    path = tmp_path / "calls.db"
    answered = run_test_call(RECORDING, ANSWERED, tmp_path / "a", path)
    run_test_call(RECORDING, UNANSWERED, tmp_path / "b", path)
    left = run_test_call(OWNER_MESSAGE, "the owner gets the message and a follow-up task",
                         tmp_path / "c", path)
    with CallStore(path) as store:
        store.record_centre_event("ccf", "callback", {"agent": "li", "status": "done"},
                                  datetime(2026, 11, 29, 9, 0, tzinfo=ZoneInfo("UTC")),
                                  call_id=left.result.call_id)
        mine = store.query(recordings, {"customer": "C1"})
        zhang = store.query(messages, {"agent": "zhang"})
        nobody = store.query(messages, {"agent": "li"})
    file = [e for e in answered.events if e.kind == "recording_started"][0].data["file"]
    assert [(r["call_id"], r["file"], r["agent"]) for r in mine] == \
        [(answered.result.call_id, file, "li")]
    (stored,) = [e for e in left.events if e.kind == "voicemail"]
    assert [(m["call_id"], m["length_ms"], m["called_back"]) for m in zhang] == \
        [(left.result.call_id, stored.data["duration_ms"], 1)]
    assert nobody == []
