"""One `ccf serve` among N sharing a call store: its heartbeat row, the other workers as last
read, and ccf-answered Gosubs passed to the worker running the call (docs/workers.md).

Every store access runs in a thread: must never block the event loop on the database. On
PostgreSQL the store's notices (store_listen.py) wake it at once; the poll is the safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ccdsl.runtime.asterisk.server import FlowServer
from ccdsl.runtime.asterisk.store_listen import StoreListener
from ccdsl.runtime.operations.database import is_postgres
from ccdsl.runtime.operations.shared_db import SharedStoreError
from ccdsl.runtime.operations.store_notify import ANSWERED, DONE, FLOWS
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
WAIT_POLL_S = 0.1  # how often the agent's Gosub's worker looks whether the hook has run
# how long the agent's Gosub waits for the worker running the call: first to take the signal
# (none does: the call runs nowhere), then for its hook to have run, as a local one is waited on
TAKE_WAIT_S = 3.0
HOOK_WAIT_S = 10.0
EXPIRE_EVERY_S = 30.0


class WorkerPresence:
    """start() registers and runs the loop; relay() is the FlowServer's; stop() says stopped."""

    def __init__(self, rows: WorkerRows, server: FlowServer, version: Callable[[], str | None],
                 *, api: Callable[[], str | None] | None = None, beat_s: float = HEARTBEAT_S,
                 poll_s: float | None = None, wait_s: float | None = None,
                 on_deploy: Callable[[], Awaitable[object]] | None = None) -> None:
        self.rows = rows
        self.api = api  # where its HTTP API listens, once the console's web server says
        self.server = server
        self.version = version
        self.beat_s = beat_s
        self.poll_s = SIGNAL_POLL_S if poll_s is None else poll_s
        self.wait_s = WAIT_POLL_S if wait_s is None else wait_s
        self.on_deploy = on_deploy  # takes a newly deployed version into service now
        self.listener: StoreListener | None = None  # PostgreSQL: the store's notices
        self._wake = asyncio.Event()  # a signal may wait for a call running here
        self._deployed = asyncio.Event()  # the flow pointer moved
        self._waiting: dict[str, set[asyncio.Event]] = {}  # relayed call id -> its waits
        self._tasks: list[asyncio.Task] = []
        self.workers: list[WorkerRow] = []  # every worker of the store, as last read
        self._task: asyncio.Task | None = None
        self._hooks: set[asyncio.Task] = set()
        self._failing = False  # the store could not be reached at the last try: said once

    async def start(self) -> None:
        await self._store(self.rows.register, self.version())
        server = self.server
        server.relay = self.relay
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._run())
        if is_postgres(self.rows.target):
            self.listener = StoreListener(self.rows.target, self._heard, self._listening)
            self.listener.start()
            self._tasks.append(loop.create_task(self._follow_deploys()))

    def status(self) -> list[dict[str, Any]]:
        """The workers as GET /status shows them."""
        return workers_json(self.workers, own=self.rows.id)

    async def relay(self, call_id: str, agent: str, channel: str) -> bool:
        """Hand an agent's ccf-answered to the worker running call_id and wait, as the local
        Gosub waits for the hook; False when no worker took it."""
        if not any(w.status(now_ms()) == "up" and w.worker != self.rows.id
                   for w in self.workers):
            return False  # this worker serves alone: nobody else runs calls
        done_heard = asyncio.Event()  # set by the store's notice that the hook ran
        self._waiting.setdefault(call_id, set()).add(done_heard)  # before it can be said
        taken = None
        try:
            at_ms = await self._store(self.rows.send_answered, call_id, agent, channel)
            if at_ms is None:
                return False
            started = time.monotonic()
            while True:
                # the poll's period, or until the next limit: a notice wakes it before either
                limit = started + (TAKE_WAIT_S if taken is None else HOOK_WAIT_S)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done_heard.wait(), max(0.0, min(
                        min(self.poll_s, self.wait_s), limit - time.monotonic())) + 0.001)
                done_heard.clear()
                found = await self._store(self.rows.signal_state, call_id, at_ms, channel)
                taken, done = found if found is not None else (None, False)
                waited = time.monotonic() - started
                if done or (taken is not None and waited > HOOK_WAIT_S):
                    return True
                if taken is None and waited > TAKE_WAIT_S:
                    return False
        finally:
            waits = self._waiting.get(call_id, set())
            waits.discard(done_heard)
            if not waits:
                self._waiting.pop(call_id, None)

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._hooks:
            await asyncio.wait(list(self._hooks), timeout=HOOK_WAIT_S)
        await self._store(self.rows.stopped, served=self.server.served)

    async def _run(self) -> None:
        next_beat = next_expiry = next_poll = 0.0
        while True:
            now = time.monotonic()
            if now >= next_beat:
                next_beat = now + self.beat_s
                await self._beat()
            if now >= next_expiry:
                next_expiry = now + EXPIRE_EVERY_S
                await self._store(self.rows.expire_signals)
            if self._wake.is_set() or now >= next_poll:
                # cleared before the look: a notice during it makes another look at once
                self._wake.clear()
                next_poll = now + self.poll_s
                await self._take()
            due = min(next_beat, next_expiry, next_poll) - time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(due, 0.0) + 0.001)

    # -- the store's notices (PostgreSQL) ----------------------------------------------------

    def _heard(self, kind: str, value: str) -> None:
        if kind == ANSWERED:
            if self.server.local_id(value) is not None:
                self._wake.set()
        elif kind == DONE:
            for waiting in self._waiting.get(value, ()):
                waiting.set()
        elif kind == FLOWS:
            self._deployed.set()

    def _listening(self) -> None:
        """A LISTEN began (at start, or again after a loss): what was said while nobody
        listened is looked for now, as a notice would have made it."""
        self._wake.set()
        self._deployed.set()
        for waits in self._waiting.values():
            for waiting in waits:
                waiting.set()

    async def _follow_deploys(self) -> None:
        """One refresh at a time; notices heard during one make one more."""
        while True:
            await self._deployed.wait()
            self._deployed.clear()
            if self.on_deploy is not None:
                try:
                    await self.on_deploy()
                except Exception:  # noqa: BLE001 - the tick's poll takes it in, as before
                    log.exception("workers: a deploy heard of could not be taken in now")

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
