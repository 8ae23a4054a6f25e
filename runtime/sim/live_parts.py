"""Parts of the real-time simulated centre: its clock, a call's event stream, offers, callers.

Must not import Asterisk code or the console; nothing here runs a call (live_channel.py does).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.core.events import Event, EventSink
from ccdsl.runtime.sim.caller import InteractiveCaller
from ccdsl.runtime.sim.live_in_queue import InQueueChoices


def ms_of(delta: timedelta) -> int:
    """A stretch of the centre's time in whole milliseconds."""
    return round(delta.total_seconds() * 1000)


class ScaledClock:
    """Real time, `speed` times faster: now() runs from `start` (default: the
    base clock's now) at `speed`, sleep(ms) sleeps ms / speed. speed 1 with
    no start is the base clock."""

    def __init__(self, base: Clock, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("the speed of a simulated centre is above 0")
        if start is not None and start.tzinfo is None:
            raise ValueError("a simulated centre's start time needs a time zone")
        self.base = base
        self.speed = speed
        self._t0 = base.now()
        self._start = start

    def now(self) -> datetime:
        if self.speed == 1 and self._start is None:
            return self.base.now()
        return (self._start or self._t0) + (self.base.now() - self._t0) * self.speed

    async def sleep(self, ms: int) -> None:
        await self.base.sleep(max(ms, 0) / self.speed)

    def seconds(self, ms: float | None) -> float | None:
        """Real seconds for ms of this clock's time."""
        return None if ms is None else max(ms, 0) / 1000 / self.speed


async def wait_any(events: Iterable[asyncio.Event], seconds: float | None) -> None:
    """Until one of the events is set, or seconds have passed (None: no limit)."""
    events = list(events)
    if any(e.is_set() for e in events):
        return
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


class Changes:
    """A broadcast "the centre changed" (an agent freed, a caller left):
    waiters hold the event of the moment; notify sets it and starts a new one."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        return self._event

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()


@dataclass
class Offer:
    """A call ringing one or more agents; the first to take it wins."""

    call_id: str
    agents: tuple[str, ...]
    since: datetime
    event: asyncio.Event = field(default_factory=asyncio.Event)
    winner: str | None = None
    closed: bool = False  # rung out or answered: a late answer finds nothing

    def take(self, agent: str) -> bool:
        if self.closed or self.winner is not None or agent not in self.agents:
            return False
        self.winner = agent
        self.event.set()
        return True


class CallStream:
    """One call's events on their way to the centre's sink, numbered here so
    the centre can add its own (a hold, a console transfer, text read to the
    caller) between the interpreter's."""

    def __init__(self, sink: EventSink, call_id: str, clock: Clock) -> None:
        self.sink = sink
        self.call_id = call_id
        self.clock = clock
        self.seq = 0
        self.ended = False

    def emit(self, event: Event) -> None:
        if self.ended:
            return
        self.seq += 1
        if event.kind == "call_ended":
            self.ended = True
        self.sink.emit(Event(event.call_id, self.seq, event.at, event.kind, event.data,
                             event.loc))

    def add(self, kind: str, data: dict[str, Any]) -> None:
        """An event of the centre's own in the call's stream."""
        self.emit(Event(self.call_id, 0, self.clock.now(), kind, data))


@dataclass(frozen=True)
class FlowKeys:
    """What a flow asks callers for: its menus' keys, its collects' lengths."""

    menu_keys: tuple[str, ...]
    collects: tuple[tuple[int, int, str | None], ...]  # (min, max, end key)


def flow_keys(ir: Any) -> FlowKeys:
    keys: set[str] = set()
    collects: list[tuple[int, int, str | None]] = []

    def lit(value: Any, default: Any) -> Any:
        return value.get("lit", default) if isinstance(value, dict) else default

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("op") == "menu":
                keys.update(k for k in (node.get("keys") or {}) if len(k) == 1)
            elif node.get("op") == "collect":
                opts = node.get("options") or {}
                digits = opts.get("digits") or {}
                low, high = lit(digits.get("min"), 1), lit(digits.get("max"), 10)
                collects.append((int(low or 1), int(high or low or 1),
                                 lit(opts.get("end"), None)))
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(dict(ir))
    return FlowKeys(tuple(sorted(keys)), tuple(collects))


class GeneratedCaller(InteractiveCaller):
    """A made-up caller: answers a menu with one of the flow's menu keys (now
    and then nothing), a collect with digits of a length the flow takes,
    gives up waiting in a queue after `patience_ms`, and after a queue's
    message may press one of its keys (`in_queue`, live_in_queue.py)."""

    def __init__(self, keys: FlowKeys, rng: random.Random, *, patience_ms: int,
                 max_call_ms: int = 3_600_000, in_queue: InQueueChoices | None = None) -> None:
        super().__init__(self._keys_for, max_call_ms=max_call_ms)
        self.flow_keys = keys
        self.rng = rng
        self.patience_ms = patience_ms
        self.wanted: tuple[int, str | None] = (1, None)  # max digits, end key (the channel sets)
        self.in_queue = in_queue
        self._typed_in_queue = False

    def heard_queue_message(self, queue: str, now: datetime) -> None:
        """A message of `queue` ended at `now`: maybe a key, a little later."""
        if self.in_queue is None or self._keys:
            return
        choice = self.in_queue.after_message(queue)
        if choice is not None:
            key, after_s = choice
            self._type(key, now + timedelta(seconds=after_s))
            self._typed_in_queue = True

    def left_queue(self) -> None:
        """Out of the queue: a key meant for it and not pressed is not kept
        for the next menu."""
        if self._typed_in_queue:
            self._keys.clear()
            self._typed_in_queue = False

    def _keys_for(self, _describe: str) -> str:
        max_digits, end_key = self.wanted
        if self.rng.random() < 0.08:
            return ""  # silence: the menu times out
        if max_digits <= 1:
            return self.rng.choice(self.flow_keys.menu_keys or ("1",))
        fits = [c for c in self.flow_keys.collects if c[0] <= max_digits] \
            or [(1, max_digits, end_key)]
        low, high, end = self.rng.choice(fits)
        digits = "".join(self.rng.choice("0123456789")
                         for _ in range(self.rng.randint(low, min(high, max_digits))))
        return digits + (end_key or end or "") if len(digits) < max_digits else digits
