"""What a bench's server process shares: running until the bench stops it.

The benches start ccf serve (or a stand-in) as a process of their own; this must not start one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading


async def until_stopped() -> None:
    """Return on SIGTERM, or when the bench process goes away (stdin closes)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def stdin_closed() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered
        # read aborts the interpreter at exit
        while os.read(0, 4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=stdin_closed, daemon=True).start()
    await stop.wait()
