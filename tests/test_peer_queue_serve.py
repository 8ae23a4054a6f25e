"""Queue rings through `ccf serve`, decided by the test peer's app_queue, not told by the test.

A LiveCentre from a ccf.toml (the IWS agents: zhang PJSIP/8001, li 8002, wang 8003) links to
the AMI test peer, whose app_queue holds the queues_ccf.conf `ccf deploy` writes; the FastAGI
peer's caller runs EXEC Queue on that app_queue, which rings the members and sends app_queue's
events over AMI. What ccf serve makes of them is read from the call store's SQLite file. And
`ccf test --via asterisk` (AgiTestbed) rings by the same rules.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from asterisk.test_serve import serving_a_queue_line, until
from queue_line import call_the_line, line_flow, line_source

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.sim.scenario import simulation
from ccdsl.runtime.testing.blocks import scenario_from_test
from ccdsl.runtime.testing.peer.app_queue import Phone
from ccdsl.runtime.testing.via_asterisk import AgiTestbed

CALLER = "+8613800000001"
CALL_ID = "1796600000.7"
# the IWS agents' phones: wang lets every call ring out, li answers after 3 s,
# zhang after 4 s (agents.toml's answer_after)
PHONES = {"wang": Phone(answer_after_ms=None), "li": Phone(answer_after_ms=3_000),
          "zhang": Phone(answer_after_ms=4_000)}


def legs(store: Path) -> list[tuple]:
    """The call's agent legs, as a report would read them from the file. A
    missed ring's length is app_queue's RingTime; an answered one's is
    measured by ccf serve on its own clock, while the peer's ring took
    virtual seconds, so it is left out."""
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT agent, via, queue, outcome, ring_ms FROM agent_legs "
                          "WHERE call_id = ? ORDER BY seq", (CALL_ID,)).fetchall()
    return [(*row[:4], None if row[3] == "answered" else row[4]) for row in rows]


def serve_a_call(tmp_path: Path, ir: dict, phones: dict | None = None) -> dict:
    """One caller through ccf serve; what the peer and ccf serve saw."""
    async def main():
        async with serving_a_queue_line(tmp_path, ir, phones or PHONES,
                                        ("ccf-service", "ccf-support")) as (live, peer, port):
            scenario = simulation(ir, caller=CALLER, at="2026-12-07 10:00 UTC")
            _, backend = await call_the_line(port, ir, scenario, peer.app_queue,
                                             call_id=CALL_ID, channel="PJSIP/caller-00000007")
            await until(lambda: (live.store.call(CALL_ID) or {}).get("outcome") is not None,
                        "the call's record")
            live.store.flush()
            store = live.config.store_path
            with sqlite3.connect(store) as db:
                pauses = db.execute("SELECT json_extract(data, '$.Queue'), "
                                    "json_extract(data, '$.PausedReason') FROM centre_events "
                                    "WHERE kind = 'QueueMemberPause' ORDER BY id").fetchall()
                ended = db.execute("SELECT agent, ended_by FROM agent_legs WHERE call_id = ? "
                                   "AND outcome = 'answered'", (CALL_ID,)).fetchall()
            return {"legs": legs(store), "pauses": pauses, "ended": ended,
                    "states": {a.id: a.state for a in live.centre.agents()},
                    "paused_in": {q.name: sorted(m.name for m in q.members.values() if m.paused)
                                  for q in peer.queues.values()},
                    "agi": backend.variables, "record": live.store.call(CALL_ID)}

    return asyncio.run(main())


def test_the_member_who_lets_it_ring_out_is_missed_and_paused_in_that_queue(tmp_path) -> None:
    seen = serve_a_call(tmp_path, line_flow(tmp_path, "leastrecent", "yes", support=True))
    # leastrecent rang wang first (PJSIP/8003, last in app_queue's member
    # container), 5 s, no answer; paused in `service` only; then li (8002 before
    # 8001 among those with no call) answered after 3 s
    assert seen["legs"] == [("wang", "queue", "service", "missed", 5_000),
                            ("li", "queue", "service", "answered", None)]
    assert seen["pauses"] == [("ccf-service", "Auto-Pause")]
    assert seen["paused_in"] == {"ccf-service": ["wang"], "ccf-support": []}
    # still free for `support`, where it is not paused
    assert seen["states"]["wang"] == AgentState.AVAILABLE
    assert seen["agi"]["QUEUESTATUS"] == "CONTINUE" and seen["agi"]["MEMBERNAME"] == "li"
    assert seen["record"]["agent"] == "li"


def test_a_caller_who_hangs_up_on_the_agent_ended_the_conversation(tmp_path) -> None:
    """With Queue()'s `c` option app_queue answers 0 and CONTINUE whoever
    hung up; the caller's hang-up reaches ccf serve as the AGI's HANGUP, so
    the conversation was ended by the caller, not the agent."""
    phones = {**PHONES, "li": Phone(answer_after_ms=3_000, talk_ms=20_000, hangs_up="caller")}
    seen = serve_a_call(tmp_path, line_flow(tmp_path, "leastrecent", "yes", support=True),
                        phones)
    assert seen["ended"] == [("li", "caller")]
    assert seen["record"]["ended_by"] == "caller"
    assert seen["record"]["talk_ms"] >= 0 and seen["record"]["agent"] == "li"


def test_autopause_all_pauses_the_member_in_every_queue_through_serve(tmp_path) -> None:
    seen = serve_a_call(tmp_path, line_flow(tmp_path, "leastrecent", "all", support=True))
    assert seen["legs"] == [("wang", "queue", "service", "missed", 5_000),
                            ("li", "queue", "service", "answered", None)]
    # one QueueMemberPause per queue wang is in, in app_queue's order of queues
    assert seen["pauses"] == [("ccf-support", "Auto-Pause"), ("ccf-service", "Auto-Pause")]
    assert seen["paused_in"] == {"ccf-service": ["wang"], "ccf-support": ["wang"]}
    assert seen["states"]["wang"] == AgentState.PAUSED  # ccf serve's mirror: paused everywhere


def test_ringall_rings_everyone_and_the_first_to_answer_takes_it(tmp_path) -> None:
    seen = serve_a_call(tmp_path, line_flow(tmp_path, "ringall", "yes", support=True))
    # three offers at once, in the order app_queue rang them (its member
    # container backwards: 8003, 8002, 8001); li answered first. The other
    # two rings ended with no event of their own (hangupcalls sends none), so
    # ccf serve closes them as missed with no length; nobody is auto-paused
    assert seen["legs"] == [("wang", "queue", "service", "missed", None),
                            ("li", "queue", "service", "answered", None),
                            ("zhang", "queue", "service", "missed", None)]
    assert seen["pauses"] == [] and seen["paused_in"]["ccf-service"] == []


# ---- ccf test --via asterisk ----------------------------------------------------------

BLOCK = """\
test "li answers after wang rang out":
  at "2026-12-07 10:00 Asia/Shanghai"
  agent li skills [general] extension "8002" answer_after 2s
  agent wang skills [general] extension "8003" state "ringing-no-answer"
  call from "+8613800000001"
  expect queue service
  expect answered by li
