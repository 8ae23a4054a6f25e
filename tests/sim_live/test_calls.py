"""Calls of the real-time simulated centre: made, answered, stored."""

from __future__ import annotations

import asyncio

from ccdsl.runtime.sim.caller import Press, ScriptedCaller


def run(coro):
    return asyncio.run(coro)


def test_an_automatic_agent_answers_and_the_call_is_stored(world):
    w = world()

    async def main():
        await w.centre.start()
        call = w.centre.place_call(caller="+8613800000001", keys=ScriptedCaller([Press("1")]))
        await w.until(lambda: "call_ended" in w.kinds(call))
        await w.centre.stop()
        return call

    call = run(main())
    kinds = w.kinds(call)
    assert kinds[0] == "call_started" and kinds[-1] == "call_ended"
    assert w.of(call, "agent_answered")[0]["agent"] == "ann"
    ended = w.of(call, "conversation_ended")[0]
    assert ended["agent"] == "ann" and 19_000 <= ended["talk_ms"] <= 25_000
    seqs = [e.seq for e in w.events.events if e.call_id == call]
    assert seqs == list(range(1, len(seqs) + 1))
    w.store.flush()
    record = w.store.call(call)
    assert record is not None and record["outcome"] == "hangup"
    assert record["talked_to_agent"] == 1


def test_generated_callers_come_and_every_call_ends(world):
    w = world()
    w.centre.calls_per_minute = 30

    async def main():
        await w.centre.start()
        await w.until(lambda: w.centre.served >= 3)
        await w.centre.stop()

    run(main())
    started = {e.call_id for e in w.events.events if e.kind == "call_started"}
    ended = {e.call_id for e in w.events.events if e.kind == "call_ended"}
    assert len(started) >= 3 and started == ended
    assert not w.centre.calls and not w.tracker.running()
    w.store.flush()
    for call in started:
        assert w.store.call(call)["outcome"] is not None
