"""One simulated caller's stay in a queue: app_queue's rules (runtime/sim/centre.py), the
position and messages, the keys; must not import runtime/sim/channel.py, which hands it the channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from ccdsl.runtime.core.channel import (
    OnAnnounce,
    OnAnswer,
    OnRing,
    QueueOutcome,
    QueueRequest,
    QueueRing,
    Sound,
)
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.sim.centre import DEFAULT_RING_MS, SimCentre
from ccdsl.runtime.sim.in_queue import WaitExtras, left_with_key

# the SimChannel of runtime/sim/channel.py, which imports this module
SimChannel = Any

class QueueWait:
    """One caller's stay in a queue (see runtime/sim/centre.py for the
    app_queue rules it follows)."""

    def __init__(self, ch: SimChannel, request: QueueRequest, on_answer: OnAnswer,
                 on_ring: OnRing | None = None, on_announce: OnAnnounce | None = None) -> None:
        self.extras = WaitExtras(ch, request, on_announce)  # messages, keys (sim/in_queue.py)
        self.ch = ch
        self.req = request
        self.on_answer = on_answer
        self.on_ring = on_ring
        self.centre = ch.centre
        self.ring_ms = request.ring_ms or DEFAULT_RING_MS
        self.linpos = 0

    async def run(self) -> QueueOutcome:
        ch, req, centre = self.ch, self.req, self.centre
        start = ch.clock.now()
        centre.settle(start)
        if centre.is_empty(req.skills):
            return self._left("empty", start, 0, "no logged-in agent has the queue's skills")
        position = centre.join(req.queue, ch.info.call_id, req.priority, start, req.skills)
        ch._note("queue_joined", queue=req.queue, priority=req.priority, position=position,
                 music=req.music)
        deadline = self.extras.begin(start)  # and the messages' clocks (sim/in_queue.py)
        next_try = start
        try:
            while True:
                now = ch.clock.now()
                centre.settle(now)
                if deadline is not None and now >= deadline:
                    return self._left("timeout", start, position, "max_wait passed")
                if centre.is_empty(req.skills):
                    return self._left("empty", start, position, "every member logged off")
                if self.extras.due(now):
                    if self.extras.announcing(now):
                        key = self._announce(now)  # app_queue: the position, then a message
                    else:
                        key = self.extras.message(now)
                    if key is not None:
                        return left_with_key(ch, centre, req, key, start, position)
                    continue
                if now >= next_try and centre.position(req.queue, ch.info.call_id, now) == 1:
                    outcome = await self._try(now, deadline, start, position)
                    if outcome is not None:
                        return outcome
                    next_try = ch.clock.now() + timedelta(milliseconds=centre.retry_ms)
                    continue
                wake = [t for t in (centre.next_change(now), deadline, self.extras.wake_at(),
                                    next_try if next_try > now else None)
                        if t is not None]
                # nothing will change: only the caller's own limit ends the wait
                until = min(wake) if wake else ch.caller.hangup_at()
                ms = round((until - now).total_seconds() * 1000) if until else 0
                key = ch._pass(max(ms, 1), accept=self.extras.accept)
                if key is not None:
                    return left_with_key(ch, centre, req, key, start, position)
        except CallHungUp:
            centre.leave(req.queue, ch.info.call_id)
            ch._note("queue_left", queue=req.queue, outcome="hangup",
                     wait_ms=ch._ms_since(start))
            raise

    async def _try(self, now: datetime, deadline: datetime | None, start: datetime,
                   position: int) -> QueueOutcome | None:
        """Ring the members the strategy picks; the outcome if one answered."""
        ch, req, centre = self.ch, self.req, self.centre
        available = centre.available(req.queue, req.skills)
        ring = centre.pick(req.queue, req.strategy, available, linpos=self.linpos)
        if not ring:
            return None
        ids = [a.id for a in ring]
        answering = sorted((centre.scripts[i].answer_after_ms, centre.member_index(i), i)
                           for i in ids if centre.scripts[i].answer_after_ms is not None
                           and centre.scripts[i].answer_after_ms <= self.ring_ms)
        winner = answering[0] if answering else None
        ring_for = winner[0] if winner else self.ring_ms
        if deadline is not None:
            left = round((deadline - now).total_seconds() * 1000)
            if left < ring_for:  # the queue's timeout wins over the ring (timeoutpriority=app)
                winner, ring_for = None, left
        ch._ring(ids, req.queue)
        for agent_id in ids:  # app_queue's AgentCalled, one per member rung
            await self._report(QueueRing(agent_id, "ringing"))
        try:
            key = ch._pass(ring_for, accept=self.extras.accept)  # a key exits while ringing too
        except CallHungUp:
            centre.ring_out(ids)
            raise
        if key is not None:
            centre.ring_out(ids)
            return left_with_key(ch, centre, req, key, start, position)
        if winner is None:
            centre.ring_out(ids)
            self.linpos = centre.member_index(ids[-1]) + 1
            await rang_out(ch, centre, req, ids, ring_for, self._report)
            return None
        agent_id = winner[2]
        centre.ring_out([i for i in ids if i != agent_id])
        centre.leave(req.queue, ch.info.call_id)
        wait = ch._ms_since(start)
        ch._note("queue_left", queue=req.queue, outcome="answered", wait_ms=wait, agent=agent_id)
        conversation = await ch._talk(agent_id, centre.scripts[agent_id], ring_for,
                                      self.on_answer, party=agent_id)
        return QueueOutcome("answered", wait, position, conversation)

    async def _report(self, ring: QueueRing) -> None:
        await report_ring(self.on_ring, ring)

    def _announce(self, now: datetime) -> str | None:
        return self.extras.position(self.centre, now, position_sounds)

    def _left(self, status: str, start: datetime, position: int, reason: str) -> QueueOutcome:
        ch = self.ch
        self.centre.leave(self.req.queue, ch.info.call_id)
        wait = ch._ms_since(start)
        ch._note("queue_left", queue=self.req.queue, outcome=status, wait_ms=wait)
        return QueueOutcome(status, wait, position, reason=reason)


async def report_ring(on_ring: OnRing | None, ring: QueueRing) -> None:
    """Tell the flow's `on_ring` of a member rung or rung out (app_queue's
    AgentCalled, AgentRingNoAnswer), waiting for it when it asks to."""
    if on_ring is not None:
        waiting = on_ring(ring)
        if waiting is not None:
            await waiting


def position_sounds(ch: SimChannel, centre: SimCentre, queue: str,
                    now: datetime) -> list[Sound]:
    """app_queue's say_position, noted on the channel: 'you are next', or
    'there are N calls waiting before you'."""
    pos = centre.position(queue, ch.info.call_id, now)
    ch._note("position", queue=queue, position=pos)
    if pos <= 1:
        return [Sound("file", "queue-youarenext", "")]
    return [Sound("file", "queue-thereare", ""), Sound("tts", str(pos), ""),
            Sound("file", "queue-callswaiting", "")]


async def rang_out(ch: SimChannel, centre: SimCentre, req: QueueRequest, ids: list[str],
                   ms: int, report: Callable[[QueueRing], Awaitable[None]]) -> None:
    """Members rung for `ms` that did not answer: app_queue's rna(), an
    AgentRingNoAnswer each, then Auto-Pause by the queue's `autopause`."""
    ch._note("ring_no_answer", agents=ids, ring_ms=ms)
    for agent_id in ids:
        await report(QueueRing(agent_id, "no_answer", ms))
        if req.autopause != "no":
            centre.pause(req.queue, agent_id, everywhere=req.autopause == "all")
            ch._note("queue_member_paused", queue=req.queue, agent=agent_id,
                     reason="Auto-Pause")