"""


def test_ccf_test_via_asterisk_rings_by_app_queues_rules(tmp_path) -> None:
    """The simulator rings li first (declared first, among equals); app_queue
    rings wang (PJSIP/8003 after 8002 in its member container): over FastAGI
    the peer decides, so wang's ring-out is a missed leg before li answers."""
    path = tmp_path / "line.ccf"
    path.write_text(line_source("leastrecent", "yes", support=True) + "\n" + BLOCK,
                    encoding="utf-8")
    result = compile_file(str(path))
    assert result.ok and result.ir is not None, [d.message for d in result.diagnostics]
    ir = result.ir

    async def main():
        bed = AgiTestbed(load_program(ir, validate=False), ir, workdir=str(tmp_path / "bed"))
        await bed.start()
        try:
            run = await bed.call(scenario_from_test(ir, ir["tests"][0]))
            rows = bed.store.query("SELECT agent, outcome, ring_ms FROM agent_legs "
                                   "WHERE call_id = ? ORDER BY seq", (run.result.call_id,))
        finally:
            await bed.stop()
        return [(r["agent"], r["outcome"], r["ring_ms"]) for r in rows]

    (tmp_path / "bed").mkdir()
    assert asyncio.run(main()) == [("wang", "missed", 5_000), ("li", "answered", 2_000)]

