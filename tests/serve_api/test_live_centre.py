"""`ccf serve`'s API, status and screen pop end to end: a LiveCentre from a
ccf.toml (with [api] on port 0 and a [screen_pop] webhook) takes a call from
the FastAGI peer, whose simulated centre's agent answers from the queue;
the webhook reaches a desktop on 127.0.0.1, the AMI peer receives the
UserEvent, GET /status and GET /calls/ID answer, and POST /calls/ID/wrapup
stores the values in the call store and the CRM's call_log. Also the
status tracker's view of a call as it moves, step by step."""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from asterisk.centre import WAIT_S, write_config
from doubles.ami_server import AmiPeer

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.live_status import StatusTracker, snapshot
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre
from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.sim.scenario import scenario_centre, simulation
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine
from ccdsl.runtime.testing.peer.sim_backend import SimBackend, agent_leg

from .helpers import Desktop, until

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "examples" / "iws" / "agents.toml"
SECRET = "live-ami-secret"
API_TOKEN = "live-api-token"
CALLER = "+8613800000001"
# who takes the call: every agent of agents.toml is free and took no call yet,
# and app_queue's leastrecent then rings the last of its member container
# (hashed by interface: PJSIP/8003 after 8002 after 8001), as the test peer does
ANSWERED_BY = "wang"
FLOW = textwrap.dedent("""\
    flow desk:
      languages en-US

    queue service skills [general] max_wait 60s

    wrapup:
      reason: text
      resolved: bool
      order_number: text?

    on start:
      answer
      customer = crm.customer(phone: caller.number) on error -> customer = null
      queue service
      hangup
    """)


def setup(tmp_path: Path, ami_port: int, pop_url: str):
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    result = compile_file(str(tmp_path / "desk.ccf"))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    ir = {**result.ir, "tests": []}
    path = write_config(tmp_path, ami_port, numbers='"4008001234" = "desk"',
                        api='token_env = "TEST_CCF_API_TOKEN"',
                        extra=f'[screen_pop]\nurl = "{pop_url}"\ntimeout = "2s"\n')
    config = load_config(path, environ={"CCF_AMI_SECRET": SECRET,
                                        "TEST_CCF_API_TOKEN": API_TOKEN})
    FlowStore(config.flows_dir).deploy({"desk": ir}, numbers=config.numbers, note="desk")
    crm = SqliteCRM(tmp_path / "crm.db")
    crm.upsert("customer", [{"id": "C1001", "name": "Chen Jing", "phone": CALLER,
                             "owner": "zhang"}])
    crm.close_now()
    return config, ir


async def place_call(ir: dict, port: int, uniqueid: str, *,
                     answered_port: int | None = None) -> None:
    """A caller through the FastAGI peer; the peer's simulated centre has
    the agents of agents.toml, and its agent answers over `ccf-answered`."""
    scenario = simulation(ir, caller=CALLER, dialled="4008001234",
                          agents=load_agents(str(AGENTS)))
    clock = VirtualClock(scenario.start)
    info = CallInfo(call_id=uniqueid, caller_number=CALLER, caller_name=None,
                    dialled="4008001234", started=scenario.start,
                    channel="PJSIP/caller-00000001", language="en-US")
    sim = SimChannel(info, clock, ScriptedCaller(()), scenario_centre(ir, scenario))
    # answered_port: the agent's Gosub reaches another worker than the caller's AGI()
    leg = agent_leg("127.0.0.1", answered_port or port, timeout=WAIT_S, caller_number=CALLER)
    backend = SimBackend(sim, answered=leg)
    line = CallerLine(script="desk", channel=info.channel, uniqueid=uniqueid, callerid=CALLER,
                      dnid="4008001234", language="en-US", extension="4008001234")
    await AgiCaller("127.0.0.1", port, backend, line, timeout=WAIT_S).run()


