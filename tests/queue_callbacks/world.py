"""In-queue call-backs' test world: a call that booked one (its events fed to a
call store as H5's `callback` statement emits them), agents, a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.centre import Agent, AgentState
from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class Call:
    """Emits one call's events with increasing seq and time."""

    def __init__(self, sink, call_id: str, caller: str = "+8613800000001",
                 start: datetime = T0) -> None:
        self.sink, self.call_id, self.seq, self.now = sink, call_id, 0, start
        self.emit("call_started", caller=caller, dialled="4008001234", flow="hotline",
                  flow_version="1.0.0")

    def emit(self, kind: str, /, after_ms: int = 0, **data) -> None:
        self.now += timedelta(milliseconds=after_ms)
        self.seq += 1
        self.sink.emit(Event(self.call_id, self.seq, self.now, kind, data))


def booked(sink, call_id: str = "c1", *, queue: str = "service", priority: int = 0,
           start: datetime = T0, waited_ms: int = 60_000, number: str = "+8613800000001",
           end: bool = True, customer: str | None = "C042") -> Call:
    """A caller who waited `waited_ms` in `queue`, pressed 1 (queue_key) and
    booked a call-back keeping the place in line, then hung up."""
    c = Call(sink, call_id, number, start)
    c.emit("answered")
    c.emit("step_entered", step="to_agent")
    c.emit("queue_joined", queue=queue, priority=priority, position=1)
    joined = c.now
    c.emit("queue_key", waited_ms, queue=queue, key="1", waited_ms=waited_ms, position=1)
    c.emit("queue_left", queue=queue, outcome="key", wait_ms=waited_ms)
    c.emit("callback_requested", queue=queue, number=number, priority=priority,
           joined_at=joined.isoformat(), waited_ms=waited_ms, customer=customer,
           reason="in-queue offer")
    if end:
        c.emit("hangup", 2000, by="flow")
        c.emit("call_ended", outcome="hangup")
    return c


def agent(agent_id: str, queues=("service",), state=AgentState.AVAILABLE,
          idle_since: datetime | None = None) -> Agent:
    return Agent(agent_id, state=state, queues=tuple(queues), idle_since=idle_since)


def rows(store: CallStore) -> list[dict]:
    store.flush()
    return store.query("SELECT * FROM queue_callbacks ORDER BY requested_ms, call_id, seq")
