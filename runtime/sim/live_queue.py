"""A caller's stay in a queue of the real-time simulated centre: app_queue's rules, live.

Must not import Asterisk code or the console. The order, strategies and autopause are the
SimCentre's (centre.py); the messages, position announcements and keys the simulator's
(in_queue.py), paced; this waits for the centre's changes instead of jumping in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ccdsl.runtime.core.channel import OnAnnounce, OnRing, QueueRequest, QueueRing
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.sim.centre import DEFAULT_RING_MS
from ccdsl.runtime.sim.in_queue import WaitExtras, left_with_key
from ccdsl.runtime.sim.live_parts import ms_of, wait_any
from ccdsl.runtime.sim.queue_wait import position_sounds, rang_out, report_ring


@dataclass(frozen=True)
class Found:
    """How a stay in a queue ended: an agent answered, or why not."""

    status: Literal["answered", "timeout", "empty", "key"]
    agent: str | None
    wait_ms: int
    position: int
    ring_ms: int = 0
    reason: str = ""
    key: str | None = None  # status "key": the declared key the caller left with
    left_position: int | None = None  # status "key": their place then



class LiveQueueWait:
    """A caller's stay in a queue on the live clock: app_queue's rules
    (the SimCentre's order, strategies and autopause), woken whenever the
    centre changes (an agent freed, paused, logged in; a caller gone)."""

    def __init__(self, ch: Any, request: QueueRequest, on_ring: OnRing | None,
                 *, patient: bool = False, on_announce: OnAnnounce | None = None) -> None:
        self.extras = WaitExtras(ch, request, on_announce)  # messages, keys (sim/in_queue.py)
        self.ch = ch
        self.req = request
        self.on_ring = on_ring
        self.live = ch.live
        self.centre = ch.centre
        self.ring_ms = request.ring_ms or DEFAULT_RING_MS
        self.linpos = 0
        self.patient = patient  # a transferred caller waits without giving up

    async def run(self) -> Found:
        ch, req, centre, live = self.ch, self.req, self.centre, self.live
        clock = live.clock
        start = clock.now()
        live.settle()
        if centre.is_empty(req.skills):
            return self._left("empty", start, 0, "no logged-in agent has the queue's skills")
        position = centre.join(req.queue, ch.info.call_id, req.priority, start, req.skills)
        live.changed.notify()
        ch._note("queue_joined", queue=req.queue, priority=req.priority, position=position,
                 music=req.music)
        deadline = self.extras.begin(start)  # and the messages' clocks (sim/in_queue.py)
        patience_ms = getattr(ch.caller, "patience_ms", None)
        gives_up = start + timedelta(milliseconds=patience_ms) \
            if patience_ms and not self.patient else None
        next_try = start
        try:
            while True:
                changed = live.changed.current()
                now = clock.now()
                live.settle()
                ch._check()
                if gives_up is not None and now >= gives_up:
                    ch._end("caller")
                    raise CallHungUp("the caller gave up waiting")
                if deadline is not None and now >= deadline:
                    return self._left("timeout", start, position, "max_wait passed")
                if centre.is_empty(req.skills):
                    return self._left("empty", start, position, "every member logged off")
                key = self._pressed()
                if key is None and self.extras.due(now):
                    if self.extras.announcing(now):
                        # app_queue: the position, then a message due as well
                        key = await self._paced(lambda: self.extras.position(
                            centre, clock.now(), position_sounds))
                    else:
                        key = await self._paced(lambda: self.extras.message(clock.now()))
                        if key is None:  # a generated caller may answer the message
                            getattr(ch.caller, "heard_queue_message", _nothing)(
                                req.queue, ch.clock.now())
                    if key is None:
                        continue
                if key is not None:
                    return self._with_key(key, start, position)
                if now >= next_try and centre.position(req.queue, ch.info.call_id, now) == 1:
                    found = await self._try(start, position, deadline, gives_up)
                    if found is not None:
                        return found
                    next_try = clock.now() + timedelta(milliseconds=centre.retry_ms)
                    continue
                pressed = ch.caller.peek()
                wake = [t for t in (centre.next_change(now), deadline, gives_up,
                                    self.extras.wake_at(), ch.caller.hangup_at(),
                                    pressed.at if pressed is not None else None,
                                    next_try if next_try > now else None) if t is not None]
                seconds = clock.seconds(ms_of(min(wake) - now)) if wake else None
                await wait_any([changed, ch.killed], seconds)
        except CallHungUp:
            centre.leave(req.queue, ch.info.call_id)
            live.changed.notify()
            ch._note("queue_left", queue=req.queue, outcome="hangup",
                     wait_ms=ms_of(clock.now() - start))
            raise
        finally:
            getattr(ch.caller, "left_queue", _nothing)()

    def _pressed(self) -> str | None:
        """A declared key the caller pressed by now (others are lost, as
        app_queue's valid_exit loses them); None when none."""
        ch = self.ch
        ch._sync()
        return ch._pass(0, accept=self.extras.accept)

    async def _paced(self, play) -> str | None:
        """A message or announcement, heard on the call's clock then waited
        for on the live one; a declared key pressed during it, returned."""
        async def heard() -> str | None:
            return play()
        return await self.ch._paced(heard())

    def _with_key(self, key: str, start: datetime, position: int) -> Found:
        ch = self.ch
        ch._sync()
        out = left_with_key(ch, self.centre, self.req, key, start, position)
        self.live.changed.notify()
        return Found("key", None, out.wait_ms, position, reason=out.reason, key=key,
                     left_position=out.left_position)

    async def _try(self, start: datetime, position: int, deadline: datetime | None,
                   gives_up: datetime | None) -> Found | None:
        ch, req, centre, live = self.ch, self.req, self.centre, self.live
        ring = centre.pick(req.queue, req.strategy, centre.available(req.queue, req.skills),
                           linpos=self.linpos)
        if not ring:
            return None
        ids = [a.id for a in ring]
        for agent in ids:  # app_queue's AgentCalled, one per member rung
            await self._report(QueueRing(agent, "ringing"))
        ends = [t for t in (deadline, gives_up) if t is not None]
        rang_from = live.clock.now()
        winner = await ch.ring(ids, self.ring_ms, min(ends) if ends else None)
        rang = ms_of(live.clock.now() - rang_from)
        if winner is None:
            self.linpos = centre.member_index(ids[-1]) + 1
            if rang < self.ring_ms:
                ch._note("ring_no_answer", agents=ids, ring_ms=rang)
                return None  # the wait's end cut the ring short: no ring-out
            await rang_out(ch, centre, req, ids, rang, self._report)
            return None
        centre.leave(req.queue, ch.info.call_id)
        live.changed.notify()
        wait = ms_of(live.clock.now() - start)
        ch._note("queue_left", queue=req.queue, outcome="answered", wait_ms=wait, agent=winner)
        return Found("answered", winner, wait, position, rang)

    async def _report(self, ring: QueueRing) -> None:
        await report_ring(self.on_ring, ring)

    def _left(self, status: str, start: datetime, position: int, reason: str) -> Found:
        ch = self.ch
        self.centre.leave(self.req.queue, ch.info.call_id)
        self.live.changed.notify()
        wait = ms_of(self.live.clock.now() - start)
        ch._note("queue_left", queue=self.req.queue, outcome=status, wait_ms=wait)
        return Found(status, None, wait, position, reason=reason)  # type: ignore[arg-type]


def _nothing(*_args: Any) -> None:
    return None
