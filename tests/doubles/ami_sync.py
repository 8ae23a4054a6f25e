"""Keeping the AMI test peer's app_queue in step with the AMI link that reads its events.

A FastAGI peer's Queue() runs on a virtual clock: five seconds of ringing take no time, so
without this the caller's EXEC Queue reply could reach ccf serve before the AgentCalled it
sent. Must not change an event: it only waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator

from ccdsl.runtime.asterisk.ami import AmiLink
from doubles.ami_server import AmiPeer

# what app_queue sends (an AMI link counts these; the peer, what it sent of them)
APP_QUEUE_EVENTS = frozenset({
    "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
    "AgentRingNoAnswer", "AgentConnect", "AgentComplete", "QueueMemberStatus",
    "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved"})


class _Arrival:
    """Awaited by the app_queue model before it goes on: until the link has
    read as many app_queue events as were sent. Not a coroutine, so one
    nobody awaits (an event of a QueuePause action) leaves no warning."""

    def __init__(self, counts: dict[str, int], timeout_s: float) -> None:
        self.counts = counts
        self.timeout_s = timeout_s

    def __await__(self) -> Generator:
        return self._wait().__await__()

    async def _wait(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while self.counts["read"] < self.counts["sent"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the AMI link read {self.counts['read']} of the "
                                   f"{self.counts['sent']} app_queue events sent")
            await asyncio.sleep(0.002)


def read_by(peer: AmiPeer, link: AmiLink, timeout_s: float = 5.0) -> dict[str, int]:
    """From now on each app_queue event of the peer waits until `link` (ccf
    serve's AmiLink, whose events the peer's sessions carry) has read it.
    The counts, for a test that wants to look."""
    counts = {"sent": 0, "read": 0}
    inner = link.on_event

    def reading(event):
        if event.event in APP_QUEUE_EVENTS:
            counts["read"] += 1
        return inner(event) if inner is not None else None

    def sending(event: dict[str, object]) -> _Arrival:
        counts["sent"] += 1
        return _Arrival(counts, timeout_s)

    link.on_event = reading
    peer.app_queue.listeners.append(sending)
    return counts
