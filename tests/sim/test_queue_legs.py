"""Every ring of a queue member is an agent leg with its outcome, as a dial's
ring is (issue 10): the simulator reports each ring to the flow (agent_offered
via queue, agent_no_answer), the call store folds them into agent_legs, and
the report's agents section counts a missed queue ring as a miss."""

from __future__ import annotations

from pathlib import Path

import pytest
from queue_line import line_flow

from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim import HangUp
from ccdsl.runtime.sim.scenario import run_simulation, simulation

# `never` lets every call ring out; it is first in member order, so the
# strategies pick it first among equals (as app_queue did in the captures)
AGENTS = (AgentSpec("never", {"general": 1}, answer_after_ms=None),
          AgentSpec("a1", {"general": 1}, answer_after_ms=2_000),
          AgentSpec("a2", {"general": 1}, answer_after_ms=2_000))


def simulate(ir: dict, store: Path, actions=()) -> list:
    scenario = simulation(ir, caller="+8613800000001", at="2026-12-07 10:00 UTC",
                          actions=actions, agents=AGENTS)
    return run_simulation(ir, scenario, store_path=str(store)).events


def legs(store: Path) -> list[tuple]:
    with CallStore(store) as db:
        return [(r["agent"], r["via"], r["queue"], r["outcome"], r["ring_ms"])
                for r in db.query("SELECT * FROM agent_legs ORDER BY seq")]


def test_a_ring_no_answer_then_an_answer_are_two_legs(tmp_path: Path) -> None:
    store = tmp_path / "calls.db"
    events = simulate(line_flow(tmp_path), store)
    rings = [(e.kind, e.data.get("agent")) for e in events
             if e.kind in ("agent_offered", "agent_no_answer", "agent_answered")]
    assert rings == [("agent_offered", "never"), ("agent_no_answer", "never"),
                     ("agent_offered", "a1"), ("agent_answered", "a1")]
    no_answer = next(e for e in events if e.kind == "agent_no_answer")
    assert no_answer.data == {"agent": "never", "via": "queue", "queue": "service",
                              "ring_ms": 5_000}
    assert legs(store) == [("never", "queue", "service", "missed", 5_000),
                           ("a1", "queue", "service", "answered", 2_000)]


def test_the_report_counts_a_missed_queue_ring_as_a_miss(tmp_path: Path) -> None:
    store = tmp_path / "calls.db"
    simulate(line_flow(tmp_path), store)
    rows = {r["agent"]: r for r in make_report(str(store)).section("agents").records()}
    assert (rows["never"]["offered"], rows["never"]["missed"], rows["never"]["answered"]) \
        == (1, 1, 0)
    assert (rows["a1"]["offered"], rows["a1"]["answered"], rows["a1"]["missed"]) == (1, 1, 0)


def test_without_autopause_the_same_member_rings_out_each_time(tmp_path: Path) -> None:
    store = tmp_path / "calls.db"
    simulate(line_flow(tmp_path, autopause="no"), store, actions=(HangUp(after_ms=23_000),))
    # rings at 0, 10 and 20 s (a 5 s ring, app_queue's 5 s retry); the caller
    # leaves at 23 s while the third rings
    assert legs(store) == [("never", "queue", "service", "missed", 5_000),
                           ("never", "queue", "service", "missed", 5_000),
                           ("never", "queue", "service", "caller_gone", None)]


@pytest.mark.parametrize("strategy", ["ringall"])
def test_ringall_the_others_are_missed_when_one_answers(tmp_path: Path, strategy: str) -> None:
    store = tmp_path / "calls.db"
    simulate(line_flow(tmp_path, strategy=strategy), store)
    assert sorted((leg[0], leg[3]) for leg in legs(store)) == [
        ("a1", "answered"), ("a2", "missed"), ("never", "missed")]


def test_a_caller_who_leaves_while_it_rings(tmp_path: Path) -> None:
    store = tmp_path / "calls.db"
    simulate(line_flow(tmp_path), store, actions=(HangUp(after_ms=3_000),))
    assert [(leg[0], leg[3]) for leg in legs(store)] == [("never", "caller_gone")]
