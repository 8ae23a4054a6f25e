"""ccf serve's dialler of in-queue call-backs: when their turn comes and a member of the
queue is free, ring the agent, then the customer; retried as the policy says.

Runtime-free: the runtime gives the agents, the clock and `place` (Asterisk's AMI
Originate or the simulated centre, both through runtime/asterisk/callback.py's plan and
run). Must not place calls itself or write the store but through CallbackRows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.callback_hold import Holds
from ccdsl.runtime.operations.callback_policy import CallbackPolicy
from ccdsl.runtime.operations.callback_rows import (
    DONE,
    FAILED,
    GIVEN_UP,
    PENDING,
    CallbackRows,
    Request,
)

log = logging.getLogger("ccdsl.callbacks")

POLL_S = 1.0
NOT_PLACED_RETRY_MS = 30_000  # Asterisk unreachable, or the plan failed: try again then

# what an attempt came to (classify() of the placement's result)
ANSWERED, NO_ANSWER, BUSY = "answered", "no_answer", "busy"
AGENT_NO_ANSWER, NOT_PLACED, FAILED_OUTCOME = "agent_no_answer", "not_placed", "failed"


@dataclass(frozen=True)
class Placed:
    outcome: str  # one of the names above
    reason: str
    callback_id: str | None = None


def classify(result: Mapping[str, Any]) -> Placed:
    """A call-back's result (AsteriskControl.callback / the simulated
    centre's: status, reason, dial_status once the agent answered, uniqueid)
    as an attempt's outcome."""
    reason = str(result.get("reason") or "")
    callback_id = result.get("uniqueid")
    callback_id = None if callback_id is None else str(callback_id)
    if result.get("status") == "done":
        return Placed(ANSWERED, reason, callback_id)
    if "dial_status" not in result:  # the agent's phone was never answered
        return Placed(AGENT_NO_ANSWER, reason, callback_id)
    status = str(result.get("dial_status") or "").upper()
    outcome = {"NOANSWER": NO_ANSWER, "BUSY": BUSY}.get(status, FAILED_OUTCOME)
    return Placed(outcome, reason, callback_id)


