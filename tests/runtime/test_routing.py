"""The routing engine: owner first, last agent, skills with levels, the
longest idle among equals, ties by id, the reasons in the trace, and the
same decision for the same state."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.routing import AgentPool, RuleLine, decide, format_skills

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def centre() -> AgentPool:
    return AgentPool([
        Agent("zhang", extension="801", skills={"general": 5, "billing": 4},
              state=AgentState.BUSY, idle_since=at(0)),
        Agent("li", extension="802", skills={"general": 3, "tech": 5}, idle_since=at(10)),
        Agent("wang", extension="803", skills={"general": 7, "tech": 2}, idle_since=at(5)),
        Agent("zhao", extension="804", skills={"tech": 9}, state=AgentState.PAUSED,
              idle_since=at(1)),
    ])


def test_owner_first_when_available():
    d = decide(RuleLine("owner", "li", ring_ms=20_000), centre())
    assert (d.action, d.agent, d.extension, d.ring_ms) == ("dial", "li", "802", 20_000)
    assert d.reason == "owner li is available"


def test_busy_owner_is_skipped_with_the_reason():
    d = decide(RuleLine("owner", "zhang", ring_ms=20_000), centre())
    assert d.action == "skip" and d.agent is None
    assert d.reason == "owner zhang is busy"


def test_paused_agent_and_unknown_owner_are_skipped():
    pool = centre()
    assert decide(RuleLine("agent", "zhao"), pool).reason == "agent zhao is paused"
    assert decide(RuleLine("owner", "nobody"), pool).reason == \
        "owner nobody is not a known agent"
    unknown_caller = decide(RuleLine("owner", None), pool)
    assert unknown_caller.action == "skip" and "no account owner" in unknown_caller.reason


def test_last_agent_is_dialled_unless_already_rung():
    pool = centre()
    d = decide(RuleLine("last_agent", "wang", ring_ms=15_000), pool)
    assert (d.action, d.agent, d.reason) == ("dial", "wang", "last agent wang is available")
    again = decide(RuleLine("last_agent", "wang"), pool, exclude={"wang"})
    assert again.action == "skip" and "already rung" in again.reason
    none = decide(RuleLine("last_agent", None), pool)
    assert none.reason == "the caller has no last agent"


def test_when_false_skips_the_line():
    d = decide(RuleLine("agent", "li", applies=False), centre())
    assert d.action == "skip" and d.reason == "agent li: its `when` condition is false"


def test_skills_with_minimum_levels():
    pool = centre()
    # tech >= 3: li (5) is available; wang has tech 2 only; zhao (9) is paused
    d = decide(RuleLine("skills", skills={"tech": 3}), pool)
    assert d.agent == "li"
    assert d.reason == "li is the longest idle available agent with tech>=3"
    # general >= 6: only wang
    assert decide(RuleLine("skills", skills={"general": 6}), pool).agent == "wang"
    # level 0 means any level
    assert pool.best_available({"tech": 0, "general": 0}).id == "wang"


def test_no_agent_with_the_skills_gives_the_reason():
    d = decide(RuleLine("skills", skills={"tech": 3, "general": 0, "billing": 0}), centre())
    assert d.action == "skip"
    assert d.reason == "no available agent with tech>=3, general, billing"


def test_longest_idle_among_equals():
    # li and wang both have general; wang has been idle since 09:05, li since 09:10
    pool = centre()
    assert pool.best_available({"general": 1}).id == "wang"
    pool.set_state("wang", AgentState.BUSY)
    assert pool.best_available({"general": 1}).id == "li"
    pool.set_state("wang", AgentState.AVAILABLE, at=at(30))
    assert pool.best_available({"general": 1}).id == "li"


def test_never_idle_counts_as_longest_idle():
    pool = centre()
    pool.upsert(Agent("sun", skills={"general": 1}, idle_since=None))
    assert pool.best_available({"general": 1}).id == "sun"


def test_ties_broken_by_agent_id():
    agents = [Agent(name, skills={"general": 1}, idle_since=at(3)) for name in
              ("wu", "chen", "qian")]
    assert AgentPool(agents).best_available({"general": 1}).id == "chen"
    assert AgentPool(reversed(agents)).best_available({"general": 1}).id == "chen"


def test_exclude_and_queue_membership():
    pool = centre()
    assert pool.best_available({"general": 1}, exclude={"wang"}).id == "li"
    pool.update("li", queues=("service",))
    assert pool.best_available({}, queue="service").id == "li"
    assert pool.best_available({}, queue="sales") is None


def test_updates_move_agents_in_and_out_of_the_index():
    pool = centre()
    pool.update("zhao", state=AgentState.AVAILABLE, idle_since=at(20))
    assert pool.best_available({"tech": 8}).id == "zhao"
    pool.update("zhao", skills={"tech": 1})
    assert pool.best_available({"tech": 8}) is None
    pool.remove("li")
    assert "li" not in pool and pool.get("li") is None
    assert pool.best_available({"tech": 1}).id == "wang"


def test_a_minimum_above_the_indexed_levels_is_still_checked():
    pool = AgentPool([Agent("a", skills={"x": 12}, idle_since=at(1)),
                      Agent("b", skills={"x": 10}, idle_since=at(0))])
    assert pool.best_available({"x": 11}).id == "a"
    assert pool.best_available({"x": 10}).id == "b"


def test_queue_line_enqueues_with_priority_and_count():
    d = decide(RuleLine("queue", "service", priority=10, max_wait_ms=120_000), centre(),
               waiting=lambda q: 3)
    assert (d.action, d.queue, d.priority, d.max_wait_ms) == ("enqueue", "service", 10, 120_000)
    assert d.reason == "queue service: 3 waiting, priority 10"
    plain = decide(RuleLine("queue", "support", skills={"tech": 3}), centre())
    assert plain.reason == "queue support (tech>=3)"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        decide(RuleLine("carrier_pigeon", "x"), centre())  # type: ignore[arg-type]


def test_format_skills_keeps_the_written_order():
    assert format_skills({"tech": 3, "general": 0}) == "tech>=3, general"


def test_same_state_same_decision_whatever_the_insertion_order():
    rng = random.Random(7)
    skills = [f"s{i}" for i in range(12)]
    agents = [Agent(f"a{i:03d}", skills={s: rng.randint(1, 10) for s in rng.sample(skills, 4)},
                    state=rng.choice(list(AgentState)), idle_since=at(rng.randint(0, 5)))
              for i in range(300)]
    shuffled = agents[:]
    rng.shuffle(shuffled)
    one, two = AgentPool(agents), AgentPool(shuffled)
    for _ in range(200):
        wanted = {s: rng.randint(0, 6) for s in rng.sample(skills, rng.randint(1, 3))}
        line = RuleLine("skills", skills=wanted)
        assert decide(line, one) == decide(line, two)
        expected = min((a for a in agents
                        if a.state == AgentState.AVAILABLE and a.has_skills(wanted)),
                       key=lambda a: (a.idle_since, a.id), default=None)
        got = one.best_available(wanted)
        assert (got.id if got else None) == (expected.id if expected else None)


def test_pool_keeps_its_own_copies():
    agent = Agent("li", skills={"tech": 5}, idle_since=at(0))
    pool = AgentPool([agent])
    agent.state = AgentState.BUSY
    agent.skills["tech"] = 1
    assert pool.best_available({"tech": 5}).id == "li"


def test_large_pools_agree_with_a_plain_scan():
    # many candidates take the pool's other path (walking the idle order)
    rng = random.Random(11)
    agents = [Agent(f"a{i:04d}", skills={"general": rng.randint(1, 10),
                                         rng.choice(["tech", "billing"]): rng.randint(1, 10)},
                    state=rng.choice([AgentState.AVAILABLE] * 3 + [AgentState.BUSY]),
                    idle_since=at(rng.randint(0, 50)))
              for i in range(2000)]
    pool = AgentPool(agents)
    for wanted in ({}, {"general": 0}, {"general": 2, "tech": 1}, {"billing": 9}):
        exclude = {a.id for a in rng.sample(agents, 50)}
        expected = min((a for a in agents if a.state == AgentState.AVAILABLE
                        and a.has_skills(wanted) and a.id not in exclude),
                       key=lambda a: (a.idle_since, a.id))
        assert pool.best_available(wanted, exclude).id == expected.id


def test_changes_before_and_after_the_first_request_keep_the_index_right():
    # the index is built on the first request: whatever changed before it
    # and after it, requests answer as a scan of every agent would
    rng = random.Random(11)
    skills = [f"s{i}" for i in range(6)]
    queues = ["q1", "q2"]

    def agent(i: int) -> Agent:
        return Agent(f"a{i:02d}", skills={s: rng.randint(1, 10) for s in rng.sample(skills, 3)},
                     state=rng.choice(list(AgentState)), idle_since=at(rng.randint(0, 9)),
                     queues=tuple(rng.sample(queues, rng.randint(0, 2))))

    for first_request in (0, 10, 40, 1_000):
        pool = AgentPool()
        mine: dict[str, Agent] = {}
        for step in range(80):
            change = rng.random()
            if change < 0.4:
                new = agent(rng.randrange(30))
                mine[new.id] = pool.upsert(new)
            elif change < 0.8 and mine:
                agent_id = rng.choice(sorted(mine))
                mine[agent_id] = pool.set_state(agent_id, rng.choice(list(AgentState)),
                                                at=at(rng.randint(0, 9)))
            elif mine:
                pool.remove(mine.pop(rng.choice(sorted(mine))).id)
            if step < first_request:
                continue
            wanted = {s: rng.randint(0, 8) for s in rng.sample(skills, rng.randint(0, 2))}
            queue = rng.choice([None, *queues])
            expected = min((a for a in mine.values()
                            if a.state == AgentState.AVAILABLE and a.has_skills(wanted)
                            and (queue is None or queue in a.queues)),
                           key=lambda a: (a.idle_since, a.id), default=None)
            got = pool.best_available(wanted, queue=queue)
            assert (got.id if got else None) == (expected.id if expected else None)
            assert pool.available_count() == sum(
                a.state == AgentState.AVAILABLE for a in mine.values())
