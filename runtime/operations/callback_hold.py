"""Reserving a queue's next free member for an in-queue call-back whose turn has come:
its members paused in that queue with the reason HOLD_REASON, so the queue cannot hand them
to callers who joined later; the runtime pauses (Asterisk: QueuePause; the simulated centre).

Runtime-free: decides which members are held, from what the runtime says is paused now.
Must never unpause a member paused for another reason (the agent's own pause, the
supervisor's, a wrap-up, Auto-Pause).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

log = logging.getLogger("ccdsl.callbacks")

HOLD_REASON = "ccf-callback"  # the pause reason of a held member: ccf's own, and only ccf's

# (flow queue, agent) -> the reason of each member paused in that queue now ("": none given);
# None while the runtime does not know (the AMI link down)
Pauses = Callable[[], Mapping[tuple[str, str], str] | None]
# hold(queue, agent, on): pause (on) or unpause one member in one queue with HOLD_REASON
Hold = Callable[[str, str, bool], Awaitable[None]]


def held_by_us(reason: str | None) -> bool:
    return reason == HOLD_REASON


class Holds:
    """settle(wanted): the members `wanted` (queue -> agents) are paused in
    their queue with HOLD_REASON; every other member paused with it is
    unpaused (those of a call-back made or given up, of a server that
    stopped or died). A member paused for another reason is left alone."""

    def __init__(self, pauses: Pauses, hold: Hold) -> None:
        self.pauses, self.hold = pauses, hold

    def others(self, queue: str) -> set[str]:
        """The members paused in `queue` by someone else (not free for a call-back)."""
        now = self.pauses() or {}
        return {a for (q, a), reason in now.items() if q == queue and not held_by_us(reason)}

    async def settle(self, wanted: Mapping[str, Iterable[str]]) -> bool:
        """Hold and release as said; False when the runtime's pauses are not
        known (nothing done)."""
        now = self.pauses()
        if now is None:
            return False
        want = {(q, a) for q, agents in wanted.items() for a in agents}
        for (queue, agent) in sorted(want):
            if (queue, agent) not in now:
                await self._set(queue, agent, True)
        for (queue, agent), reason in sorted(now.items()):
            if held_by_us(reason) and (queue, agent) not in want:
                await self._set(queue, agent, False)
        return True

    async def _set(self, queue: str, agent: str, on: bool) -> None:
        try:
            await self.hold(queue, agent, on)
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            log.warning("in-queue call-backs: agent %s not %s in queue %s: %s", agent,
                        "held" if on else "released", queue, exc)
