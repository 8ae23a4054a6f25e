"""The scripted and interactive callers: when keys come, when the caller
hangs up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.sim.caller import (
    HangUp,
    InteractiveCaller,
    Press,
    ScriptedCaller,
    Silence,
    Speak,
)

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def keys_of(caller: ScriptedCaller) -> list[tuple[int, str]]:
    out = []
    while (key := caller.peek()) is not None:
        caller.take()
        out.append((round((key.at - T0).total_seconds() * 1000), key.key))
    return out


def test_untimed_press_waits_for_the_flow_to_listen():
    caller = ScriptedCaller([Press("12#")], key_gap_ms=200)
    caller.begin(T0)
    assert caller.peek() is None  # nobody listens yet: nothing pressed
    asyncio.run(caller.listen(at(3000)))
    assert keys_of(caller) == [(3000, "1"), (3200, "2"), (3400, "#")]


def test_untimed_press_comes_after_a_silence_even_if_the_flow_listens_earlier():
    caller = ScriptedCaller([Silence(8000), Press("1")])
    caller.begin(T0)
    asyncio.run(caller.listen(at(1000)))
    assert keys_of(caller) == [(8000, "1")]


def test_timed_press_counts_from_the_previous_action():
    caller = ScriptedCaller([Press("1", after_ms=2000), Press("2", after_ms=500)])
    caller.begin(T0)
    assert keys_of(caller) == [(2000, "1"), (2500, "2")]


def test_hangup_after_counts_from_the_previous_action():
    caller = ScriptedCaller([Press("1", after_ms=1000), HangUp(after_ms=3000)])
    caller.begin(T0)
    assert caller.hangup_at() == at(caller.max_call_ms)  # not scheduled before the press
    keys_of(caller)
    assert caller.hangup_at() == at(4000)


def test_hangup_in_step_waits_for_that_step():
    caller = ScriptedCaller([HangUp(in_step="main_menu")])
    caller.begin(T0)
    caller.step_entered("welcome", at(100))
    assert caller.hangup_at() == at(caller.max_call_ms)
    caller.step_entered("main_menu", at(5000))
    assert caller.hangup_at() == at(5000)


def test_hangup_after_a_delay_in_a_step_counts_from_entering_the_step():
    caller = ScriptedCaller([HangUp(after_ms=2000, in_step="main_menu")])
    caller.begin(T0)
    assert caller.hangup_at() == at(caller.max_call_ms)  # not 2 s after the start
    caller.step_entered("main_menu", at(5000))
    assert caller.hangup_at() == at(7000)
    caller.step_entered("main_menu", at(6000))  # entering again does not move it
    assert caller.hangup_at() == at(7000)


def test_a_caller_whose_script_ran_out_hangs_up_at_the_call_limit():
    caller = ScriptedCaller([], max_call_ms=60_000)
    caller.begin(T0)
    assert caller.hangup_at() == at(60_000)


def test_speak_sets_the_message_length_then_the_script_goes_on():
    caller = ScriptedCaller([Speak(7000), HangUp(after_ms=1000)])
    caller.begin(T0)
    assert caller.message_ms(at(2000)) == 7000
    assert caller.hangup_at() == at(10_000)


def test_a_caller_who_does_not_speak_leaves_no_message():
    # silent, pressing keys or hanging up: nothing said after the beep
    for actions in ([], [Silence(5000)], [Press("#")], [HangUp(after_ms=0)]):
        caller = ScriptedCaller(actions)
        caller.begin(T0)
        assert caller.message_ms(T0) == 0


def test_press_refuses_keys_that_are_not_on_a_phone():
    with pytest.raises(ValueError):
        Press("1a")


def test_interactive_caller_asks_when_the_flow_listens():
    asked = []

    def ask(what):
        asked.append(what)
        return "42"

    caller = InteractiveCaller(ask, key_gap_ms=100)
    caller.begin(T0)
    caller.describe = "up to 2 keys"
    asyncio.run(caller.listen(at(500)))
    assert asked == ["up to 2 keys"]
    assert keys_of(caller) == [(500, "4"), (600, "2")]


def test_interactive_caller_hangs_up_on_none_and_accepts_async_answers():
    async def ask(what):
        return None

    caller = InteractiveCaller(ask)
    caller.begin(T0)
    asyncio.run(caller.listen(at(900)))
    assert caller.hangup_at() == at(900)


def test_an_interactive_answer_is_a_script_from_now():
    # what `ccf simulate --interactive` reads with --press's parser: "5s 1"
    # is five seconds of silence, then the key 1; hangup hangs up
    answers = [(Silence(5000), Press("1")), (HangUp(after_ms=0),)]
    asked = []

    def ask(what):
        asked.append(what)
        return answers.pop(0)

    caller = InteractiveCaller(ask, key_gap_ms=100)
    caller.begin(T0)
    asyncio.run(caller.listen(at(1000)))
    assert keys_of(caller) == [(6000, "1")]
    asyncio.run(caller.listen(at(8000)))
    assert caller.hangup_at() == at(8000)
    asyncio.run(caller.listen(at(9000)))  # hung up: not asked again
    assert len(asked) == 2


def test_an_interactive_silence_leaves_the_flow_to_time_out_then_asks_again():
    answers = [(), (Press("2"),)]
    caller = InteractiveCaller(lambda what: answers.pop(0))
    caller.begin(T0)
    asyncio.run(caller.listen(at(1000)))
    assert caller.peek() is None  # nothing pressed: the flow's timeout decides
    asyncio.run(caller.listen(at(6000)))
    assert keys_of(caller) == [(6000, "2")]
