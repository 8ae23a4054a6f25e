"""Faults as tests, through a FlowServer on 127.0.0.1 and the FastAGI peer:
the caller hangs up at every command of every example flow; the AMI link
drops mid-call and comes back; the CRM is slow or down; the peer sends a
broken header block, nothing at all, or closes the socket early. Each
ends in a defined outcome with a call record (when a flow ran), nothing
escapes as an exception, and the same server serves the next call."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from doubles import logs
from doubles.ami_server import AmiPeer
from doubles.raw import ScriptBackend
from ports import free_port
from serve_limits.helpers import ServerRig, flow_ir

from asterisk.centre import WAIT_S, compiled, until, write_config
from ccdsl.runtime.asterisk import server as server_module
from ccdsl.runtime.asterisk.ami_centre import AmiCentre
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.clock import SystemClock
from ccdsl.runtime.core.crm.connect import open_crm
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.testing.peer.agi_caller import (
    AgiCaller,
    AgiCommand,
    CallerLine,
    CallerReport,
    find_command,
)

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
# every example flow a call starts in
FLOWS = [IWS / "hotline.ccf", *sorted(p for p in (ROOT / "tests" / "scenarios").glob("*.ccf")
                                      if "\non start:" in p.read_text(encoding="utf-8"))]
SECRET = "faults-secret"
CRM_TIMEOUT_MS = 200
AGENTS = [Agent(id="zhang", name="Zhang Wei", extension="8001", skills={"general": 8}),
          Agent(id="wang", name="Wang Fang", extension="8003", skills={"tech": 8})]
caplog_ccdsl = logs.caplog_ccdsl  # the fixture
problems = logs.problems


class Rig(ServerRig):
    """A ServerRig with a call store, a CRM, the agents and text-to-speech
    in a folder."""

    def __init__(self, tmp_path: Path, flows: dict[str, dict], *, crm=None) -> None:
        store = CallStore(tmp_path / "calls.db")
        self.crm = crm if crm is not None else SqliteCRM(tmp_path / "crm.db")
        self.centre = AmiCentre(AGENTS, "PJSIP/{extension}")
        config = RuntimeConfig(recordings_dir=str(tmp_path / "recordings"),
                               crm_timeout_ms=CRM_TIMEOUT_MS)
        services = Services(clock=SystemClock(), crm=self.crm, centre=self.centre,
                            history=store, sink=store, config=config)
        super().__init__(tmp_path, flows, store, services, agents=self.centre.agent)
        self.calls = 0

    async def call(self, script: str, backend=None, *, callerid: str = "+8613800000001",
                   uniqueid: str | None = None) -> tuple[str, CallerReport]:
        """One call; its call id and the peer's report, once the server has
        filed its result (or closed a connection that ran no flow)."""
        self.calls += 1
        call_id = uniqueid or f"1795660000.{self.calls}"
        line = CallerLine(script=script, uniqueid=call_id, callerid=callerid,
                          channel=f"PJSIP/caller-{self.calls:08x}")
        served = self.server.served
        report = await AgiCaller("127.0.0.1", self.port, backend or ScriptBackend(), line,
                                 timeout=WAIT_S).run()
        # the server closes the line before it files the result
        await until(lambda: self.server.calls_running == 0
                    and (call_id in self.results or self.server.served == served),
                    "the call to be filed")
        return call_id, report

    def record(self, call_id: str) -> dict | None:
        return self.store.call(call_id)


def verbs(commands: list[str]) -> list[str]:
    """The AGI verbs of command lines (their arguments name files of the call)."""
    return [find_command(c)[1].verb for c in commands]


# ---- the caller hangs up at every command -----------------------------------------------


@pytest.mark.parametrize("path", FLOWS, ids=[p.stem for p in FLOWS])
def test_the_caller_hangs_up_at_every_command(path: Path, tmp_path: Path,
                                              caplog_ccdsl) -> None:
    ir = compiled(path)
    name = ir["flow"]["name"] if isinstance(ir.get("flow"), dict) else path.stem

    async def main():
        async with Rig(tmp_path, {name: ir}) as rig:
            full_id, full = await rig.call(name)
            runs = []
            for k in range(1, len(full.commands) + 1):
                call_id, report = await rig.call(name, ScriptBackend(hang_up_at=k))
                runs.append((k, report, rig.record(call_id), rig.results.get(call_id)))
            last_id, last = await rig.call(name)
            return (full, rig.record(full_id), runs, last, rig.record(last_id),
                    rig.server.served)

    full, full_record, runs, last, last_record, served = asyncio.run(main())
    assert len(full.commands) >= 3 and full.closed_by == "server"
    assert full_record["outcome"] is not None
    assert served == len(runs) + 2
    for k, report, record, result in runs:
        assert record is not None and record["outcome"] is not None, (k, report.commands)
        assert record["ended"] is not None, k
        assert result is not None, k
        # the call went as the full one did up to the hang-up, then stopped asking
        assert verbs(report.commands[:k]) == verbs(full.commands[:k]), k
        assert report.hangup_sent, k
        if k < len(full.commands):
            assert result.hung_up_by == "caller" or record["outcome"] == "transfer", \
                (k, full.commands[k - 1], result)
            assert len(report.commands) < len(full.commands) + 1, k
    assert verbs(last.commands) == verbs(full.commands)
    assert last_record["outcome"] == full_record["outcome"]
    assert problems(caplog_ccdsl) == []


# ---- the AMI link drops mid-call ----------------------------------------------------------


class HeldBackend(ScriptBackend):
    """Holds the first EXEC (the flow's `wait`) for hold_s seconds."""

    def __init__(self, hold_s: float) -> None:
        super().__init__()
        self.hold_s = hold_s
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def execute(self, cmd: AgiCommand) -> str | None:
        if cmd.verb == "EXEC" and not self.holding.is_set():
            self.holding.set()
            await asyncio.wait_for(self.release.wait(), self.hold_s)
        return await super().execute(cmd)


WAITING_FLOW = """\
flow line:
  languages en-US

on start:
  answer
  play tts "Please hold."
  wait 5s
  play tts "Thank you for holding."
  hangup
"""


def test_the_ami_link_drops_mid_call_and_returns(tmp_path: Path, caplog_ccdsl) -> None:
    (tmp_path / "line.ccf").write_text(WAITING_FLOW, encoding="utf-8")
    config_path = tmp_path / "ccf.toml"

    async def main():
        peer = AmiPeer(users={"ccf": SECRET}, queues=("ccf-service", "ccf-support"))
        await peer.start()
        write_config(config_path.parent, peer.port)
        config = load_config(config_path, environ={"CCF_AMI_SECRET": SECRET})
        FlowStore(config.flows_dir).deploy(
            {"line": compiled(tmp_path / "line.ccf"),
             "hotline": compiled(IWS / "hotline.ccf")}, numbers=config.numbers)
        live = LiveCentre(config, port=0, api_port=0)
        try:
            _, port = await live.start()
            held = HeldBackend(hold_s=WAIT_S)
            line = CallerLine(script="line", uniqueid="1795660100.1", callerid="+8613800000001")
            call = asyncio.create_task(
                AgiCaller("127.0.0.1", port, held, line, timeout=WAIT_S).run())
            await asyncio.wait_for(held.holding.wait(), WAIT_S)
            logins = sum(1 for a in peer.actions if a["Action"] == "Login")
            peer.drop()  # Asterisk restarts, or the network fails
            await until(lambda: not live.ami.connected, "the link to notice the drop")
            peer.set_device_state("PJSIP/8001", "INUSE")  # nobody hears this one
            await until(lambda: live.ami.connected and peer.logged_in == 1
                        and [a["Action"] for a in peer.actions].count("DeviceStateList") == 2,
                        "the link to come back and resync")
            peer.set_device_state("PJSIP/8002", "INUSE")  # after the reconnect
            await until(lambda: live.centre.agent("li").state.name == "BUSY",
                        "li to be busy")
            held.release.set()
            report = await asyncio.wait_for(call, WAIT_S)
            await until(lambda: live.server.calls_running == 0, "the call to end")
            record = live.store.call("1795660100.1")
            events = live.store.query("SELECT kind, data FROM centre_events ORDER BY id")
            # and the server takes the next call
            nxt = await AgiCaller("127.0.0.1", port, ScriptBackend(), CallerLine(
                script="line", uniqueid="1795660100.2"), timeout=WAIT_S).run()
            nxt_record = live.store.call("1795660100.2")
        finally:
            await live.stop(1.0)
            await peer.stop()
        return logins, peer.actions, report, record, events, nxt, nxt_record

    logins, actions, report, record, events, nxt, nxt_record = asyncio.run(main())
    assert logins == 1
    names = [a["Action"] for a in actions]
    assert names.count("Login") == 2 and names.count("QueueStatus") == 2
    second_login = [i for i, n in enumerate(names) if n == "Login"][1]
    assert "QueueStatus" in names[second_login:] and "QueueAdd" in names[second_login:]
    assert report.commands[-1] == "HANGUP" and report.closed_by == "server"
    assert record["outcome"] == "hangup" and record["ended_by"] == "flow"
    changes = [json.loads(e["data"]).get("Device") for e in events
               if e["kind"] == "DeviceStateChange"]
    assert "PJSIP/8002" in changes  # recorded after the reconnect
    assert nxt.commands[-1] == "HANGUP" and nxt_record["outcome"] == "hangup"
    assert problems(caplog_ccdsl) == []


# ---- the CRM is slow or down --------------------------------------------------------------

CRM_FLOW = """\
flow crm_line:
  languages en-US

on start:
  answer
  customer = crm.customer(phone: caller.number) on error -> goto sorry
  name = customer.name ?? "stranger"
  play tts "Hello ${name}."
  hangup

step sorry:
  play tts "Sorry, our records are not available."
  hangup
"""


class SlowCRM:
    """A CRM that answers nothing until `answer` is set (the test sets it once
    the call has ended): a flow that waited for it beyond crm_timeout_ms would
    never end."""

    def __init__(self) -> None:
        self.answer = asyncio.Event()
        self.asked = 0
        self.answered = 0

    async def _slow(self) -> None:
        await asyncio.wait_for(self.answer.wait(), WAIT_S)
        self.answered += 1

    async def find_customer(self, phone: str):
        self.asked += 1
        await self._slow()
        return None

    async def log_call(self, call) -> None:
        await self._slow()

    async def close(self) -> None:
        return None


class DownCRM:
    """A CRM whose every look-up fails at once."""

    def __init__(self) -> None:
        self.asked = 0

    async def find_customer(self, phone: str):
        self.asked += 1
        raise ExternalError("the CRM is down", service="crm")

    async def log_call(self, call) -> None:
        return None

    async def close(self) -> None:
        return None


def http_crm_on_a_closed_port():
    return open_crm({"adapter": "http", "base_url": f"http://127.0.0.1:{free_port()}",
                     "timeout_ms": 500, "retries": 0, "operations": {
                         "find_customer": {"url": "/customers?phone={phone}",
                                           "result": "data.0"}}})


@pytest.mark.parametrize("kind", ["slow", "down", "http-closed-port"])
def test_the_crm_is_slow_or_down(kind: str, tmp_path: Path, caplog_ccdsl) -> None:
    ir = flow_ir(tmp_path, CRM_FLOW)

    async def main():
        crm = {"slow": SlowCRM, "down": DownCRM,
               "http-closed-port": http_crm_on_a_closed_port}[kind]()
        async with Rig(tmp_path, {"crm_line": ir}, crm=crm) as rig:
            call_id, report = await rig.call("crm_line")
            # the call ended, and was filed, before the slow CRM answered anything
            unanswered = getattr(crm, "answered", None)
            if kind == "slow":
                crm.answer.set()
            return (report, rig.record(call_id), rig.store.events(call_id), unanswered,
                    rig.server.served)

    report, record, events, unanswered, served = asyncio.run(main())
    [query] = [e["data"] for e in events if e["kind"] == "crm_query"]
    assert query["operation"] == "customer" and query["error"], query
    if kind == "slow":
        assert f"did not answer customer within {CRM_TIMEOUT_MS} ms" in query["error"]
        assert unanswered == 0, "the flow waited for the slow CRM beyond crm_timeout_ms"
    entered = [e["data"]["step"] for e in events if e["kind"] == "step_entered"]
    assert entered == ["sorry"]
    heard = [s["text"] for e in events if e["kind"] == "prompt_played"
             for s in e["data"]["sounds"]]
    assert heard == ["Sorry, our records are not available."]
    assert report.commands[-1] == "HANGUP"
    assert record["outcome"] == "hangup" and record["ended_by"] == "flow"
    assert served == 1
    assert problems(caplog_ccdsl) == []


def test_the_hotline_goes_on_when_the_crm_is_down(tmp_path: Path, caplog_ccdsl) -> None:
    async def main():
        async with Rig(tmp_path, {"hotline": compiled(IWS / "hotline.ccf")},
                       crm=DownCRM()) as rig:
            call_id, report = await rig.call("hotline")
            return report, rig.record(call_id), rig.store.events(call_id)

    report, record, events = asyncio.run(main())
    assert [e["data"]["error"] for e in events if e["kind"] == "crm_query"][0]
    assert record["outcome"] is not None and record["customer_id"] is None
    assert report.commands[0] == "ANSWER" and report.closed_by == "server"
    assert problems(caplog_ccdsl) == []


# ---- the peer breaks the protocol ---------------------------------------------------------

LINE_FLOW = """\
flow line:
  languages en-US

on start:
  answer
  play tts "Welcome."
  wait 1s
  play tts "Goodbye."
  hangup
"""


def faulty(fault: str) -> ScriptBackend:
    if fault == "close-after-header":
        return ScriptBackend(close_after_header=True)
    if fault.startswith("close-at-"):
        return ScriptBackend(close_at=int(fault.rsplit("-", 1)[1]))
    return ScriptBackend(header=fault)


async def stalled(port: int) -> CallerReport:
    """A peer that connects and sends nothing until the server cuts it off:
    the commands it was sent (none, said as a report)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        sent = await asyncio.wait_for(reader.read(), WAIT_S)
    finally:
        writer.close()
    return CallerReport(commands=sent.decode("utf-8").splitlines(), closed_by="server")


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and r.name.startswith("ccdsl")]


HEADER_FAULTS = ["truncated", "malformed", "garbage", "oversized", "none", "stall"]
CALL_FAULTS = ["close-after-header", "close-at-1", "close-at-2", "close-at-3"]


@pytest.mark.parametrize("fault", HEADER_FAULTS + CALL_FAULTS)
def test_a_broken_peer_is_closed_and_the_next_call_is_served(
        fault: str, tmp_path: Path, caplog_ccdsl, monkeypatch) -> None:
    # the header must be whole within this; a stalled peer is cut off then
    monkeypatch.setattr(server_module, "HEADER_TIMEOUT_S", 0.3)
    ir = flow_ir(tmp_path, LINE_FLOW)

    async def main():
        async with Rig(tmp_path, {"line": ir}) as rig:
            if fault == "stall":
                bad_id, bad = "stalled", await stalled(rig.port)
            else:
                bad_id, bad = await rig.call("line", faulty(fault))
            if fault in HEADER_FAULTS:  # the server is done with the block it refused
                await until(lambda: any("refused" in w for w in warnings_of(caplog_ccdsl)),
                            "the refused header's warning")
            good_id, good = await rig.call("line")
            return (bad, rig.record(bad_id), rig.results.get(bad_id), good,
                    rig.record(good_id), rig.server.served)

    bad, bad_record, bad_result, good, good_record, served = asyncio.run(main())
    assert good.commands[0] == "ANSWER" and good.commands[-1] == "HANGUP"
    assert good_record["outcome"] == "hangup" and good_record["ended_by"] == "flow"
    warnings = warnings_of(caplog_ccdsl)
    if fault in HEADER_FAULTS:
        # no flow ran: nothing to record; the server said why, as a warning
        assert served == 1 and bad_record is None and bad.commands == []
        assert any("refused" in w for w in warnings), warnings
    else:
        # the flow ran and lost its caller: a record that says so
        assert served == 2
        assert bad_record is not None and bad_record["outcome"] is not None
        assert bad_result.hung_up_by == "caller"
    if fault == "truncated":
        assert any("before the end of the agi_ header block" in w for w in warnings), warnings
    if fault == "stall":
        assert any("not complete within" in w for w in warnings), warnings
    assert problems(caplog_ccdsl) == []


QUEUE_FLOW = """\
flow queue_line:
  languages en-US

queue service skills [general] max_wait 60s

on start:
  answer
  queue service
  play tts "Nobody took your call."
  hangup
"""


def test_a_hang_up_as_the_call_joins_a_queue_is_abandoned_not_an_error(tmp_path: Path) -> None:
    """The caller hangs up while the channel sets QUEUE_PRIO (the async
    HANGUP line arrives): Queue() on the dead channel returns at once
    without QUEUESTATUS. The call was abandoned; it is no error, and the
    record must not blame queues.conf."""
    ir = flow_ir(tmp_path, QUEUE_FLOW)

    async def main():
        async with Rig(tmp_path, {"queue_line": ir}) as rig:
            _, full = await rig.call("queue_line")
            k = verbs(full.commands).index("SET VARIABLE") + 1
            assert full.commands[k - 1].startswith("SET VARIABLE QUEUE_PRIO")
            call_id, report = await rig.call("queue_line", ScriptBackend(hang_up_at=k))
            return report, rig.record(call_id), rig.results[call_id]

    report, record, result = asyncio.run(main())
    assert result.hung_up_by == "caller", (report.commands, record)
    assert record["outcome"] == "abandoned", (record["outcome"], record["error"])
    assert record["error"] is None
