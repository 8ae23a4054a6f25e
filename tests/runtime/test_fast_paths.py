"""The shortcuts the hot path takes give what the long way gave: option
values read without awaiting, the pool's agent copies, new CRM ids from a
kept row count, queue configs, the simulated clock's passes and its
milliseconds, literals made once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.channel import CallInfo, Sound
from ccdsl.runtime.core.clock import VirtualClock, ms_delta
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.evaluate import NOT_LEAF, literal
from ccdsl.runtime.core.ops.media import option_now
from ccdsl.runtime.core.queues import QueueConfig
from ccdsl.runtime.core.routing import AgentPool
from ccdsl.runtime.core.values import Duration, TimeOfDay
from ccdsl.runtime.sim.caller import Press, ScriptedCaller
from ccdsl.runtime.sim.centre import SimCentre
from ccdsl.runtime.sim.channel import FILE_MS, SimChannel

START = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def run(coro):
    return asyncio.run(coro)


class _Vars:
    """The one thing option_now asks of a frame: a variable's value."""

    def __init__(self, **values) -> None:
        self.values = values

    def get_var(self, name: str):
        return self.values[name]


# -- option_now -------------------------------------------------------------------


def test_option_now_reads_defaults_literals_and_variables():
    options = {"retries": {"lit": 2, "type": "number"},
               "timeout": {"lit": 5000, "type": "duration"},
               "end": {"var": "key"},
               "every": {"every": {"lit": 30000, "type": "duration"}}}
    frame = _Vars(key="#")
    assert option_now(options, "missing", frame, 3) == 3
    assert option_now(options, "missing", frame) is None
    assert option_now(options, "retries", frame) == 2
    assert option_now(options, "timeout", frame) == Duration(5000)
    assert option_now(options, "end", frame) == "#"
    assert option_now(options, "every", frame) == Duration(30000)


def test_option_now_leaves_expressions_to_option():
    options = {"timeout": {"binary": "+", "left": {"lit": 1, "type": "number"},
                           "right": {"lit": 2, "type": "number"}}}
    assert option_now(options, "timeout", _Vars()) is NOT_LEAF


# -- AgentPool.upsert ----------------------------------------------------------------


def test_the_pool_keeps_its_own_copy_of_an_agent():
    agent = Agent(id="zhang", name="Zhang Wei", extension="8001", skills={"general": 8},
                  idle_since=START, calls_taken=2, queues=["sales"])
    pool = AgentPool()
    copy = pool.upsert(agent)
    assert copy is not agent and type(copy) is Agent
    assert dataclasses.asdict(copy) == {**dataclasses.asdict(agent), "queues": ("sales",)}
    agent.skills["tech"] = 9
    agent.state = AgentState.PAUSED
    assert pool.get("zhang").skills == {"general": 8}
    assert pool.get("zhang").state == AgentState.AVAILABLE
    pool.update("zhang", skills={"general": 3})
    assert agent.skills == {"general": 8, "tech": 9}


def test_the_pool_copy_of_a_subclassed_agent_keeps_its_class():
    @dataclasses.dataclass
    class Remote(Agent):
        site: str = "hq"

    copy = AgentPool().upsert(Remote(id="li", site="branch"))
    assert type(copy) is Remote and copy.site == "branch"


# -- SqliteCRM ids -------------------------------------------------------------------


def test_new_ids_follow_the_count_and_see_other_writers(tmp_path: Path):
    path = tmp_path / "crm.db"
    crm = SqliteCRM(path)
    assert run(crm.create("ticket", {"subject": "a"})).id == "ticket-1"
    assert run(crm.create("ticket", {"subject": "b"})).id == "ticket-2"
    with sqlite3.connect(path) as other:  # another process adds rows meanwhile
        other.execute("insert into ticket (id, subject) values ('T-x', 'c'), ('T-y', 'd')")
    assert run(crm.create("ticket", {"subject": "e"})).id == "ticket-5"
    crm.upsert("ticket", [{"id": "T-z", "subject": "f"}])  # this connection, another way
    assert run(crm.create("ticket", {"subject": "g"})).id == "ticket-7"
    assert run(crm.create("ticket", {"id": "mine", "subject": "h"})).id == "mine"
    assert run(crm.create("ticket", {"subject": "i"})).id == "ticket-9"
    crm.close_now()


