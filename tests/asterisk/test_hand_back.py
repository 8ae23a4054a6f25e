"""Calls `ccf serve` hands back to the dialplan at shutdown (issue 10, items
2, 3 and 6): the LiveCentre of a ccf.toml taking calls from the FastAGI
peer over 127.0.0.1, stopped with a short grace while a call is in an IVR
step, waits in Queue(), or talks to the agent Queue() connected. Each such
call is recorded as handed back (outcome `handed_back`), never as a
caller's hang-up, a drop or an abandon; the peer goes on, as Asterisk does,
at the next priority of the dialplan."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from doubles.raw import ScriptBackend

from asterisk.centre import WAIT_S, compiled, until, write_config
from ccdsl.runtime.asterisk import server as server_module
from ccdsl.runtime.asterisk.config import load_config
from ccdsl.runtime.asterisk.flowstore import FlowStore
from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.reports.model import Filters, Options
from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, AgiCommand, CallerLine
from ccdsl.runtime.testing.peer.sim_backend import agent_leg

GRACE_S = 0.3
FLOW = textwrap.dedent("""\
    flow desk:
      languages en-US

    queue service skills [general] max_wait 60s

    on start:
      answer
      goto main_menu

    step main_menu:
      wait 5s
      goto agents

    step agents:
      queue service
      hangup

    on hangup:
      log "on hangup ran"
    """)


class HoldingBackend(ScriptBackend):
    """A line whose command EXEC `app` holds until `release` is set, as
    Asterisk's Wait() or Queue() holds while the call goes on: the reply goes
    out only then, whoever closed the connection meanwhile. `holding` is set
    when it arrives."""

    def __init__(self, app: str) -> None:
        super().__init__()
        self.app = app
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def execute(self, cmd: AgiCommand) -> str | None:
        if cmd.verb == "EXEC" and cmd.arg(0).lower() == self.app.lower() \
                and not self.holding.is_set():
            self.holding.set()
            await asyncio.wait_for(self.release.wait(), WAIT_S)
        return await super().execute(cmd)


class GraceUntil:
    """The server module's asyncio, except that stop()'s grace (its first
    asyncio.wait, for the running calls) lasts until `over` is set rather
    than grace_s of the clock: what the test does during the grace surely
    falls within it, however loaded the machine. `used` says the grace was
    seen; `left` keeps what each later wait (the hand-over's) left pending."""

    def __init__(self, over: asyncio.Event) -> None:
        self.over = over
        self.used = False
        self.left: list[set] = []

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    async def wait(self, tasks, *, timeout=None, **options):
        if self.used:
            done, pending = await asyncio.wait(tasks, timeout=timeout, **options)
            self.left.append(set(pending))
            return done, pending
        self.used = True
        await asyncio.wait_for(self.over.wait(), WAIT_S)
        done = {task for task in tasks if task.done()}
        return done, set(tasks) - done


def setup(tmp_path: Path):
    (tmp_path / "desk.ccf").write_text(FLOW, encoding="utf-8")
    path = write_config(tmp_path, 1, numbers='"4008001234" = "desk"')
    config = load_config(path, environ={})
    FlowStore(config.flows_dir).deploy({"desk": compiled(tmp_path / "desk.ccf")},
                                       numbers=config.numbers, note="desk")
    return config


def run_and_stop(tmp_path: Path, backend: HoldingBackend, uniqueid: str,
                 during_grace=None, monkeypatch=None):
    """One call held by its backend; the centre stopped with GRACE_S while
    it holds, the backend's Wait() or Queue() returning only once the stop
    is over. `during_grace(port)`, if given, runs after the stop began, and
    the grace ends when it has finished (GraceUntil). Returns the peer's
    report, the backend, the call's record and the store's rows of it."""
    config = setup(tmp_path)

    async def main():
        live = LiveCentre(config, port=0, api_port=0, use_ami=False)
        _, port = await live.start()
        line = CallerLine(script="desk", uniqueid=uniqueid, callerid="+8613800000001",
                          channel="PJSIP/caller-00000001", extension="4008001234",
                          priority=2)
        call = asyncio.create_task(AgiCaller("127.0.0.1", port, backend, line,
                                             timeout=WAIT_S).run())
        try:
            await asyncio.wait_for(backend.holding.wait(), WAIT_S)
            grace = None
            if during_grace is not None:
                grace = GraceUntil(asyncio.Event())
                monkeypatch.setattr(server_module, "asyncio", grace)
            stopping = asyncio.create_task(live.server.stop(GRACE_S))
            if grace is not None:
                await until(lambda: live.server.stopping, "the server to begin stopping")
                await during_grace(port)
                assert not stopping.done() and grace.used, "the grace was over before"
                grace.over.set()
            handed = await stopping
            if grace is not None:
                monkeypatch.undo()
                # the hand-back ended the call and the agent's line: stop() cancelled
                # nothing after waiting HANDOVER_WAIT_S for it
                assert grace.left and not any(grace.left), grace.left
            backend.release.set()  # Wait() or Queue() returns: the peer finds the line closed
            report = await asyncio.wait_for(call, WAIT_S)
            store = live.store
            record = store.call(uniqueid)
            rows = {table: store.query(f"SELECT * FROM {table} WHERE call_id = ?", (uniqueid,))
                    for table in ("node_visits", "queue_visits", "agent_legs")}
            rows["centre_events"] = store.query(
                "SELECT kind, data FROM centre_events WHERE call_id = ?", (uniqueid,))
            rows["events"] = store.query(
                "SELECT kind, data FROM events WHERE call_id = ? ORDER BY seq", (uniqueid,))
        finally:
            call.cancel()
            await live.stop(0.1)
        return handed, report, backend, record, rows

    return asyncio.run(main())


def figures(tmp_path: Path) -> dict:
    """`ccf report`'s summary, the queue's and main_menu's rows of the store."""
    report = make_report(str(tmp_path / "calls.db"), Filters(), Options())
    [summary] = report.section("summary").records()
    queues = {r["queue"]: r for r in report.section("queues").records()}
    nodes = {r["node"]: r for r in report.section("nodes").records()}
    return {"summary": summary, "queue": queues.get("service"),
            "main_menu": nodes["main_menu"]}


def test_a_call_in_an_ivr_step_at_shutdown_is_handed_back_not_hung_up(tmp_path) -> None:
    handed, report, backend, record, rows = run_and_stop(
        tmp_path, HoldingBackend("Wait"), "1795800000.1")
    assert handed == 1
    # Asterisk: the AGI ends when Wait() returns; the dialplan goes on at
    # the next priority (the fallback), the caller still on the line
    assert report.closed_by == "server" and not report.hangup_sent
    assert report.continued_at == ("ccf-inbound", "4008001234", 3)
    assert record["outcome"] == "handed_back"
    assert record["ended_by"] == "handed_back"
    assert record["ended"] is not None
    [menu] = [v for v in rows["node_visits"] if v["node"] == "main_menu"]
    assert menu["dropped"] == 0  # not a drop of main_menu
    hangup = [e for e in rows["events"] if e["kind"] == "hangup"]
    assert len(hangup) == 1 and '"by":"handed_back"' in hangup[0]["data"]
    assert [e["kind"] for e in rows["centre_events"]] == ["call_handed_back"]
    assert '"outcome":"handed_back"' in rows["centre_events"][0]["data"]
    # on hangup still runs, after the call: nothing of the line is faked
    assert any(e["kind"] == "log" and "on hangup ran" in e["data"] for e in rows["events"])
    seen = figures(tmp_path)
    assert seen["summary"]["transferred"] == 1  # handed to the dialplan
    assert seen["summary"]["abandoned"] == 0 and seen["summary"]["answered"] == 0
    assert seen["main_menu"]["dropped"] == 0


def test_a_caller_waiting_in_queue_at_shutdown_is_handed_back_not_abandoned(tmp_path) -> None:
    handed, report, backend, record, rows = run_and_stop(
        tmp_path, HoldingBackend("Queue"), "1795800000.2")
    assert handed == 1
    assert report.closed_by == "server"
    assert report.continued_at == ("ccf-inbound", "4008001234", 3)
    assert record["outcome"] == "handed_back"
    assert record["ended_by"] == "handed_back"
    assert record["talked_to_agent"] == 0
    assert record["wait_ms"] is not None and record["wait_ms"] >= GRACE_S * 1000 * 0.5
    [visit] = rows["queue_visits"]
    assert visit["outcome"] == "handed_back"  # not `hangup`: the caller stayed queued
    assert all(v["dropped"] == 0 for v in rows["node_visits"])
    seen = figures(tmp_path)
    assert seen["summary"]["transferred"] == 1 and seen["summary"]["abandoned"] == 0
    assert seen["queue"]["offered"] == 1
    assert seen["queue"]["abandoned"] == 0 and seen["queue"]["answered"] == 0


def test_an_agent_answering_during_the_grace_is_recorded(tmp_path, monkeypatch) -> None:
    async def answer(port: int) -> None:
        # the agent's ccf-answered Gosub: its AGI ends once the server has
        # taken the answer (a server that never did would fail it at WAIT_S)
        await agent_leg("127.0.0.1", port, timeout=WAIT_S)("1795800000.3", "zhang")
        await asyncio.sleep(0.05)  # they talk a moment before the hand-back

    handed, report, _, record, rows = run_and_stop(
        tmp_path, HoldingBackend("Queue"), "1795800000.3", answer, monkeypatch)
    assert handed == 1
    assert record["outcome"] == "handed_back"
    assert record["talked_to_agent"] == 1 and record["agent"] == "zhang"
    assert record["talk_ms"] is not None and record["talk_ms"] > 0  # until the hand-back
    [visit] = rows["queue_visits"]
    assert visit["outcome"] == "answered" and visit["agent"] == "zhang"
    assert visit["talk_ms"] == record["talk_ms"]
    [leg] = rows["agent_legs"]
    assert leg["outcome"] == "answered" and leg["talk_ms"] == record["talk_ms"]
    assert leg["ended_by"] == "handed_back"
    seen = figures(tmp_path)
    assert seen["summary"]["answered"] == 1 and seen["summary"]["transferred"] == 1
    assert seen["summary"]["abandoned"] == 0
    assert seen["queue"]["answered"] == 1 and seen["queue"]["abandoned"] == 0
    assert seen["queue"]["avg_talk_ms"] == record["talk_ms"]
