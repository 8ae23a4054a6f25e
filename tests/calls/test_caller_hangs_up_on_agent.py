"""A caller who hangs up while talking to an agent: the conversation's talk
time and who ended it reach the call store, in the simulator as over FastAGI
(tests/test_peer_queue_serve.py), before the call ends as a hang-up."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

from calls.world import compiled
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.sim.caller import HangUp
from ccdsl.runtime.sim.scenario import run_simulation, simulation

FLOW = textwrap.dedent("""\
    flow talk_line:
      languages en-US

    queue service skills [general] max_wait 60s

    on start:
      answer
      queue service
      play tts "Thank you."
      hangup
    """)


def test_the_talk_and_the_caller_ending_it_are_stored(tmp_path: Path) -> None:
    path = tmp_path / "talk_line.ccf"
    path.write_text(FLOW, encoding="utf-8")
    ir = compiled(path)
    li = AgentSpec(id="li", skills={"general": 0}, answer_after_ms=2_000)
    store = tmp_path / "calls.db"
    # li answers 2 s in; the caller hangs up 30 s into the call, 28 s into the talk
    run = run_simulation(ir, simulation(ir, caller="+8613800000001", at="2026-11-30 10:00",
                                        agents=(li,), actions=(HangUp(after_ms=30_000),)),
                         store_path=str(store))
    ended = [e.data for e in run.events if e.kind == "conversation_ended"]
    assert ended == [{"agent": "li", "talk_ms": 28_000, "ended_by": "caller", "wrapup": False}]
    assert "Thank you." not in [e.data.get("text") for e in run.events]
    with sqlite3.connect(store) as db:
        call = db.execute("SELECT outcome, ended_by, talk_ms, agent FROM calls").fetchone()
        leg = db.execute("SELECT outcome, talk_ms, ended_by FROM agent_legs").fetchone()
    assert call == ("hangup", "caller", 28_000, "li")
    assert leg == ("answered", 28_000, "caller")
