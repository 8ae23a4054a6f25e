"""Which AMI events `ccf serve` stores, and how many a second: a flood must not fill the store.

Decides and counts only; must not write the store (it calls `record`). The policy is in
docs/asterisk.md "Limits".
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from ccdsl.runtime.asterisk.ami_protocol import AmiMessage
from ccdsl.runtime.asterisk.counted_log import CountedLog
from ccdsl.runtime.asterisk.limits import AMI_STORE_RATE
from ccdsl.runtime.operations.reports.reconcile import KINDS as CHECKED_KINDS

log = logging.getLogger("ccdsl.serve")

# what the agents did, beside what `ccf report --check-asterisk` reads: queue
# membership and pauses (Auto-Pause included) and rings that went unanswered;
# DeviceStateChange is kept for the agents' own devices only (other phones
# of the PBX change state all day, and nothing here reads them)
AGENT_KINDS = ("QueueMemberAdded", "QueueMemberRemoved", "QueueMemberPause", "AgentRingNoAnswer")
KEPT_KINDS = frozenset(CHECKED_KINDS) | frozenset(AGENT_KINDS)
BURST_S = 5.0  # a burst of this many seconds' worth is kept at once
REPORT_INTERVAL_S = 60.0  # one `ami_events_not_stored` centre event per interval at most

Record = Callable[[str, str, Mapping[str, Any], str | None], None]  # source, kind, data, call


class AmiEventKeeper:
    """`keep(event)` stores the event through `record` when its kind is
    one ccf keeps (KEPT_KINDS, DeviceStateChange of an agent's device,
    DialEnd of an agent's phone answering) and
    the rate allows: a token bucket of `rate` events a second with a burst
    of BURST_S seconds. Events refused by the rate are counted by kind and
    reported as a centre event (source `serve`, kind `ami_events_not_stored`)
    and a log line, at most once per REPORT_INTERVAL_S."""

    def __init__(self, record: Record, *, rate: int = AMI_STORE_RATE,
                 is_agent_device: Callable[[str], bool] = lambda device: False,
                 agent_of_channel: Callable[[str], str | None] = lambda channel: None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.record = record
        self.rate = max(1, rate)
        self.is_agent_device = is_agent_device
        self.agent_of_channel = agent_of_channel
        self.clock = clock
        self.stored = 0
        self.not_stored = 0  # refused by the rate, since start
        self.skipped = 0  # kinds not kept
        self._capacity = self.rate * BURST_S
        self._tokens = self._capacity
        self._filled = clock()
        self._pending: Counter[str] = Counter()  # refused since the last report
        self._since: float | None = None
        self._log = CountedLog(log, f"AMI events over the [ami] store_rate ({self.rate}/s) "
                                    "were not stored", interval_s=REPORT_INTERVAL_S)

    def wanted(self, event: AmiMessage) -> tuple[bool, str | None]:
        """Whether the event is kept, and a kept DialEnd's agent (found once: keep stores
        the agent that decided it)."""
        name = event.event or ""
        if name == "DialEnd":  # the check reads an agent's answer only: not every ring
            if event.get("DialStatus") != "ANSWER":
                return False, None
            agent = self.agent_of_channel(event.get("DestChannel") or "")
            return agent is not None, agent
        if name in KEPT_KINDS:
            return True, None
        return (name == "DeviceStateChange"
                and self.is_agent_device(event.get("Device") or "")), None

    def keep(self, event: AmiMessage, server: str = "") -> bool:
        """Store one event if policy and rate allow (its headers but
        Privilege, under its Linkedid or else its Uniqueid, and `ccf_server`: the
        [[asterisk]] server's name, when it has one; a DialEnd's `ccf_agent`: the
        agent whose device answered, the only DialEnd kept); True when stored."""
        wanted, agent = self.wanted(event)
        if not wanted:
            self.skipped += 1
            return False
        now = self.clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._filled) * self.rate)
        self._filled = now
        if self._tokens < 1:
            self.not_stored += 1
            self._pending[event.event or "?"] += 1
            if self._since is None:
                self._since = now
            self._log.note(count=1)
            self.report_due()
            return False
        self._tokens -= 1
        self.stored += 1
        data: dict[str, Any] = {k: v for k, v in event.headers.items() if k != "Privilege"}
        if server:  # several servers number channels and calls alike
            data["ccf_server"] = server
        if agent is not None:  # who answered a dial: the check reads no agents file
            data["ccf_agent"] = agent
        self.record("ami", event.event or "?", data,
                    event.get("Linkedid") or event.get("Uniqueid"))
        return True

    def report_due(self, *, force: bool = False) -> None:
        """Record what was not stored as one centre event, once per
        interval (the server's tick and stop call it with force at the end)."""
        if not self._pending or self._since is None:
            return
        now = self.clock()
        if not force and now - self._since < REPORT_INTERVAL_S:
            return
        pending, self._pending = self._pending, Counter()
        self.record("serve", "ami_events_not_stored",
                    {"count": sum(pending.values()), "kinds": dict(pending.most_common(20)),
                     "seconds": round(now - self._since, 1), "store_rate": self.rate,
                     "not_stored_in_all": self.not_stored}, None)
        self._since = None
        if force:
            self._log.flush()
