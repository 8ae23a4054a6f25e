"""How the console's handlers do blocking work (the call store, a password hash, a drawing):
in a worker thread, off the event loop.

One loop serves calls, AMI and the console; a store read (a PostgreSQL round trip, a report)
must not hold up a call's next AGI command. Must not be given anything that touches the
loop's own state (the desk, the feed, the live status).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


async def off_loop(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """fn(*args, **kwargs) in a worker thread; its exceptions are raised here."""
    return await asyncio.to_thread(fn, *args, **kwargs)
