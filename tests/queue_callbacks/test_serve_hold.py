"""An in-queue call-back keeps its place in a queue that never empties, through ccf serve's
real pieces and the AMI peer's app_queue: once its turn has come (every caller who joined
before it served) while callers who joined later still wait, ccf serve holds the queue's
members (QueuePause in that queue, Reason `ccf-callback`), so the member who frees up is
not handed to a later caller but rings for the call-back; the others are released at once,
and that one when the call-back ends. A later caller of higher priority still goes first;
a member paused by someone else is never touched; a dead run's holds are released on start.

The dialler's looks are the test's (`tick()`), so who comes first is not a matter of timing."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asterisk.centre import WAIT_S, deployed_hotline
from doubles.ami_server import AmiPeer

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.testing.peer.app_queue import Phone
from ccdsl.runtime.testing.peer.queue_call import run_queue
from ccdsl.runtime.testing.peer.queue_events import ChannelSnapshot
from queue_callbacks.world import booked, rows

SECRET = "queue-callbacks-secret"
QUEUE = "ccf-service"
DEVICES = {"zhang": "PJSIP/8001", "li": "PJSIP/8002", "wang": "PJSIP/8003"}
REASON = "ccf-callback"


class Waiting:
    """A later caller's side of Queue() in real time: waits until a member answers."""

    def __init__(self) -> None:
        self.answered_by: str | None = None

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def pass_ms(self, ms: int | None) -> None:
        await asyncio.sleep(3600 if ms is None else ms / 1000)

    async def wait_digit(self, ms: int) -> str | None:
        await self.pass_ms(ms)
        return None

    async def play(self, file: str) -> str | None:
        return None

    async def answered(self, member, channel) -> None:
        self.answered_by = member.name

    def caller_ends(self) -> None:
        pass


async def until(test, what: str, timeout: float = 10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := test()):
        assert loop.time() < deadline, f"waited {timeout:g} s for {what}"
        await asyncio.sleep(0.02)
    return found


def paused(peer: AmiPeer) -> dict[str, str]:
    """member name -> PausedReason of the members paused in ccf-service now."""
    return {m.name: m.paused_reason for m in peer.app_queue.queues[QUEUE].ordered() if m.paused}


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, before=None):
    """ccf serve (LiveCentre) on the AMI peer, every member of `service` on a
    call, the dialler looking only when the test says (tick)."""
    peer = AmiPeer(users={"ccf": SECRET}, auth_failure_delay=0.01)
    await peer.start()
    config = await deployed_hotline(tmp_path, peer.port, SECRET)
    q = peer.app_queue.queues[QUEUE]
    q.conf = replace(q.conf, retry_s=1)  # a waiting caller tries again every second
    for name in DEVICES:  # a later caller given a member keeps them
        peer.app_queue.phones[name] = Phone(answer_after_ms=100, talk_ms=600_000)
    if before is not None:
        before(peer)
    live = LiveCentre(config, port=0, api_port=0)
    callers: list[asyncio.Task] = []
    try:
        await live.start()
        live.dialler.poll_s = 3600  # after its first look: the test's ticks only
        await until(lambda: {"zhang", "li", "wang"} <= {
            a.id for a in live.centre.agents() if "service" in a.queues}, "the members")
        yield live, peer, callers
    finally:
        for task in callers:
            task.cancel()
        await asyncio.gather(*callers, return_exceptions=True)
        await live.stop(1.0)
        await peer.stop()


def later_caller(live, peer, callers, n: int, prio: int = 0) -> Waiting:
    """A caller who joins `service` now: in app_queue, and in ccf serve's line
    (the queue_joined its flow emits)."""
    line = Waiting()
    call_id = f"17965500{n:02d}.1"
    snapshot = ChannelSnapshot(f"PJSIP/later-{n:08x}", call_id, call_id,
                               caller_num=f"+86139000000{n:02d}")
    callers.append(asyncio.get_running_loop().create_task(
        run_queue(peer.app_queue, QUEUE, snapshot, line, prio=prio)))
    live.dialler.line.emit(Event(call_id, 1, datetime.now(UTC), "queue_joined",
                                 {"queue": "service", "priority": prio, "position": n}))
    return line


async def all_busy_with_a_request(live, peer) -> None:
    for device in DEVICES.values():
        peer.set_device_state(device, "INUSE")
    await until(lambda: all(live.centre.agent(a).state.value == "busy" for a in DEVICES),
                "the members busy")
    booked(live.store, "c1", queue="service", start=datetime.now(UTC) - timedelta(minutes=2))
    live.store.flush()