class QueueLine:
    """An EventSink: who waits in each queue now, from the calls' events
    (queue_joined until queue_left or the call's end), with when they joined
    and their priority: a call-back's turn comes when nobody is ahead of it."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, tuple[int, int]]] = {}
        self._queue_of: dict[str, str] = {}

    def emit(self, event: Event) -> None:
        kind = event.kind
        if kind == "queue_joined":
            queue = str(event.data.get("queue"))
            self._leave(event.call_id)
            priority = event.data.get("priority")
            self._waiting.setdefault(queue, {})[event.call_id] = (
                int(event.at.timestamp() * 1000),
                priority if isinstance(priority, int) else 0)
            self._queue_of[event.call_id] = queue
        elif kind in ("queue_left", "call_ended", "callback_requested", "agent_answered"):
            self._leave(event.call_id)

    def _leave(self, call_id: str) -> None:
        queue = self._queue_of.pop(call_id, None)
        if queue is not None:
            self._waiting.get(queue, {}).pop(call_id, None)

    def ahead(self, queue: str, joined_ms: int, priority: int) -> int:
        """Callers waiting in `queue` who come before a place (joined at
        `joined_ms` with `priority`): a higher priority, or the same one and
        an earlier or equal join (the queue serves them so, app_queue too)."""
        return sum(1 for at, prio in self._waiting.get(queue, {}).values()
                   if prio > priority or (prio == priority and at <= joined_ms))


class CallbackDialler:
    """Dials due requests (tick() once a second in run()).

    agents(): the centre's agents now (state, queues); place(request, agent):
    rings the agent then the customer and returns the result's mapping (see
    classify); now_ms(): the centre's clock. holds: the runtime's pauses
    (callback_hold.py): a request whose turn has come while no member is
    free holds the queue's members, so the next one free is its agent
    rather than a later caller's; None: nobody is held."""

    def __init__(self, rows: CallbackRows, policy: CallbackPolicy, line: QueueLine, *,
                 agents: Callable[[], Iterable[Agent]],
                 place: Callable[[Request, str], Awaitable[Mapping[str, Any]]],
                 now_ms: Callable[[], int], poll_s: float = POLL_S,
                 holds: Holds | None = None) -> None:
        self.rows, self.policy, self.line = rows, policy, line
        self.agents, self.place, self.now_ms = agents, place, now_ms
        self.poll_s = poll_s
        self.holds = holds
        self.waiting: dict[str, set[str]] = {}  # queue -> members held for its call-backs
        self.on_dial: dict[tuple[str, int], tuple[str, str]] = {}  # (queue, agent) of a dial
        self.dialling: dict[tuple[str, int], asyncio.Task] = {}
        self.busy: set[str] = set()  # agents this dialler is ringing or connecting
        self.tried: dict[tuple[str, int], set[str]] = {}  # agents who did not answer
        self.started = False

    async def _db(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def start(self) -> list[tuple[str, int]]:
        """At start: the requests a dead run of this host was dialling are
        closed (CallbackRows.reconcile); pending ones are dialled as they
        come due."""
        self.started = True
        closed = await self._db(self.rows.reconcile, self.now_ms())
        if closed:
            log.warning("in-queue call-backs being dialled when a server stopped, closed as "
                        "interrupted (not dialled again): %s",
                        ", ".join(f"{c}#{s}" for c, s in closed))
        return closed

    async def run(self) -> None:
        if not self.started:
            await self.start()
        while True:
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - a locked store: the next tick tries again
                log.exception("in-queue call-backs: this round failed; trying again")
            await asyncio.sleep(self.poll_s)

    async def tick(self) -> int:
        """Start the dials that can start now; how many started."""
        now = self.now_ms()
        gave_up = await self._db(self.rows.give_up_expired, now, self.policy.give_up_after_ms)
        if gave_up:
            log.warning("%d in-queue call-back(s) given up: not reached within the time "
                        "allowed", gave_up)
        started = 0
        waiting: dict[str, set[str]] = {}
        for request in await self._db(self.rows.due, now):
            if request.key in self.dialling:
                continue
            if self.line.ahead(request.queue, request.joined_ms, request.priority):
                continue  # callers before it in line are still waiting: not held for
            agent = self._free_member(request)
            if agent is None:
                # its turn, nobody free: the next member free is its agent, not a
                # later caller's (app_queue rings no paused member)
                waiting.setdefault(request.queue, set()).update(self._holdable(request.queue))
                continue
            if not await self._db(self.rows.claim, request, agent, now):
                continue  # another server took it
            self.busy.add(agent)
            self.on_dial[request.key] = (request.queue, agent)
            self.dialling[request.key] = asyncio.get_running_loop().create_task(
                self._dial(request, agent))
            started += 1
        self.waiting = waiting
        await self.settle_holds()
        return started

    async def settle_holds(self) -> None:
        """Members held: those of the queues waiting for a member, and each
        agent of a call-back under way (in its queue); every other member
        ccf paused for a call-back is unpaused, a dead run's too."""
        if self.holds is None:
            return
        wanted = {q: set(agents) for q, agents in self.waiting.items()}
        for queue, agent in self.on_dial.values():
            wanted.setdefault(queue, set()).add(agent)
        await self.holds.settle(wanted)

    async def release(self) -> None:
        """Stopping: no member stays held (after drain(): no dial under way)."""
        self.waiting = {}
        await self.settle_holds()

    def _holdable(self, queue: str) -> set[str]:
        """The queue's members ccf may hold: logged in, not paused by someone else."""
        others = self.holds.others(queue) if self.holds is not None else set()
        return {a.id for a in self._members(queue)
                if a.state != AgentState.LOGGED_OFF and a.id not in others}

    async def drain(self) -> None:
        """Wait for the dials under way (tests, stopping)."""
        while self.dialling:
            await asyncio.gather(*self.dialling.values(), return_exceptions=True)

    def _members(self, queue: str) -> list[Agent]:
        return [a for a in self.agents() if queue in a.queues]

    def _free_member(self, request: Request) -> str | None:
        """The free member of the queue who waited longest, among those who
        have not let this request ring out."""
        tried = self.tried.get(request.key, set())
        # paused in this queue by someone else (an agent paused in it alone shows available)
        others = self.holds.others(request.queue) if self.holds is not None else set()
        free = [a for a in self._members(request.queue)
                if a.state == AgentState.AVAILABLE and a.id not in self.busy
                and a.id not in tried and a.id not in others]
        free.sort(key=lambda a: (a.idle_since is not None, a.idle_since or 0, a.id))
        return free[0].id if free else None

    async def _dial(self, request: Request, agent: str) -> None:
        try:
            try:
                placed = classify(await self.place(request, agent))
            except Exception as exc:  # noqa: BLE001 - Asterisk down, no number: said and kept
                placed = Placed(NOT_PLACED, str(exc) or type(exc).__name__)
            await self._settle(request, agent, placed)
        finally:
            self.busy.discard(agent)
            self.dialling.pop(request.key, None)
            self.on_dial.pop(request.key, None)
            # its agent at once back to the queue (unless the queue is still held)
            with contextlib.suppress(Exception):
                await self.settle_holds()

    async def _settle(self, request: Request, agent: str, placed: Placed) -> None:
        policy, now = self.policy, self.now_ms()
        kw: dict[str, Any] = {"outcome": placed.outcome, "reason": placed.reason,
                              "now_ms": now, "callback_id": placed.callback_id}
        attempts = request.attempts + 1
        if placed.outcome == ANSWERED:
            kw.update(status=DONE)
            self.tried.pop(request.key, None)
        elif placed.outcome in (AGENT_NO_ANSWER, NOT_PLACED):
            # not the customer's attempt: another agent now, or all again later
            tried = self.tried.setdefault(request.key, set())
            tried.add(agent)
            members = {a.id for a in self._members(request.queue)}
            later = placed.outcome == NOT_PLACED or members <= tried
            if later:
                self.tried.pop(request.key, None)
            kw.update(status=PENDING, attempts_back=1,
                      next_attempt_ms=now + (NOT_PLACED_RETRY_MS if placed.outcome == NOT_PLACED
                                             else policy.retry_after_ms) if later else now)
        elif attempts >= policy.attempts:
            kw.update(status=FAILED)
        else:
            retry = now + policy.retry_after_ms
            if retry >= request.requested_ms + policy.give_up_after_ms:
                kw.update(status=GIVEN_UP)
            else:
                kw.update(status=PENDING, next_attempt_ms=retry)
        if kw.get("status") == PENDING and "next_attempt_ms" in kw and \
                kw["next_attempt_ms"] >= request.requested_ms + policy.give_up_after_ms:
            kw.update(status=GIVEN_UP, next_attempt_ms=None)
        if not await self._db(self.rows.settle, request, **kw):
            log.error("in-queue call-back %s#%s: its outcome (%s) was not stored: the row "
                      "changed meanwhile", request.call_id, request.seq, placed.outcome)
        else:
            log.info("in-queue call-back %s#%s by agent %s: %s (%s)", request.call_id,
                     request.seq, agent, placed.outcome, kw["status"])
