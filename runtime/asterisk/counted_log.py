"""A log line for what a peer can make happen thousands of times a second, written with a count.

At most one line per interval; must not lose the count (what was not written is in the next line).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable


class CountedLog:
    """`note()` each time it happens: the first time is logged at once,
    then at most one line per `interval_s` saying how many times it
    happened since the line before (a timer writes the last one, so a storm
    that stops still ends with its count). `total` counts every time."""

    def __init__(self, logger: logging.Logger, message: str, *, level: int = logging.WARNING,
                 interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.message = message
        self.level = level
        self.interval_s = interval_s
        self.clock = clock
        self.total = 0
        self.pending = 0  # not yet in a line
        self._detail = ""
        self._last: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def note(self, detail: str = "", count: int = 1) -> None:
        self.total += count
        self.pending += count
        if detail:
            self._detail = detail
        now = self.clock()
        if self._last is None or now - self._last >= self.interval_s:
            self._write(now)
        elif self._timer is None:
            self._schedule(self._last + self.interval_s - now)

    def flush(self) -> None:
        """Write what is pending now (at stop)."""
        self._cancel()
        if self.pending:
            self._write(self.clock())

    def _write(self, now: float) -> None:
        self._cancel()
        count, self.pending = self.pending, 0
        self._last = now
        detail = f": {self._detail}" if self._detail else ""
        self.logger.log(self.level, "%s%s (%d time(s) since the last such line, %d in all; "
                        "at most one line per %g s)", self.message, detail, count, self.total,
                        self.interval_s)

    def _schedule(self, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the next note() after the interval writes it
        self._timer = loop.call_later(max(0.0, delay), self._timed)

    def _timed(self) -> None:
        self._timer = None
        if self.pending:
            self._write(self.clock())

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
