"""One call's line in the real-time simulated centre: SimChannel paced, queues and talk live.

Must not import Asterisk code or the console. The live centre (live_centre.py) owns the agents,
answers offers for people in the browser and puts the console's requests to the call here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.channel import (
    CallInfo,
    Conversation,
    DialOutcome,
    DialTarget,
    Digits,
    OnAnnounce,
    OnAnswer,
    OnRing,
    QueueOutcome,
    QueueRequest,
    Sound,
    TransferOutcome,
    VoicemailOutcome,
)
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.sim.caller import ScriptedCaller
from ccdsl.runtime.sim.channel import SimChannel
from ccdsl.runtime.sim.live_parts import CallStream, Offer, ms_of, wait_any
from ccdsl.runtime.sim.live_queue import LiveQueueWait

CONSULT_MS = 4_000  # an attended transfer: the agent and the target talk this long first


class LiveChannel(SimChannel):
    """SimChannel on its own virtual clock, kept level with the live clock:
    each prompt, key wait or pause runs at once on the virtual clock, then
    the call sleeps until the live clock has caught up. Dial, queue and the
    conversation run on the live clock, against the centre's shared agents.
    `live` is the SimLiveCentre (its clock, centre, offers, changes)."""

    def __init__(self, info: CallInfo, caller: ScriptedCaller, live: Any,
                 stream: CallStream) -> None:
        super().__init__(info, VirtualClock(live.clock.now()), caller, live.centre)
        self.live = live
        self.stream = stream
        self.killed = asyncio.Event()  # the console or stop() ended the call
        self.poke = asyncio.Event()  # a console request for the conversation
        self.requests: list[tuple] = []
        self.agent: str | None = None  # who the caller talks to now
        self.on_hold = False
        self.parties: list[str] = []  # agents a console add_party brought in

    # -- pacing ------------------------------------------------------------------

    def _sync(self) -> None:
        behind = ms_of(self.live.clock.now() - self.clock.now())
        if behind > 0:
            self.clock.advance(behind)

    async def _paced(self, op):
        self._sync()
        try:
            return await op
        finally:
            ahead = ms_of(self.clock.now() - self.live.clock.now())
            if ahead > 0 and not self.killed.is_set():
                await wait_any([self.killed], self.live.clock.seconds(ahead))

    def kill(self, by: str) -> None:
        """End the call from outside (the console's hang-up, the centre stopping)."""
        if self.ended_by is None:
            self._end(by)
        self.killed.set()

    def ask(self, request: tuple) -> None:
        """A console request for the conversation in progress."""
        self.requests.append(request)
        self.poke.set()

    # -- the IVR: the simulator's own, paced -----------------------------------------

    async def answer(self) -> None:
        await self._paced(super().answer())

    async def play(self, sounds: Sequence[Sound], *, interrupt_keys: str = "") -> str | None:
        return await self._paced(super().play(sounds, interrupt_keys=interrupt_keys))

    async def read_digits(self, sounds: Sequence[Sound], *, max_digits: int, timeout_ms: int,
                          inter_digit_ms: int, end_key: str | None,
                          interruptible: bool = True) -> Digits:
        if hasattr(self.caller, "wanted"):
            self.caller.wanted = (max_digits, end_key)
        return await self._paced(super().read_digits(
            sounds, max_digits=max_digits, timeout_ms=timeout_ms,
            inter_digit_ms=inter_digit_ms, end_key=end_key, interruptible=interruptible))

    async def say(self, kind: str, value: str, language: str, *,
                  words: str | None = None) -> None:
        await self._paced(super().say(kind, value, language, words=words))

    async def wait(self, ms: int, *, music: str | None = None) -> None:
        await self._paced(super().wait(ms, music=music))

    async def start_recording(self, path: str) -> None:
        await self._paced(super().start_recording(path))

    async def stop_recording(self) -> None:
        await self._paced(super().stop_recording())

    async def voicemail(self, mailbox: str, *, greeting: Sequence[Sound],
                        max_length_ms: int) -> VoicemailOutcome:
        return await self._paced(super().voicemail(mailbox, greeting=greeting,
                                                   max_length_ms=max_length_ms))

    async def transfer(self, target: DialTarget, *, mode: Literal["blind", "attended"],
                       ring_ms: int, caller_id: str | None = None,
                       announce: Sequence[Sound] = ()) -> TransferOutcome:
        self.live.settle()
        return await self._paced(super().transfer(target, mode=mode, ring_ms=ring_ms,
                                                  caller_id=caller_id, announce=announce))

    async def three_way(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                        caller_id: str | None = None) -> DialOutcome:
        self.live.settle()
        return await self._paced(super().three_way(target, ring_ms=ring_ms,
                                                   on_answer=on_answer, caller_id=caller_id))

    async def hear(self, sounds: Sequence[Sound]) -> None:
        """Sounds no flow op asked for (a queue's announcements), paced."""
        async def heard() -> None:
            for sound in sounds:
                self._hear(sound, "")
        await self._paced(heard())

    # -- agents, on the live clock ---------------------------------------------------

    async def dial(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                   caller_id: str | None = None) -> DialOutcome:
        if target.kind != "agent":
            self.live.settle()
            return await self._paced(super().dial(target, ring_ms=ring_ms, on_answer=on_answer,
                                                  caller_id=caller_id))
        self._check()
        self._sync()
        self.live.settle()
        refusal = self._refusal(target)
        if refusal is not None:
            agent = self.centre.agent(target.id)
            status = "busy" if agent is not None and agent.state in (
                AgentState.BUSY, AgentState.RINGING) else "unavailable"
            self._note("dial", target=target.id, status=status, reason=refusal)
            return DialOutcome(status, reason=refusal)
        started = self.live.clock.now()
        winner = await self.ring((target.id,), ring_ms)
        rang = ms_of(self.live.clock.now() - started)
        if winner is None:
            self._note("dial", target=target.id, status="no_answer", ring_ms=rang)
            return DialOutcome("no_answer", reason=f"{target.id} did not answer in {ring_ms} ms")
        self._note("dial", target=target.id, status="answered", ring_ms=rang)
        return DialOutcome("answered", await self._talk_live(target.id, rang, on_answer))

    async def enqueue(self, request: QueueRequest, *, on_answer: OnAnswer,
                      on_ring: OnRing | None = None,
                      on_announce: OnAnnounce | None = None) -> QueueOutcome:
        self._check()
        self._sync()
        found = await LiveQueueWait(self, request, on_ring, on_announce=on_announce).run()
        if found.agent is None:
            return QueueOutcome(found.status, found.wait_ms, found.position,
                                reason=found.reason, key=found.key,
                                left_position=found.left_position)
        conversation = await self._talk_live(found.agent, found.ring_ms, on_answer)
        return QueueOutcome("answered", found.wait_ms, found.position, conversation)

    async def ring(self, ids: Sequence[str], ring_ms: int,
                   until: datetime | None = None) -> str | None:
        """Ring the agents for ring_ms (or until `until`): the one who answers,
        or None. An automatic agent answers after its script's time; a
        person when the live centre's answer() is called for them."""
        live, centre = self.live, self.centre
        offer = Offer(self.info.call_id, tuple(ids), live.clock.now())
        centre.offer(ids)
        self._note("ring", targets=list(ids))
        loop = asyncio.get_running_loop()
        timers = []
        for agent in ids:
            live.offers[agent] = offer
            after = centre.scripts[agent].answer_after_ms
            if not live.human(agent) and after is not None and after <= ring_ms:
                timers.append(loop.call_later(live.clock.seconds(after), offer.take, agent))
        limit = ring_ms
        if until is not None:
            limit = min(limit, max(ms_of(until - live.clock.now()), 0))
        try:
            await wait_any([offer.event, self.killed], live.clock.seconds(limit))
        finally:
            offer.closed = True
            for timer in timers:
                timer.cancel()
            for agent in ids:
                if live.offers.get(agent) is offer:
                    del live.offers[agent]
            winner = None if self.killed.is_set() else offer.winner
            centre.ring_out([a for a in ids if a != winner])
            live.changed.notify()
        self._check()
        return winner

    async def _talk_live(self, agent: str, ring_ms: int, on_answer: OnAnswer) -> Conversation:
        """The caller and the agent talk until one ends it, the console
        hangs up, or a console transfer hands the caller to someone else."""
        live = self.live
        self.centre.connect(agent)
        self.agent = agent
        started = live.clock.now()
        ended_by = "caller"
        try:
            await on_answer(agent)
            started = live.clock.now()
            while True:
                what = await self._conversation(agent, started)
                if what[0] != "transfer":
                    ended_by = what[0]
                    break
                moved = await live.transfer_now(self, agent, started, what[1], what[2])
                if moved is None:
                    continue  # an attended transfer nobody took: back to the agent
                if moved == "":
                    return self._finished(agent, started, ring_ms, "transfer")
                if moved == "back":  # blind and nobody took it: the caller is back in the flow
                    return self._finished(agent, started, ring_ms, "agent")
                agent, started = moved, live.clock.now()
        except CallHungUp:
            ended_by = "caller"
        return self._finished(agent, started, ring_ms, ended_by)

    def _finished(self, agent: str, started: datetime, ring_ms: int,
                  ended_by: str) -> Conversation:
        talk = ms_of(self.live.clock.now() - started)
        talking, self.agent, self.on_hold = self.agent, None, False
        self.live._last_call[agent] = self.info.call_id
        if talking == agent:  # not when a console transfer has released the agent already
            self.live.release(agent)
        while self.parties:
            self.live.release(self.parties.pop())
        self._note("conversation", party=agent, talk_ms=talk, ended_by=ended_by)
        wrapup = self.centre.scripts[agent].wrapup if not self.live.human(agent) else None
        if ended_by == "caller":
            self._end("caller")
        elif ended_by == "transfer":
            self._end("transfer")
        return Conversation(agent, ring_ms, talk, ended_by,
                            wrapup=dict(wrapup) if wrapup else None)

    async def _conversation(self, agent: str, started: datetime) -> tuple:
        """Until the talk's end: ("agent",) or ("caller",) as the script says
        (a person talks until the console ends it), ("agent",) for a console
        hang-up or the centre stopping, ("transfer", target, mode) for a
        console transfer."""
        live = self.live
        talk_ms = None if live.human(agent) else live.talk_ms(agent)
        while True:
            self.poke.clear()
            if self.killed.is_set():
                return ("agent",)
            if self.requests:
                return self.requests.pop(0)
            left = None
            if talk_ms is not None:
                left = talk_ms - ms_of(live.clock.now() - started)
                if left <= 0:
                    return (self.centre.scripts[agent].ends,)
            await wait_any([self.poke, self.killed], live.clock.seconds(left))
