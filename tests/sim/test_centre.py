"""The simulated centre: members, queue order, strategies, empty queues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.centre import Agent, AgentState, parse_state
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.sim.centre import (
    NEVER_FREE_WAIT_MS,
    AgentScript,
    SimCentre,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def centre(*agents: tuple[str, AgentState] | Agent, seed: int = 0) -> SimCentre:
    c = SimCentre(seed=seed, now=T0)
    for a in agents:
        if not isinstance(a, Agent):
            a = Agent(a[0], skills={"general": 1}, state=a[1])
        c.add_agent(a)
    return c


GENERAL = {"general": 0}


def test_callers_are_ordered_by_priority_then_arrival():
    c = centre()
    c.add_caller("q", "early", priority=0, joined=at(0))
    c.add_caller("q", "vip", priority=10, joined=at(5000))
    pos = c.join("q", "me", 0, at(6000), GENERAL)
    assert pos == 3  # behind the VIP (priority) and the early caller (arrival)
    c.add_caller("q", "later_vip", priority=10, joined=at(7000))
    assert c.position("q", "me", at(7000)) == 4
    assert c.position("q", "later_vip", at(7000)) == 2
    c.settle(at(7000))
    assert c.queue_waiting("q") == 4


def test_the_centre_view_reads_the_clock_when_given_one():
    clock = VirtualClock(T0)
    c = SimCentre(clock=clock)
    c.add_caller("q", "bg", joined=at(5000))
    assert c.queue_waiting("q") == 0
    clock.advance(5000)
    assert c.queue_waiting("q") == 1


def test_background_callers_ahead_take_agents_as_they_free_up():
    c = centre(("li", AgentState.BUSY))
    c.scripts["li"].free_at = at(10_000)
    c.add_caller("q", "bg", joined=at(0), talk_ms=30_000)
    c.join("q", "me", 0, at(1000), GENERAL)
    c.settle(at(10_000))
    assert c.position("q", "me", at(10_000)) == 1  # bg took li
    assert c.agent("li").state == AgentState.BUSY
    assert c.next_change(at(10_000)) == at(40_000)
    c.settle(at(40_000))
    assert c.agent("li").state == AgentState.AVAILABLE
    assert c.agent("li").idle_since == at(40_000)


def test_members_need_the_skills_at_the_minimum_level_and_a_login():
    c = centre(Agent("a", skills={"tech": 2}), Agent("b", skills={"tech": 5}),
               Agent("c", skills={"tech": 9}, state=AgentState.LOGGED_OFF))
    assert [a.id for a in c.members({"tech": 3})] == ["b"]
    assert [a.id for a in c.members({"tech": 0})] == ["a", "b"]


def test_empty_means_no_logged_in_member_paused_and_busy_members_count():
    assert centre(("a", AgentState.LOGGED_OFF)).is_empty(GENERAL)
    assert centre().is_empty(GENERAL)
    assert not centre(("a", AgentState.PAUSED)).is_empty(GENERAL)
    assert not centre(("a", AgentState.BUSY)).is_empty(GENERAL)


def members3(c: SimCentre):
    return c.members(GENERAL)


def test_ringall_rings_every_available_member():
    c = centre(("a", AgentState.AVAILABLE), ("b", AgentState.AVAILABLE))
    assert [a.id for a in c.pick("q", "ringall", members3(c))] == ["a", "b"]


def test_linear_starts_at_the_first_member_and_moves_on_by_position():
    c = centre(("z", AgentState.AVAILABLE), ("a", AgentState.AVAILABLE))
    # member order is declaration order, not id order
    assert [a.id for a in c.pick("q", "linear", members3(c))] == ["z"]
    assert [a.id for a in c.pick("q", "linear", members3(c), linpos=1)] == ["a"]
    assert [a.id for a in c.pick("q", "linear", members3(c), linpos=2)] == ["z"]  # wraps


def test_rrmemory_remembers_where_the_last_caller_stopped():
    c = centre(("a", AgentState.AVAILABLE), ("b", AgentState.AVAILABLE),
               ("c", AgentState.AVAILABLE))
    picks = [c.pick("q", "rrmemory", members3(c))[0].id for _ in range(4)]
    assert picks == ["a", "b", "c", "a"]


def test_leastrecent_prefers_never_called_then_oldest_last_call():
    c = centre(Agent("a", skills={"general": 1}, idle_since=at(5000)),
               Agent("b", skills={"general": 1}, idle_since=at(1000)))
    assert c.pick("q", "leastrecent", members3(c))[0].id == "b"
    c.add_agent(Agent("c", skills={"general": 1}))
    assert c.pick("q", "leastrecent", members3(c))[0].id == "c"


def test_fewestcalls_prefers_the_member_with_fewest_calls():
    c = centre(Agent("a", skills={"general": 1}, calls_taken=3),
               Agent("b", skills={"general": 1}, calls_taken=1))
    assert c.pick("q", "fewestcalls", members3(c))[0].id == "b"
    # as app_queue: a member who rang out is still the best and is picked again
    assert c.pick("q", "fewestcalls", members3(c))[0].id == "b"


def test_random_is_deterministic_for_a_seed():
    def picks(seed):
        c = centre(*[(f"a{i}", AgentState.AVAILABLE) for i in range(6)], seed=seed)
        return [c.pick("q", "random", members3(c))[0].id for _ in range(12)]

    assert picks(7) == picks(7)
    assert len(set(picks(7))) > 1


def test_unknown_strategy_is_refused():
    c = centre(("a", AgentState.AVAILABLE))
    with pytest.raises(ValueError, match="strategy"):
        c.pick("q", "roundabout", members3(c))


def test_expected_wait_counts_busy_members_and_callers_ahead():
    c = centre(("a", AgentState.BUSY))
    c.scripts["a"].free_at = at(20_000)
    c.settle(T0)
    assert c.queue_expected_wait_ms("q") == 20_000
    c.add_caller("q", "bg", joined=T0, talk_ms=30_000)
    assert c.queue_expected_wait_ms("q") == 50_000
    assert centre(("p", AgentState.PAUSED)).queue_expected_wait_ms("q") == NEVER_FREE_WAIT_MS


def test_agents_release_after_wrapup():
    c = centre(Agent("a", skills={"general": 1}))
    c.scripts["a"] = AgentScript(wrapup_ms=15_000)
    c.connect("a")
    c.release("a", at(1000))
    c.settle(at(10_000))
    assert c.agent("a").state == AgentState.BUSY
    c.settle(at(16_000))
    assert c.agent("a").state == AgentState.AVAILABLE
    assert c.agent("a").calls_taken == 1


def test_state_words_of_tests():
    assert parse_state("offline") == AgentState.LOGGED_OFF
    assert parse_state("Paused") == AgentState.PAUSED
    with pytest.raises(ValueError):
        parse_state("asleep")


def test_queue_configs_read_literal_options_of_the_ir():
    ir = {"queues": {"support": {"options": {
        "announce_position": {"every": {"lit": 30000, "type": "duration"}},
        "max_wait": {"lit": 180000, "type": "duration"},
        "music": {"lit": "default", "type": "text"},
        "priority": {"lit": 0, "type": "number"}, "ring": None,
        "skills": {"list": [{"lit": "tech", "type": "text"}]}}}}}
    q = queue_configs(ir)["support"]
    assert (q.skills, q.max_wait_ms, q.announce_position_ms, q.music, q.ring_ms) == \
        ({"tech": 0}, 180_000, 30_000, "default", None)