def test_a_call_pops_on_the_desktop_and_takes_its_wrapup(tmp_path: Path) -> None:
    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=("ccf-service",))
        await peer.start()
        desktop = Desktop()
        url = await desktop.start()
        config, ir = setup(tmp_path, peer.port, url)
        live = LiveCentre(config, port=0, api_port=0)
        try:
            _, port = await ServedCentre(live).start()
            api = f"http://{live.api_address[0]}:{live.api_address[1]}"
            auth = {"Authorization": f"Bearer {API_TOKEN}"}
            await place_call(ir, port, "1795700000.1")
            await until(lambda: live.server.calls_running == 0, "the call to end")
            await until(lambda: live.screen_pop.sent and len(live.screen_pop.sent) >= 2,
                        "the webhook and the UserEvent")
            async with httpx.AsyncClient(base_url=api, timeout=WAIT_S, headers=auth) as client:
                status = (await client.get("/status")).json()
                bad = await client.post("/calls/1795700000.1/wrapup",
                                        json={"fields": {"reason": "order",
                                                         "resolved": "maybe"}})
                good = await client.post("/calls/1795700000.1/wrapup",
                                         json={"agent": ANSWERED_BY,
                                               "fields": {"reason": "order", "resolved": True,
                                                          "order_number": "20261128"}})
                record = (await client.get("/calls/1795700000.1")).json()
                missing = await client.get("/calls/nope")
                refused = await httpx.AsyncClient(base_url=api).get("/status")
            rows = live.store.query("SELECT source, kind, data FROM centre_events "
                                    "WHERE source = 'serve' ORDER BY id")
            return (status, bad, good, record, missing, refused, rows, desktop.received,
                    peer.actions)
        finally:
            await live.stop(1.0)
            await peer.stop()
            await desktop.stop()

    (status, bad, good, record, missing, refused, rows, received,
     actions) = asyncio.run(main())
    # the webhook: the call, the agent who answered from the queue, the customer
    (pop,) = received
    payload = pop.json()
    assert payload["call"]["id"] == "1795700000.1" and payload["call"]["flow"] == "desk"
    assert payload["call"]["caller"] == CALLER and payload["call"]["dialled"] == "4008001234"
    assert payload["agent"] == ANSWERED_BY
    assert payload["customer"]["id"] == "C1001" and payload["customer"]["name"] == "Chen Jing"
    assert payload["recent_calls"] == []
    # the UserEvent, as the AMI peer received it
    (user_event,) = [a for a in actions if a["Action"] == "UserEvent"]
    assert (user_event["UserEvent"], user_event["Agent"], user_event["CallId"],
            user_event["Customer"], user_event["Recent"]) == (
        "ccf-screen-pop", ANSWERED_BY, "1795700000.1", "C1001", "0")
    kinds = [(r["kind"], json.loads(r["data"])["via"]) for r in rows
             if r["kind"].startswith("screen_pop")]
    assert sorted(kinds) == [("screen_pop_sent", "ami"), ("screen_pop_sent", "webhook")]
    # the status after the call: nobody on a call, the queue and its members
    assert status["server"]["calls_served"] == 1 and status["server"]["ami"] == "up"
    assert status["calls"] == []
    (queue,) = status["queues"]
    assert queue["queue"] == "service" and queue["asterisk"] == "ccf-service"
    # every logged-in agent with general (chen is offline in agents.toml)
    assert queue["members"] == 3 and queue["waiting"] == 0
    assert {a["id"] for a in status["agents"]} == {"zhang", "li", "wang", "chen"}
    # the wrap-up: refused with the problem, then stored, in the store and the CRM
    assert bad.status_code == 400 and bad.json() == {
        "ok": False, "problems": ['resolved: expected true or false, got "maybe"']}
    assert good.status_code == 200
    assert good.json() == {"ok": True, "call_id": "1795700000.1", "agent": ANSWERED_BY,
                           "fields": {"reason": "order", "resolved": True,
                                      "order_number": "20261128"},
                           "stored": "now", "crm": "logged"}
    assert record["wrapup"]["values"] == {"reason": "order", "resolved": True,
                                          "order_number": "20261128"}
    assert record["agent"] == ANSWERED_BY and record["customer_id"] == "C1001"
    assert missing.status_code == 404 and refused.status_code == 401
    assert "wrapup_stored" in [r["kind"] for r in rows]
    crm = SqliteCRM(tmp_path / "crm.db", create=False)
    try:
        logged = [dict(r.fields) for r in crm.records("call_log")]
    finally:
        crm.close_now()
    entry = [e for e in logged if e.get("wrapup")]
    assert len(entry) == 1 and entry[0]["call_id"] == "1795700000.1"
    assert entry[0]["customer"] == "C1001" and entry[0]["agent"] == ANSWERED_BY
    assert entry[0]["wrapup"] == {"reason": "order", "resolved": True,
                                  "order_number": "20261128"}


