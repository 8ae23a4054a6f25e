"""One worker's LISTEN on its PostgreSQL call store: the notices other workers send as they write
(runtime/operations/store_notify.py), handed on as they arrive. Must never block the event loop
nor hold up a call: a lost connection is reopened with backoff while the workers' polls go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable

from ccdsl.runtime.operations.database import connect_async, shown
from ccdsl.runtime.operations.store_notify import CHANNEL, heard

log = logging.getLogger("ccdsl.serve")

RETRY_S = (0.5, 30.0)  # the first wait before opening a lost connection again, and the longest
# a connection silent this long is asked one `SELECT 1`: a server gone without a word (its
# host lost) is found by that, as a write would find it
QUIET_S = 30.0


class StoreListener:
    """start() opens the connection and listens; every notice of the store's channel is given to
    `notice(kind, value)`; `opened()` runs after each LISTEN (the first, and every one after a
    loss: what was said while nobody listened is for the caller to catch up). stop() closes."""

    def __init__(self, target: str, notice: Callable[[str, str], None],
                 opened: Callable[[], None] | None = None) -> None:
        self.target = target
        self.notice = notice
        self.opened = opened
        self.listening = False  # a LISTEN is in force now
        self.opens = 0  # LISTENs made so far (a test waits for the one after a loss)
        self.backend_pid: int | None = None  # the server process of the connection now
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        wait = RETRY_S[0]
        lost = False  # said once until it listens again
        while True:
            try:
                conn = await connect_async(self.target)
            except (sqlite3.Error, OSError) as exc:
                if not lost:
                    log.warning("workers: cannot listen on the call store (%s); other "
                                "workers' signals and deploys are polled for until it can",
                                exc)
                lost = True
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_S[1])
                continue
            try:
                await self._listen(conn)
                if lost:
                    log.info("workers: listening on the call store %s again",
                             shown(self.target))
                lost, wait = False, RETRY_S[0]
                await self._hear(conn)
            except Exception as exc:  # noqa: BLE001 - psycopg's, or a socket's: reopened
                if not lost:
                    log.warning("workers: the call store's LISTEN connection was lost (%s); "
                                "polling until it is open again",
                                " ".join(str(exc).split()) or type(exc).__name__)
                lost = True
            finally:
                self.listening = False
                self.backend_pid = None
                with contextlib.suppress(Exception):
                    await conn.close()
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_S[1])

    async def _listen(self, conn) -> None:
        await conn.execute(f"LISTEN {CHANNEL}")
        self.backend_pid = conn.info.backend_pid
        self.listening = True
        self.opens += 1
        if self.opened is not None:
            self.opened()

    async def _hear(self, conn) -> None:
        while True:
            async for note in conn.notifies(timeout=QUIET_S):
                found = heard(note.payload)
                if found is None:
                    continue
                try:
                    self.notice(*found)
                except Exception:  # noqa: BLE001 - a fault of the hearer is not a lost link
                    log.exception("workers: a notice of the call store could not be acted on")
            await conn.execute("SELECT 1")  # quiet: is the server still there?