def test_the_call_back_goes_ahead_of_later_callers_in_a_queue_that_never_empties(tmp_path):
    async def main():
        async with serving(tmp_path) as (live, peer, callers):
            await all_busy_with_a_request(live, peer)
            later = [later_caller(live, peer, callers, n) for n in (1, 2)]
            await asyncio.sleep(0.2)
            assert await live.dialler.tick() == 0  # its turn, nobody free: the members held
            await until(lambda: paused(peer) == dict.fromkeys(DEVICES, REASON), "the holds")
            # held is not the agents' own pause: the console shows them on their calls
            assert all(live.centre.agent(a).state.value == "busy" for a in DEVICES)
            peer.set_device_state(DEVICES["li"], "NOT_INUSE")  # li's call ends
            await asyncio.sleep(2.5)  # the later callers look twice meanwhile
            assert [w.answered_by for w in later] == [None, None]
            assert live.centre.agent("li").state.value == "available"
            assert await live.dialler.tick() == 1  # li rings for the call-back
            # the others released at once; li held while the call-back lasts
            await until(lambda: paused(peer) == {"li": REASON}, "the others released")
            await until(lambda: (r := rows(live.store)) and r[0]["status"] == "done",
                        "the call-back made")
            await until(lambda: paused(peer) == {}, "li released")
            origin = [a for a in peer.actions if a.get("Action") == "Originate"]
            pauses = [a for a in peer.actions if a.get("Action") == "QueuePause"]
            # then the later callers are served as before
            peer.set_device_state(DEVICES["li"], "NOT_INUSE")
            await until(lambda: later[0].answered_by == "li", "the first later caller served")
            return origin, pauses, rows(live.store)

    origin, pauses, (row,) = asyncio.run(main())
    (sent,) = origin
    assert sent["Channel"] == DEVICES["li"] and sent["Variable"] == "CCF_CALLBACK=c1"
    assert (row["agent"], row["outcome"]) == ("li", "answered")
    # in that queue only, with the reason that tells ccf's holds apart
    held = [p for p in pauses if p["Paused"] == "true"]
    assert {(p["Queue"], p["Interface"], p["Reason"]) for p in held} == \
        {(QUEUE, d, REASON) for d in DEVICES.values()}
    assert all(p["Queue"] == QUEUE and "Reason" not in p for p in pauses
               if p["Paused"] == "false")


def test_a_later_caller_of_higher_priority_is_not_held_back(tmp_path):
    async def main():
        async with serving(tmp_path) as (live, peer, callers):
            await all_busy_with_a_request(live, peer)
            later_caller(live, peer, callers, 1)
            await asyncio.sleep(0.2)
            await live.dialler.tick()
            await until(lambda: paused(peer) == dict.fromkeys(DEVICES, REASON), "the holds")
            urgent = later_caller(live, peer, callers, 2, prio=5)  # app_queue: ahead of all
            await asyncio.sleep(0.2)
            assert await live.dialler.tick() == 0
            await until(lambda: paused(peer) == {}, "the holds released")
            peer.set_device_state(DEVICES["li"], "NOT_INUSE")
            await until(lambda: urgent.answered_by == "li", "the urgent caller served")
            assert await live.dialler.tick() == 0
            return [a for a in peer.actions if a.get("Action") == "Originate"], rows(live.store)

    origin, (row,) = asyncio.run(main())
    assert origin == [] and row["status"] == "pending"


def test_a_failed_call_back_leaves_nobody_held(tmp_path):
    async def main():
        async with serving(tmp_path) as (live, peer, callers):
            peer.dial_status["PJSIP/+8613800000001@trunk"] = "BUSY"
            await all_busy_with_a_request(live, peer)
            later_caller(live, peer, callers, 1)
            await asyncio.sleep(0.2)
            await live.dialler.tick()
            await until(lambda: paused(peer) == dict.fromkeys(DEVICES, REASON), "the holds")
            peer.set_device_state(DEVICES["wang"], "NOT_INUSE")
            await until(lambda: live.centre.agent("wang").state.value == "available", "wang")
            assert await live.dialler.tick() == 1
            await until(lambda: (r := rows(live.store)) and r[0]["outcome"] == "busy",
                        "the attempt stored")
            # retried after retry_after (10 min): meanwhile nobody is held for it
            await until(lambda: paused(peer) == {}, "every hold released")
            assert await live.dialler.tick() == 0
            await asyncio.sleep(0.3)
            return paused(peer), rows(live.store)

    after, (row,) = asyncio.run(main())
    assert after == {} and row["status"] == "pending"


def test_a_dead_runs_holds_are_released_on_start_and_an_agents_own_pause_kept(tmp_path):
    def left_by_a_killed_server(peer: AmiPeer) -> None:
        # a server killed while holding: li and wang paused for a call-back; zhang
        # paused by themself (the console's pause)
        peer.app_queue.add_member(QUEUE, DEVICES["zhang"], "zhang", paused=True, reason="lunch")
        peer.app_queue.add_member(QUEUE, DEVICES["li"], "li", paused=True, reason=REASON)
        peer.app_queue.add_member(QUEUE, DEVICES["wang"], "wang", paused=True, reason=REASON)

    async def main():
        async with serving(tmp_path, before=left_by_a_killed_server) as (live, peer, _):
            await until(lambda: paused(peer) == {"zhang": "lunch"}, "the dead run's holds "
                        "released", timeout=WAIT_S)
            assert live.centre.agent("zhang").state.value == "paused"
            # and on stop: a hold of this run is released too
            await all_busy_with_a_request(live, peer)
            live.dialler.line.emit(Event("x1", 1, datetime.now(UTC), "queue_joined",
                                         {"queue": "service", "priority": 0}))
            await live.dialler.tick()
            await until(lambda: paused(peer) == {"zhang": "lunch", "li": REASON,
                                                 "wang": REASON}, "li and wang held")
            await live.stop(1.0)
            return paused(peer)

    assert asyncio.run(main()) == {"zhang": "lunch"}
