"""The dialler of in-queue call-backs on a fake clock and a fake placement: it waits for
the request's turn in the queue and a free member of that queue, rings the agent then
the customer, retries the customer as the policy says, tries another agent when one
does not answer, and gives up after `give_up_after`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.operations.callback_dialler import CallbackDialler, QueueLine
from ccdsl.runtime.operations.callback_policy import CallbackPolicy, read_policy
from ccdsl.runtime.operations.callback_rows import CallbackRows
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_runs import this_process
from queue_callbacks.world import T0, Call, agent, booked, ms, rows

MIN = 60_000
ANSWERED = {"status": "done", "reason": "reached", "dial_status": "ANSWER", "uniqueid": "u-1"}
NO_ANSWER = {"status": "failed", "reason": "the customer did not answer",
             "dial_status": "NOANSWER", "uniqueid": "u-2"}
BUSY = {"status": "failed", "reason": "the customer was busy", "dial_status": "BUSY"}
AGENT_MISSED = {"status": "failed", "reason": "the agent's phone was not answered"}


class Centre:
    """A fake clock, agents and placement: each dial takes the next scripted result."""

    def __init__(self, store: CallStore, agents, results, policy=CallbackPolicy()):
        store.flush()  # the requests in the file, as the dialler's next poll would find them
        self.now = ms(T0) + 5 * MIN
        self.agents = list(agents)
        self.results = list(results)
        self.placed: list[tuple[str, str, str]] = []  # (call, agent, number)
        self.line = QueueLine()
        self.dialler = CallbackDialler(CallbackRows(store.path, this_process()), policy,
                                       self.line, agents=lambda: self.agents,
                                       place=self.place, now_ms=lambda: self.now)

    async def place(self, request, agent_id):
        self.placed.append((request.call_id, agent_id, request.number))
        return self.results.pop(0)

    def round(self, after_ms: int = 0) -> int:
        self.now += after_ms

        async def go():
            started = await self.dialler.tick()
            await self.dialler.drain()
            return started
        return asyncio.run(go())


@pytest.fixture
def store(tmp_path: Path):
    with CallStore(tmp_path / "calls.db") as s:
        yield s


def test_the_agent_then_the_customer_once_a_member_is_free(store):
    booked(store, "c1")
    centre = Centre(store, [agent("li", state=AgentState.BUSY), agent("wang", queues=("sales",)),
                            agent("chen", state=AgentState.PAUSED),
                            agent("zhao", state=AgentState.LOGGED_OFF)], [ANSWERED])
    assert centre.round() == 0  # nobody free in `service`: li busy, wang not a member
    centre.agents[0] = agent("li")
    assert centre.round() == 1
    assert centre.placed == [("c1", "li", "+8613800000001")]
    (row,) = rows(store)
    assert (row["status"], row["outcome"], row["agent"], row["attempts"]) == \
        ("done", "answered", "li", 1)
    assert row["callback_id"] == "u-1" and row["ended_ms"] == centre.now
    assert centre.round(60 * MIN) == 0  # done: never dialled again


def test_the_call_back_keeps_its_place_in_line(store):
    booked(store, "c1", start=T0)  # joined at T0
    centre = Centre(store, [agent("li")], [ANSWERED])
    ahead = Call(centre.line, "c0", start=T0.replace(second=0, minute=0, hour=9))
    ahead.emit("queue_joined", queue="service", priority=0, position=1)  # joined earlier
    later = Call(centre.line, "c9", start=T0.replace(minute=30))
    later.emit("queue_joined", queue="service", priority=0, position=2)  # joined later
    elsewhere = Call(centre.line, "c8", start=T0.replace(hour=8))
    elsewhere.emit("queue_joined", queue="sales", priority=0, position=1)
    assert centre.round() == 0 and centre.placed == []  # c0 is before it in line
    ahead.emit("queue_left", queue="service", outcome="answered", wait_ms=1000)
    assert centre.round() == 1  # c9 joined later: the call-back goes first
    assert centre.placed == [("c1", "li", "+8613800000001")]


def test_a_higher_priority_caller_waiting_goes_first(store):
    booked(store, "c1", priority=0)
    centre = Centre(store, [agent("li")], [ANSWERED])
    vip = Call(centre.line, "c7", start=T0.replace(hour=11))
    vip.emit("queue_joined", queue="service", priority=10, position=1)
    assert centre.round() == 0
    vip.emit("call_ended", outcome="hangup")
    assert centre.round() == 1


def test_a_customer_not_answering_is_retried_then_failed(store):
    booked(store, "c1")
    centre = Centre(store, [agent("li")], [NO_ANSWER, BUSY, NO_ANSWER],
                    CallbackPolicy(attempts=3, retry_after_ms=10 * MIN))
    assert centre.round() == 1
    (row,) = rows(store)
    assert (row["status"], row["outcome"], row["attempts"]) == ("pending", "no_answer", 1)
    assert row["next_attempt_ms"] == centre.now + 10 * MIN
    assert centre.round(9 * MIN) == 0  # not before retry_after
    assert centre.round(1 * MIN) == 1
    (row,) = rows(store)
    assert (row["status"], row["outcome"], row["attempts"]) == ("pending", "busy", 2)
    assert centre.round(10 * MIN) == 1
    (row,) = rows(store)
    assert (row["status"], row["outcome"], row["attempts"]) == ("failed", "no_answer", 3)
    assert row["ended_ms"] == centre.now
    assert centre.round(60 * MIN) == 0 and len(centre.placed) == 3


def test_an_agent_not_answering_rings_another_and_costs_no_attempt(store):
    booked(store, "c1")
    centre = Centre(store, [agent("li", idle_since=T0), agent("wang", idle_since=T0.replace(
        hour=11))], [AGENT_MISSED, ANSWERED])
    assert centre.round() == 1  # li, free the longest
    (row,) = rows(store)
    assert (row["status"], row["outcome"], row["attempts"]) == ("pending", "agent_no_answer", 0)
    assert centre.round() == 1  # at once: wang
    assert [p[1] for p in centre.placed] == ["li", "wang"]
    (row,) = rows(store)
    assert (row["status"], row["agent"], row["attempts"]) == ("done", "wang", 1)


def test_when_every_member_let_it_ring_it_waits_retry_after(store):
    booked(store, "c1")
    centre = Centre(store, [agent("li")], [AGENT_MISSED, ANSWERED],
                    CallbackPolicy(retry_after_ms=10 * MIN))
    assert centre.round() == 1
    assert centre.round() == 0  # li was the only member: not at once again
    assert centre.round(10 * MIN) == 1
    assert rows(store)[0]["status"] == "done"


def test_a_request_not_reached_within_give_up_after_is_given_up(store):
    booked(store, "c1")
    centre = Centre(store, [agent("li", state=AgentState.BUSY)], [],
                    CallbackPolicy(give_up_after_ms=60 * MIN))
    assert centre.round(30 * MIN) == 0
    assert rows(store)[0]["status"] == "pending"
    centre.agents = [agent("li")]
    centre.round(40 * MIN)
    (row,) = rows(store)
    assert (row["status"], row["outcome"]) == ("given_up", "not_reached")
    assert centre.placed == []


def test_a_placement_that_raises_is_kept_and_tried_later(store):
    booked(store, "c1")
    centre = Centre(store, [agent("li")], [])

    async def broken(request, agent_id):
        raise ConnectionError("cannot reach Asterisk's AMI")
    centre.dialler.place = broken
    assert centre.round() == 1
    (row,) = rows(store)
    assert (row["status"], row["outcome"], row["attempts"]) == ("pending", "not_placed", 0)
    assert "cannot reach" in row["reason_text"] and row["next_attempt_ms"] > centre.now


def test_two_diallers_on_one_store_dial_a_request_once(store):
    booked(store, "c1")
    first = Centre(store, [agent("li")], [ANSWERED])
    second = Centre(store, [agent("wang")], [ANSWERED])

    async def both():
        started = await asyncio.gather(first.dialler.tick(), second.dialler.tick())
        await first.dialler.drain()
        await second.dialler.drain()
        return started
    assert sorted(asyncio.run(both())) == [0, 1]
    assert len(first.placed) + len(second.placed) == 1


def test_the_policy_from_ccf_toml():
    policy, problems = read_policy({"attempts": 5, "retry_after": "2m", "give_up_after": "1d"})
    assert problems == [] and policy == CallbackPolicy(5, 2 * MIN, 24 * 60 * MIN)
    assert read_policy(None) == (CallbackPolicy(), [])
    _, problems = read_policy({"attempts": 0, "retry_after": "soon", "give_up_after": "0s",
                               "tries": 2}, "ccf.toml")
    assert problems == [
        "ccf.toml: callbacks.tries: unknown setting; the settings are attempts, dial, "
        "give_up_after, retry_after",
        "ccf.toml: callbacks.attempts: 0 is not valid; expected a whole number from 1 to 100, "
        "such as 3",
        "ccf.toml: callbacks.retry_after: 'soon' is not valid; expected a duration above zero "
        'such as "30s", "10m", "2h" or "1d"',
        "ccf.toml: callbacks.give_up_after: '0s' is not valid; expected a duration above zero",
    ]
