"""The console's live changes: published by the centre, read by each open page's stream.

A subscriber that does not keep up loses its subscription (its page reconnects and gets the
whole state again), never holds up a call. Must not import a web framework.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 256  # changes a page may be behind before it is dropped


@dataclass(frozen=True)
class Change:
    """One change: `kind` names it (agent, pop, call, ...), `agent` the one
    agent it is for (None: for supervisors; an agent's page sees only its
    own), `seq` its place in the feed."""

    seq: int
    kind: str
    data: dict[str, Any]
    agent: str | None = None


@dataclass(eq=False)  # kept in a set: each subscription is its own
class Subscription:
    wants: Callable[[Change], bool]
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: bool = False

    async def next(self, timeout_s: float) -> Change | None:
        """The next change, or None after timeout_s without one (the stream
        then sends a keep-alive). Raises LookupError once dropped."""
        if self.dropped and self.queue.empty():
            raise LookupError("this page fell too far behind the live changes")
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            if self.dropped:
                raise LookupError("this page fell too far behind the live changes") from None
            return None


class LiveFeed:
    """Publish from the event loop's thread (call_soon_threadsafe from others)."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._listeners: list[Callable[[Change], None]] = []
        self._seq = itertools.count(1)
        self.published = 0

    def subscribe(self, wants: Callable[[Change], bool] = lambda change: True) -> Subscription:
        sub = Subscription(wants)
        self._subs.add(sub)
        return sub

    def listen(self, listener: Callable[[Change], None]) -> None:
        """Call `listener` with every change, at once (a board kept in memory)."""
        self._listeners.append(listener)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, kind: str, data: dict[str, Any], *, agent: str | None = None) -> Change:
        change = Change(next(self._seq), kind, data, agent)
        self.published += 1
        for listener in self._listeners:
            listener(change)
        for sub in list(self._subs):
            if not sub.wants(change):
                continue
            try:
                sub.queue.put_nowait(change)
            except asyncio.QueueFull:
                sub.dropped = True
                self._subs.discard(sub)
        return change
