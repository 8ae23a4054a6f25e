"""What the HTTP API holds a client to before it shows its token: a small budget; and JSON depth.

Counts and decides only; must not read or write sockets (api.py does). docs/asterisk.md "Limits".
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.asterisk.counted_log import CountedLog

log = logging.getLogger("ccdsl.api")

MAX_JSON_DEPTH = 32  # a wrap-up is a flat form; lists and maps in it are shallow


@dataclass(eq=False)
class Ticket:
    """One connection's place: unauthenticated (reading its headers) until
    `admit`, then holding one of the request slots until `leave`."""

    deadline: asyncio.Timeout | None = None  # of the header read, set by the reader
    evicted: bool = False
    admitted: bool = False


class Gate:
    """The API's connections in two budgets. Up to `unauthenticated`
    connections may be sending their request line and headers; one more
    closes the oldest of them (a client that has not sent its headers yet
    has shown nothing, and a quick client sends them in one go), so slow
    clients without a token cannot lock the API. Past the headers (and the
    token check) a request holds one of `slots` until it is answered."""

    def __init__(self, slots: int, unauthenticated: int) -> None:
        self.slots = max(1, slots)
        self.unauthenticated = max(1, unauthenticated)
        self.held = 0
        self.evicted = 0
        self._waiting: OrderedDict[int, Ticket] = OrderedDict()  # oldest first
        self._evictions = CountedLog(
            log, f"HTTP API: more than {self.unauthenticated} connections without their "
                 "headers (the [api] max_unauthenticated); the oldest were closed")

    def enter(self) -> Ticket:
        ticket = Ticket()
        while len(self._waiting) >= self.unauthenticated:
            _, oldest = self._waiting.popitem(last=False)
            oldest.evicted = True
            if oldest.deadline is not None and not oldest.deadline.expired():
                # its header read ends now, as if its time had run out
                oldest.deadline.reschedule(asyncio.get_running_loop().time())
            self.evicted += 1
            self._evictions.note()
        self._waiting[id(ticket)] = ticket
        return ticket

    def admit(self, ticket: Ticket) -> bool:
        """The headers are in (and the token, when one is needed): take a
        request slot. False when all are held (the request gets 503)."""
        self._waiting.pop(id(ticket), None)
        if self.held >= self.slots:
            return False
        self.held += 1
        ticket.admitted = True
        return True

    def leave(self, ticket: Ticket) -> None:
        self._waiting.pop(id(ticket), None)
        if ticket.admitted:
            ticket.admitted = False
            self.held -= 1

    @property
    def unauthenticated_now(self) -> int:
        return len(self._waiting)

    def flush(self) -> None:
        self._evictions.flush()


def too_deep(value: Any, most: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests lists and objects deeper than `most`
    (walked without recursion, so any depth is safe to measure)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > most:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False
