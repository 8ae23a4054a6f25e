"""A supervised chore's backoff starts over after a run that got past the longest backoff: it
had been working, so its next fault is a new one, tried again after the first wait rather than
the longest. Driven by an injected clock and sleep: nothing waits for real."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ccdsl.runtime.console import chores


def test_a_long_good_run_starts_the_backoff_over(caplog) -> None:
    now = 0.0
    waits: list[float] = []
    # how long each run works before it fails (None: it returns instead)
    runs = iter([(0, "fail"), (0, "fail"), (0, "fail"),
                 (8, "fail"),       # as long as the cap: not past it, the backoff goes on
                 (8.5, "fail"),     # past the cap: it had been working, back to the first
                 (0, "fail"),
                 (3600, "return")])  # an hour's good run that returns: back to the first too

    async def chore() -> None:
        nonlocal now
        worked, end = next(runs)
        now += worked
        if end == "fail":
            raise ValueError("a fault")

    async def sleep(seconds: float) -> None:
        nonlocal now
        waits.append(seconds)
        now += seconds  # the backoff's own wait is not a run of the chore
        if len(waits) == 7:  # the console stopping
            raise asyncio.CancelledError

    caplog.set_level(logging.ERROR, logger="ccdsl.console")
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(chores.supervised("test chore", chore, first_s=1, max_s=8, sleep=sleep,
                                      clock=lambda: now))
    assert waits == [1, 2, 4, 8, 1, 2, 1]
    assert caplog.records[-1].getMessage() == ("console: the test chore ended; "
                                               "started again in 1 s")
