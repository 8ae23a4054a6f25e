"""The wallboard's other workers: the GET /status of each worker up that this one lists, asked
with this worker's own [api] token, shared by every open wallboard for PEERS_S.

Must not ask on the event loop (a host that does not answer would hold up calls): the
requests run in threads (off_loop), side by side, each with a short timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ccdsl.runtime.console.off_loop import off_loop

PEERS_S = 2.0  # the other workers' calls are asked at most this often, however many walls
PEER_TIMEOUT_S = 1.0  # a worker that has not answered by then is shown as not answering

Fetched = dict[str, dict[str, Any] | None]  # API address -> its status, None: no answer


def fetch_one(where: str, token: str | None, timeout_s: float = PEER_TIMEOUT_S
              ) -> dict[str, Any] | None:
    """One worker's GET /status at `where` (host:port), None when it does not answer, refuses
    the token or sends no status."""
    from ccdsl.runtime.asterisk.api_client import status_at

    return status_at(where, token, timeout_s)


class Peers:
    """The other workers' statuses, as last asked, for walls on the event loop."""

    def __init__(self, token: Callable[[], str | None],
                 clock: Callable[[], float] = time.monotonic,
                 fetch: Callable[[str, str | None], dict[str, Any] | None] = fetch_one,
                 every_s: float = PEERS_S) -> None:
        self.token = token
        self.clock = clock
        self.fetch = fetch
        self.every_s = every_s
        self._got: tuple[float, tuple[str, ...], Fetched] | None = None
        self._task: asyncio.Future[Fetched] | None = None
        self._asking: tuple[str, ...] = ()  # the addresses the task asks

    @property
    def asked(self) -> tuple[str, ...]:
        """The addresses asked last (none yet: empty)."""
        return self._got[1] if self._got is not None else ()

    def _fresh(self, addresses: tuple[str, ...]) -> Fetched | None:
        got = self._got
        if got is not None and got[1] == addresses and self.clock() - got[0] < self.every_s:
            return got[2]
        return None

    def _keep(self, addresses: tuple[str, ...], fetched: Fetched) -> Fetched:
        self._got = self.clock(), addresses, fetched
        return fetched

    async def current(self, addresses: tuple[str, ...]) -> Fetched:
        """Each address's status, asked when the last are older than every_s: one asking at a
        time, in threads, shared by every wall. While it runs, the last answers of the same
        workers serve (none yet: it is awaited); an ask of another list is awaited, then
        these are asked, so a wall never gets the statuses of a list it did not ask for."""
        if not addresses:
            return {}
        while True:
            fresh = self._fresh(addresses)
            if fresh is not None:
                return fresh
            if self._task is None:
                self._asking = addresses
                self._task = asyncio.ensure_future(self._ask(addresses))
            got = self._got
            if got is not None and got[1] == addresses:
                return got[2]
            # shielded: a wall that closes while waiting does not cancel the others' answer
            task, asking = self._task, self._asking
            fetched = await asyncio.shield(task)
            if asking == addresses:
                return fetched

    async def _ask(self, addresses: tuple[str, ...]) -> Fetched:
        try:
            token = self.token()
            answers = await asyncio.gather(*(off_loop(self.fetch, a, token)
                                             for a in addresses))
            return self._keep(addresses, dict(zip(addresses, answers, strict=True)))
        finally:
            self._task = None
