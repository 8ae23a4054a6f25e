"""What a call needs besides its channel, passed in (never global), so the
same interpreter runs in the simulator, in tests and on Asterisk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.core.crm.base import CRM
from ccdsl.runtime.core.events import EventSink


class CentreView(Protocol):
    """The live state of agents and queues (simulator, or AMI on Asterisk)."""

    def agent(self, agent_id: str) -> Agent | None: ...

    def agents(self) -> list[Agent]: ...

    def queue_waiting(self, queue: str) -> int:
        """Calls waiting in a queue now."""

    def queue_expected_wait_ms(self, queue: str) -> int:
        """A fair estimate of the wait for a call joining the queue now."""


class CallHistory(Protocol):
    """Past calls, from the call store: what `last_agent of caller` needs."""

    def last_agent(self, phone: str, since: datetime | None = None) -> str | None:
        """The agent who last talked to this caller; with since, only calls
        that started at or after it (the rule's `within`). None if none."""


@dataclass(frozen=True)
class RuntimeConfig:
    step_budget: int = 10_000  # ops one call may run before it is stopped
    crm_timeout_ms: int = 3_000
    http_timeout_ms: int = 5_000
    recordings_dir: str = "recordings"
    default_ring_ms: int = 20_000
    # the IANA zone now() and today() read in (None: the clock's own zone,
    # which the simulator sets from `--at`)
    timezone: str | None = None
    # the seed of every call's random.choose (None: one drawn per call, shown
    # in its random_choice events)
    random_seed: int | None = None


@dataclass
class Services:
    clock: Clock
    crm: CRM
    centre: CentreView
    history: CallHistory
    sink: EventSink
    config: RuntimeConfig = field(default_factory=RuntimeConfig)
    # the httpx transport of http.* (None: the network); a test's answers table
    # (runtime/sim/faults.py), so a test never makes a real request
    http_transport: Any = None