def test_an_api_port_in_use_leaves_the_calls_served(tmp_path: Path) -> None:
    async def main():
        blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        taken = blocker.sockets[0].getsockname()[1]
        config, _ = setup(tmp_path, 9, "http://127.0.0.1:9/pop")
        live = LiveCentre(config, port=0, use_ami=False, api_port=taken)
        try:
            address = await ServedCentre(live).start()
            return address, live.api_address, live.api_error
        finally:
            await live.stop(0)
            blocker.close()

    address, api_address, error = asyncio.run(main())
    assert address[1] > 0 and api_address is None
    assert error is not None and error.startswith("127.0.0.1:")


# ---- the status tracker ----------------------------------------------------------------


class Centre:
    """A CentreView with fixed agents and a queue count from Asterisk."""

    def __init__(self, agents: list[Agent], waiting: int = 0) -> None:
        self._agents = agents
        self.waiting = waiting

    def agents(self) -> list[Agent]:
        return self._agents

    def queue_waiting(self, queue: str) -> int:
        return self.waiting


def test_the_status_follows_each_call_through_steps_queue_and_agent() -> None:
    start = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    tracker = StatusTracker()
    seq = iter(range(1, 100))

    def emit(call_id: str, seconds: int, kind: str, **data) -> None:
        tracker.emit(Event(call_id, next(seq), start + timedelta(seconds=seconds), kind, data))

    centre = Centre([Agent("li", "Li Na", queues=("service",), state=AgentState.BUSY),
                     Agent("zhang", "Zhang Wei", queues=("service",)),
                     Agent("wang", "Wang Fang", queues=("support",),
                           state=AgentState.PAUSED)], waiting=1)

    def view(seconds: int) -> dict:
        return snapshot(tracker=tracker, centre=centre, queues=["service", "support"],
                        version="0003", started=start, served=3,
                        ami="up", now=start + timedelta(seconds=seconds))

    emit("a", 0, "call_started", caller="+861", flow="hotline", flow_version="0003")
    emit("a", 1, "step_entered", step="main_menu")
    emit("b", 2, "call_started", caller="+862", flow="hotline", flow_version="0003")
    emit("b", 3, "step_entered", step="agent")
    emit("b", 4, "queue_joined", queue="service")
    emit("c", 5, "call_started", caller="+863", flow="hotline", flow_version="0003")
    emit("c", 6, "queue_joined", queue="service")
    emit("c", 8, "agent_offered", agent="li", via="queue")
    emit("c", 8, "agent_answered", agent="li")
    status = view(40)
    assert status["server"] == {"version": "0003", "started": start.isoformat(),
                                "calls_served": 3, "ami": "up"}
    calls = {c["call_id"]: c for c in status["calls"]}
    assert [c["call_id"] for c in status["calls"]] == ["a", "b", "c"]
    assert calls["a"] == {"call_id": "a", "flow": "hotline", "version": "0003",
                          "caller": "+861", "started": start.isoformat(), "seconds": 40.0,
                          "step": "main_menu", "state": "ivr", "queue": None, "agent": None}
    assert (calls["b"]["state"], calls["b"]["queue"], calls["b"]["step"]) == (
        "queue", "service", "agent")
    assert (calls["c"]["state"], calls["c"]["agent"]) == ("agent", "li")
    service, support = status["queues"]
    assert service == {"queue": "service", "asterisk": "ccf-service", "waiting": 1,
                       "longest_wait_s": 36.0, "members": 2, "available": 1}
    assert support["members"] == 1 and support["available"] == 0
    agents = {a["id"]: a for a in status["agents"]}
    assert agents["li"] == {"id": "li", "name": "Li Na", "state": "busy",
                            "current_call": "c", "queues": ["service"]}
    assert agents["zhang"]["current_call"] is None and agents["wang"]["state"] == "paused"
    # the queue gives b up, c's conversation ends, a hangs up
    emit("b", 50, "queue_left", queue="service", outcome="timeout")
    emit("c", 51, "conversation_ended", agent="li")
    emit("c", 51, "step_entered", step="after_agent")
    emit("a", 52, "call_ended", outcome="hangup")
    status = view(60)
    assert [(c["call_id"], c["state"], c["step"]) for c in status["calls"]] == [
        ("b", "ivr", "agent"), ("c", "ivr", "after_agent")]
    assert status["queues"][0]["longest_wait_s"] == 0.0
    assert status["queues"][0]["waiting"] == 1  # what Asterisk says
    assert all(a["current_call"] is None for a in status["agents"])
