"""A three-way call with a NUMBER brings in an outside party (a courier), not
an agent (issue 13): no `on answered by agent`, no screen pop, the call not
talked to an agent, the party not in the agents' report nor the live view as
one. A three-way with an agent stays an agent's answer. Both runtimes: the
simulator and ccf serve through the FastAGI peer."""

from __future__ import annotations

import pytest

from calls.world import ROOT, RUNTIMES, run_on
from ccdsl.runtime.operations.live_calls import StatusTracker
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.store import CallStore

FLOW = ROOT / "tests" / "scenarios" / "three_way_line.ccf"
COURIER = "+862150009999"
BOTH = "a courier joins by number, a supervisor as an agent"
ONLY_COURIER = "only a courier joins"


def _run(runtime: str, name: str, tmp_path):
    """The call, and the store run_on kept it in."""
    return run_on(runtime, FLOW, name, tmp_path), tmp_path / "calls.db"


def _kinds(run, kind: str) -> list[dict]:
    return [e.data for e in run.events if e.kind == kind]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_courier_by_number_is_an_outside_party_not_an_agent(runtime, tmp_path):
    run, store = _run(runtime, ONLY_COURIER, tmp_path)
    assert _kinds(run, "agent_answered") == []
    assert [d for d in _kinds(run, "handler_entered")
            if d["handler"] == "answered_by_agent"] == []
    assert _kinds(run, "screen_pop") == []
    (joined,) = _kinds(run, "party_joined")
    assert (joined["party"], joined["via"], joined["ring_ms"]) == (COURIER, "three_way", 3000)
    (left,) = _kinds(run, "party_left")
    assert (left["party"], left["ended_by"]) == (COURIER, "agent")
    assert left["talk_ms"] > 0
    assert _kinds(run, "conversation_ended") == []  # no agent's talk
    assert (run.result.talked_to_agent, run.result.agent) == (False, None)
    with CallStore(store) as calls:
        row = calls.call(run.result.call_id)
        legs = calls.query("SELECT * FROM agent_legs")
    assert (row["talked_to_agent"], row["agent"], row["talk_ms"] or 0) == (0, None, 0)
    assert legs == []
    report = make_report(str(store))
    (summary,) = report.section("summary").records()
    assert summary["answered"] == 0
    assert report.section("agents").rows == ()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_supervisor_by_agent_id_still_answers_as_an_agent(runtime, tmp_path):
    run, store = _run(runtime, BOTH, tmp_path)
    assert [d["agent"] for d in _kinds(run, "agent_answered")] == ["zhao"]
    assert [d["agent"] for d in _kinds(run, "screen_pop")] == ["zhao"]
    assert [d["party"] for d in _kinds(run, "party_joined")] == [COURIER]
    assert (run.result.talked_to_agent, run.result.agent) == (True, "zhao")
    with CallStore(store) as calls:
        row = calls.call(run.result.call_id)
    assert (row["talked_to_agent"], row["agent"]) == (1, "zhao")


def test_the_live_view_never_shows_the_courier_as_an_agent(tmp_path):
    run, _ = _run("sim", ONLY_COURIER, tmp_path)
    tracker = StatusTracker()
    for event in run.events:
        tracker.emit(event)
        if event.kind == "party_joined":
            (live,) = tracker.running()
            assert (live.state, live.agent) == ("party", None)
            assert live.party == COURIER
    assert tracker.running() == []


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_party_brought_in_is_shown_the_caller_id_asked_for(runtime, tmp_path):
    # `three_way ... caller_id X` is in the option tables; it was only accepted
    run, _ = _run(runtime, ONLY_COURIER, tmp_path)
    (event,) = _kinds(run, "three_way")
    assert (event["target"], event["caller_id"]) == (COURIER, "+862150000000")
    (rang,) = [d for k, d in run.line if k == "three_way" or (k == "dial" and
                                                                d.get("target") == COURIER)]
    assert rang["caller_id"] == "+862150000000"
