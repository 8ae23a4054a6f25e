"""The wrap-ups that waited for their calls' end, being stored as tasks of ccf serve's event loop
(on Asterisk or simulated): started when a call ends, logged if one fails, waited for at a stop.

Must not decide what is stored or when it is given up (wrapup.WrapupDesk does).
"""

from __future__ import annotations

import asyncio
import logging

from ccdsl.runtime.operations.wrapup import WrapupDesk

log = logging.getLogger("ccdsl.serve")
STOP_WAIT_S = 20.0  # a held save's last try and its CRM log, at a stop


class HeldSaves:
    def __init__(self, desk: WrapupDesk) -> None:
        self.desk = desk
        self.tasks: set[asyncio.Task] = set()

    def call_ended(self, call_id: str) -> None:
        """The call ended (its record is final): store what waited for its end, in a task of
        its own, so the caller (the call's own ending) goes on."""
        if not self.desk.holds(call_id):
            return
        task = asyncio.get_running_loop().create_task(self.desk.call_ended(call_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(_report_failure)

    async def stop(self) -> None:
        """Stopping: a save retrying on a busy store is tried once more (WrapupDesk.stop),
        one under way ends first; so is a CRM entry waiting to be told (WrapupDesk.telling:
        its values stored, its call not read yet), said as not told if it still cannot be.
        Waited for again while any remain: a held save's last try may hand its CRM entry on."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_WAIT_S
        while (waiting := self.tasks | self.desk.telling) and loop.time() < deadline:
            self.desk.stop()
            await asyncio.wait(list(waiting), timeout=deadline - loop.time())


def _report_failure(task: asyncio.Task) -> None:
    # WrapupDesk ends each held save itself (stored, refused, or handed back to the desk); an
    # error escaping it is a fault that must not vanish as 'Task exception was never retrieved'
    exc = None if task.cancelled() else task.exception()
    if exc is not None:
        log.error("storing the held wrap-ups of a call failed: %s: %s", type(exc).__name__, exc)