def test_a_taken_id_is_skipped(tmp_path: Path):
    crm = SqliteCRM(tmp_path / "crm.db")
    run(crm.create("ticket", {"id": "ticket-2", "subject": "taken"}))
    assert run(crm.create("ticket", {"subject": "a"})).id == "ticket-3"
    assert run(crm.create("ticket", {"subject": "b"})).id == "ticket-4"
    crm.close_now()


# -- QueueConfig --------------------------------------------------------------------


def test_queue_config_defaults_and_frozen():
    config = QueueConfig("sales")
    assert (config.skills, config.max_wait_ms, config.priority, config.music,
            config.announce_position_ms, config.ring_ms, config.strategy) == (
        {}, None, 0, None, None, None, "leastrecent")
    assert config == QueueConfig(name="sales", skills={})
    assert QueueConfig("a").skills is not QueueConfig("b").skills
    assert dataclasses.replace(config, priority=2).priority == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "other"  # type: ignore[misc]


# -- SimChannel passes ----------------------------------------------------------------


def _channel(actions) -> SimChannel:
    info = CallInfo(call_id="c1", caller_number="+8613900000000", caller_name=None,
                    dialled="4008001234", started=START, channel="sim/1")
    clock = VirtualClock(START)
    return SimChannel(info, clock, ScriptedCaller(actions), SimCentre(now=START))


def test_a_prompt_without_keys_moves_the_clock_by_its_length():
    ch = _channel(())
    assert run(ch.play([Sound("file", "welcome", "zh-CN")], interrupt_keys="")) is None
    assert ch.clock.now() == START + timedelta(milliseconds=FILE_MS)
    heard = [data for kind, data in ch.log.entries if kind == "heard"]
    assert heard[0]["ms"] == FILE_MS and heard[0]["interrupted_by"] is None


def test_a_lost_key_does_not_shorten_the_prompt():
    quiet = _channel(())
    run(quiet.play([Sound("file", "welcome", "zh-CN")], interrupt_keys=""))
    pressing = _channel((Press("5", after_ms=300),))
    assert run(pressing.play([Sound("file", "welcome", "zh-CN")], interrupt_keys="")) is None
    assert pressing.clock.now() == quiet.clock.now()
    assert [d["key"] for kind, d in pressing.log.entries if kind == "key_lost"] == ["5"]


# -- literals made once ------------------------------------------------------------


def _made_the_long_way(value, kind):
    if kind == "duration":
        return Duration(int(value))
    if kind == "time":
        return TimeOfDay(int(value))
    return dt.date.fromisoformat(value)


@given(st.one_of(
    st.tuples(st.integers(-(10 ** 12), 10 ** 12), st.sampled_from(["duration", "time"])),
    st.tuples(st.dates().map(dt.date.isoformat), st.just("date"))))
@example((1.0, "duration"))  # equal as a key to 1: the same Duration
@example((True, "time"))
def test_a_literal_read_again_is_the_value_made_the_long_way(case):
    value, kind = case
    expected = _made_the_long_way(value, kind)
    for _ in range(2):  # made, then kept
        got = literal({"lit": value, "type": kind})
        assert got == expected and type(got) is type(expected)


def test_plain_literals_and_bad_dates_are_not_kept():
    assert literal({"lit": [1], "type": "list"}) == [1]  # unhashable: passed through
    for _ in range(2):
        with pytest.raises(ValueError):
            literal({"lit": "2026-02-30", "type": "date"})


# -- ms_delta ---------------------------------------------------------------------


@given(st.one_of(st.integers(min_value=-(10 ** 18), max_value=10 ** 18),
                 st.floats(allow_nan=False, allow_infinity=False, min_value=-1e17,
                           max_value=1e17)))
@example(0)
@example(86_400_000_000_000_000)  # past timedelta's range: the same OverflowError
def test_ms_delta_is_timedelta_of_milliseconds(ms):
    try:
        expected: timedelta | str = timedelta(milliseconds=ms)
    except OverflowError as err:
        expected = str(err)
    try:
        got: timedelta | str = ms_delta(ms)
    except OverflowError as err:
        got = str(err)
    assert got == expected
