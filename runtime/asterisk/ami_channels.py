"""The live channels AMI reports, bounded: a quiet channel expires, and the map has a hard cap.

A peer sending Newchannel without Hangup must not grow it without end. Must not read the link or
write the store; docs/asterisk.md "Limits" states the policy.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping

from ccdsl.runtime.asterisk.counted_log import CountedLog
from ccdsl.runtime.asterisk.limits import AMI_CHANNEL_IDLE_S, AMI_MAX_CHANNELS

log = logging.getLogger("ccdsl.centre")


class ChannelMap(Mapping[str, dict[str, str]]):
    """Channel name -> its last known facts, oldest event first. `track`
    adds or updates one (and moves it to the end); a channel with no event
    for `idle_s` is dropped as the next one is tracked (an ended call whose
    Hangup was lost); past `cap` channels the one with the oldest event is
    evicted, counted in `evicted` and logged once per interval."""

    def __init__(self, cap: int = AMI_MAX_CHANNELS, idle_s: float = AMI_CHANNEL_IDLE_S, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cap = max(1, cap)
        self.idle_s = idle_s
        self.clock = clock
        self.evicted = 0
        self.expired = 0
        self._items: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()
        self._eviction_log = CountedLog(
            log, f"AMI: more than {self.cap} live channels (the [ami] max_channels); the "
                 "channels with the oldest events were forgotten")

    def __getitem__(self, name: str) -> dict[str, str]:
        return self._items[name][1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def track(self, name: str, facts: Mapping[str, str]) -> None:
        """The facts of an event about channel `name`, merged into what is known."""
        now = self.clock()
        entry = self._items.pop(name, None)
        known = entry[1] if entry is not None else {}
        known.update(facts)
        self._items[name] = (now, known)
        self._expire(now)
        if len(self._items) > self.cap:
            over = len(self._items) - self.cap
            for _ in range(over):
                self._items.popitem(last=False)
            self.evicted += over
            self._eviction_log.note(count=over)

    def forget(self, name: str) -> None:
        self._items.pop(name, None)

    def clear(self) -> None:
        self._items.clear()

    def _expire(self, now: float) -> None:
        horizon = now - self.idle_s
        while self._items:
            first = next(iter(self._items.values()))
            if first[0] >= horizon:
                return
            self._items.popitem(last=False)
            self.expired += 1
