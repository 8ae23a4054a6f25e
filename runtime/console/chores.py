"""The console's housekeeping chores kept running: one that fails is logged with its traceback
and started again after a backoff, so a fault nobody foresaw costs a few seconds, not the rest
of the process's life. Must not decide what a chore does; cancelling it ends it at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("ccdsl.console")

FIRST_BACKOFF_S = 1.0  # the wait before a failed chore starts again, doubled after each failure
MAX_BACKOFF_S = 60.0  # and capped: a chore failing for good is tried, and logged, once a minute


async def supervised(name: str, chore: Callable[[], Awaitable[None]], *,
                     first_s: float | None = None, max_s: float | None = None,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                     clock: Callable[[], float] | None = None) -> None:
    """Run `chore()` until cancelled: an exception escaping it is logged (traceback and all)
    and it is started again after the backoff; a run that got past the longest backoff
    before failing starts the backoff over (it had been working). A chore that returns is
    started again the same way: every chore here is meant to run as long as the console.
    `sleep` and `clock` (seconds; the running loop's by default) are the waits and the time
    the backoff reads, for tests to drive without waiting."""
    first = FIRST_BACKOFF_S if first_s is None else first_s
    cap = MAX_BACKOFF_S if max_s is None else max_s
    time = clock or asyncio.get_running_loop().time
    wait = first
    while True:
        began = time()
        error: Exception | None = None
        try:
            await chore()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever it was, the chore must go on
            error = exc
        if time() - began > cap:  # it had been working: not the same fault again
            wait = first
        if error is not None:
            log.error("console: the %s stopped on an error; started again in %g s", name,
                      wait, exc_info=error)
        else:
            log.error("console: the %s ended; started again in %g s", name, wait)
        await sleep(wait)
        wait = min(wait * 2, cap)
