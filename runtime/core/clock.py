"""Time comes in through the clock, so a simulated hour takes
milliseconds and a trace is reproducible (Temporal's rule). Imports nothing of the runtime.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol

# timedelta(milliseconds=ms) parses its keywords on every call; a whole
# number of these is the same timedelta at a fraction of the cost
ONE_MS = timedelta(milliseconds=1)


def ms_delta(ms: int) -> timedelta:
    """timedelta(milliseconds=ms), cheaper for a whole number of ms (the
    simulator's every step); the same OverflowError past timedelta's range."""
    return ONE_MS * ms if type(ms) is int else timedelta(milliseconds=ms)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""

    async def sleep(self, ms: int) -> None: ...


class SystemClock:
    # datetime.now(UTC) itself, not a method that calls it: `ccf serve` reads
    # the clock a few times per AGI command, and a Python frame per read showed
    now = staticmethod(partial(datetime.now, UTC))

    async def sleep(self, ms: int) -> None:
        await asyncio.sleep(ms / 1000)


class VirtualClock:
    """A clock that only moves when told to. `sleep` advances it at once,
    so waiting a simulated minute costs nothing."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the virtual clock needs a timezone-aware start time")
        self._now = start
        # the whole ms it has moved since start, while it has only moved by
        # whole ms (else None): the simulator reads a call's elapsed time
        # here rather than subtracting datetimes on every step
        self.ticks: int | None = 0

    def now(self) -> datetime:
        return self._now

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("time does not run backwards")
        if type(ms) is int and self.ticks is not None:
            self._now += ONE_MS * ms  # ms_delta(ms), inlined
            self.ticks += ms
        else:
            self._now += ms_delta(ms)
            self.ticks = None

    async def sleep(self, ms: int) -> None:
        self.advance(max(ms, 0))
