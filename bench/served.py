"""What a bench's server process shares: running until the bench stops it; its CPU time.

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


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (from /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
