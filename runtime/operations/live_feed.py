"""The console's live changes: published by the centre, read by each open page's stream.

A subscriber that does not keep up loses its subscription (its page reconnects and gets the
whole state again), never holds up a call. Must not import a web framework.
"""

from __future__ import annotations

import asyncio
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
    agent: str | None = None

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
        self._subs: set[Subscription] = set()  # whole-centre streams (supervisors)
        self._by_agent: dict[str, set[Subscription]] = {}  # an agent's own streams
        self._listeners: list[Callable[[Change], None]] = []
        self.published = 0  # changes so far: the last one's seq

    def subscribe(self, wants: Callable[[Change], bool] = lambda change: True, *,
                  agent: str | None = None) -> Subscription:
        """A stream of the changes `wants` takes; with `agent`, only that
        agent's changes (kept apart, so a change costs nothing for the other
        agents' pages)."""
        sub = Subscription(wants)
        sub.agent = agent
        if agent is None:
            self._subs.add(sub)
        else:
            self._by_agent.setdefault(agent, set()).add(sub)
        return sub

    def listen(self, listener: Callable[[Change], None]) -> None:
        """Call `listener` with every change, at once (a board kept in memory)."""
        self._listeners.append(listener)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        mine = self._by_agent.get(sub.agent or "")
        if mine is not None:
            mine.discard(sub)
            if not mine:
                del self._by_agent[sub.agent]

    @property
    def subscribers(self) -> int:
        return len(self._subs) + sum(len(subs) for subs in self._by_agent.values())

    def publish(self, kind: str, data: dict[str, Any], *, agent: str | None = None) -> Change:
        self.published += 1
        change = Change(self.published, kind, data, agent)
        for listener in self._listeners:
            listener(change)
        mine = self._by_agent.get(agent) if agent is not None else None
        for sub in [*self._subs, *(mine or ())]:
            if not sub.wants(change):
                continue
            try:
                sub.queue.put_nowait(change)
            except asyncio.QueueFull:
                sub.dropped = True
                self.unsubscribe(sub)
        return change
