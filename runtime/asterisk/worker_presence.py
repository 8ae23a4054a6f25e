"""One `ccf serve` among N sharing a call store: its heartbeat row, the other workers as last
read, and ccf-answered Gosubs passed to the worker running the call (docs/workers.md).

Every store access runs in a thread: must never block the event loop on the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from ccdsl.runtime.asterisk.server import FlowServer
from ccdsl.runtime.operations.shared_db import SharedStoreError
from ccdsl.runtime.operations.workers import (
    HEARTBEAT_S,
    WorkerRow,
    WorkerRows,
    list_workers,
    now_ms,
    workers_json,
)

log = logging.getLogger("ccdsl.serve")

SIGNAL_POLL_S = 0.25  # how often a worker looks for ccf-answered signals for its calls
# how long the agent's Gosub waits for the worker running the call: first to take the signal
# (none does: the call runs nowhere), then for its hook to have run, as a local one is waited on
TAKE_WAIT_S = 3.0
HOOK_WAIT_S = 10.0
EXPIRE_EVERY_S = 30.0


class WorkerPresence:
    """start() registers and runs the loop; relay() is the FlowServer's; stop() says stopped."""

    def __init__(self, rows: WorkerRows, server: FlowServer, version: Callable[[], str | None],
                 *, api: Callable[[], str | None] | None = None, beat_s: float = HEARTBEAT_S,
                 poll_s: float = SIGNAL_POLL_S) -> None:
        self.rows = rows
        self.api = api  # where its HTTP API listens, once the console's web server says
        self.server = server
        self.version = version
        self.beat_s = beat_s
        self.poll_s = poll_s
        self.workers: list[WorkerRow] = []  # every worker of the store, as last read
        self._task: asyncio.Task | None = None
        self._hooks: set[asyncio.Task] = set()
        self._failing = False  # the store could not be reached at the last try: said once

    async def start(self) -> None:
        await self._store(self.rows.register, self.version())
        server = self.server
        server.relay = self.relay
        self._task = asyncio.get_running_loop().create_task(self._run())

    def status(self) -> list[dict[str, Any]]:
        """The workers as GET /status shows them."""
        return workers_json(self.workers)

    async def relay(self, call_id: str, agent: str, channel: str) -> bool:
        """Hand an agent's ccf-answered to the worker running call_id and wait, as the local
        Gosub waits for the hook; False when no worker took it."""
        if not any(w.status(now_ms()) == "up" and w.worker != self.rows.id
                   for w in self.workers):
            return False  # this worker serves alone: nobody else runs calls
        at_ms = await self._store(self.rows.send_answered, call_id, agent, channel)
        if at_ms is None:
            return False
        started = time.monotonic()
        while True:
            await asyncio.sleep(min(self.poll_s, 0.1))
            found = await self._store(self.rows.signal_state, call_id, at_ms, channel)
            taken, done = found if found is not None else (None, False)
            waited = time.monotonic() - started
            if done or (taken is not None and waited > HOOK_WAIT_S):
                return True
            if taken is None and waited > TAKE_WAIT_S:
                return False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._hooks:
            await asyncio.wait(list(self._hooks), timeout=HOOK_WAIT_S)
        await self._store(self.rows.stopped, served=self.server.served)

    async def _run(self) -> None:
        next_beat = next_expiry = 0.0
        while True:
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.beat_s
                await self._beat()
            if now >= next_expiry:
                next_expiry = now + EXPIRE_EVERY_S
                await self._store(self.rows.expire_signals)
            await self._take()
            await asyncio.sleep(self.poll_s)

    async def _beat(self) -> None:
        server = self.server
        if self.api is not None:
            self.rows.api = self.api() or self.rows.api
        await self._store(self.rows.beat, calls_running=server.calls_running,
                          served=server.served, version=self.version(),
                          state="stopping" if server.stopping else "serving")
        found = await self._store(list_workers, self.rows.target)
        if found is not None:
            self.workers = found

    async def _take(self) -> None:
        server = self.server
        if not server.calls:
            return
        taken = await self._store(self.rows.take_answered, server.running_ids())
        for call_id, at_ms, agent, channel in taken or ():
            task = asyncio.get_running_loop().create_task(
                self._fire(call_id, at_ms, agent, channel))
            self._hooks.add(task)
            task.add_done_callback(self._hooks.discard)

    async def _fire(self, call_id: str, at_ms: int, agent: str, channel: str) -> None:
        try:
            if not await self.server.answered_here(call_id, agent):
                log.warning("ccf-answered for call %s from another worker: the call no longer "
                            "waits for an agent here", call_id)
        finally:
            await self._store(self.rows.answered_done, call_id, at_ms, channel)

    async def _store(self, do: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one store access in a thread; None when the store cannot be reached (logged
        once until it can again: serving calls goes on without it)."""
        try:
            result = await asyncio.to_thread(do, *args, **kwargs)
        except SharedStoreError as exc:
            if not self._failing:
                log.error("workers: %s; this worker's heartbeat and signals wait for it", exc)
            self._failing = True
            return None
        if self._failing:
            log.info("workers: the call store answers again")
        self._failing = False
        return result
