"""The reply deadlines of every AGI session on one event loop, kept under one timer.

A timer per command (asyncio.timeout) costs the loop's heap a push and a cancel for every
command, with a thousand calls' timers in it a third of ccf serve's CPU per call
(bench/fastagi.py). Must not read or write the line: agi.py's session arms a deadline
before it waits for a reply, disarms it after, and turns the cancellation into its timeout.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Callable

# the least time between two sweeps: a deadline is met at most this late. A sweep
# looks at every waiting session, so a burst of deadlines costs a sweep a tick
TICK_S = 0.05


class ReplyDeadlines:
    """When each waiting reply is due, with one timer at the earliest of them (module doc).
    `arm` remembers the task to cancel and the callback that notes why; the callback runs
    before the cancellation, so the waiter can tell its own expiry from any other cancel."""

    # no reference to its loop: the loop's entry in _BY_LOOP must die with it
    def __init__(self) -> None:
        self._waiting: dict[object, tuple[float, asyncio.Task, Callable[[], None]]] = {}
        # weakly: a handle holds its loop, and the loop holds the handle till it runs
        self._timer: weakref.ref[asyncio.TimerHandle] | None = None
        self._wake = math.inf  # when the timer fires
        self._swept = -math.inf  # when it last fired

    def arm(self, key: object, when: float, task: asyncio.Task,
            expire: Callable[[], None]) -> None:
        """Cancel `task` at loop time `when` (after calling `expire`), unless disarmed."""
        self._waiting[key] = (when, task, expire)
        if when < self._wake:
            self._schedule(when)

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def disarm(self, key: object) -> None:
        self._waiting.pop(key, None)

    def extend(self, key: object, when: float) -> bool:
        """Move `key`'s deadline to `when` if that is later; False when it has none
        (its reply came, or its deadline has passed)."""
        found = self._waiting.get(key)
        if found is None:
            return False
        if found[0] < when:
            self._waiting[key] = (when, found[1], found[2])
        return True

    def __len__(self) -> int:
        return len(self._waiting)

    def _schedule(self, when: float) -> None:
        timer = self._timer() if self._timer is not None else None
        if timer is not None:
            timer.cancel()
        when = max(when, self._swept + TICK_S)
        self._wake = when
        self._timer = weakref.ref(asyncio.get_running_loop().call_at(when, self._sweep))

    def _sweep(self) -> None:
        self._timer, self._wake = None, math.inf
        now = self._swept = asyncio.get_running_loop().time()
        due = [key for key, (when, _, _) in self._waiting.items() if when <= now]
        for key in due:
            _, task, expire = self._waiting.pop(key)
            if not task.done():
                expire()
                task.cancel()
        if self._waiting:
            self._schedule(min(when for when, _, _ in self._waiting.values()))


_BY_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ReplyDeadlines] = \
    weakref.WeakKeyDictionary()


def deadlines(loop: asyncio.AbstractEventLoop) -> ReplyDeadlines:
    """The loop's deadlines (one set per event loop, called in that loop)."""
    found = _BY_LOOP.get(loop)
    if found is None:
        found = _BY_LOOP[loop] = ReplyDeadlines()
    return found
