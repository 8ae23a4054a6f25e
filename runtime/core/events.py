"""Call events: the trace a simulation prints, and the rows of the call
store. Every event has a timestamp from the call's clock and, when it
comes from an op, the .ccf location of that op.
Imports nothing of the runtime: the store and the traces read events, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# the kinds of event, with the data each carries (documented in docs/runtime.md)
EVENT_KINDS = (
    "call_started",     # caller, dialled, flow, flow_version
    "step_entered",     # step
    "handler_entered",  # handler
    "answered",         # -
    # sounds: [{kind, text, language}], prompt (name or null), interrupted_by, ms (when
    # known); stamped when the playback started
    "prompt_played",
    "said",             # kind, value, language
    "keys",             # keys, timed_out, purpose (menu|collect)
    "menu_choice",      # menu (loc), key or timeout/invalid/exhausted, attempt
    "collected",        # name, value, attempts
    "variable_set",     # name, value
    "crm_query",        # operation, args, result (summary), ms, error
    "http_request",     # method, url, status, ms, error
    "routing_decision", # routing, rule, outcome, reason
    "queue_joined",     # queue, priority, position
    "queue_left",       # queue, outcome (answered|timeout|empty|full|hangup), wait_ms
    "agent_offered",    # agent, via (dial|queue), queue (via queue)
    "agent_no_answer",  # agent, via (queue), queue, ring_ms: a queue member's ring ran out
    "agent_answered",   # agent, ring_ms
    "conversation_ended",  # agent, talk_ms, ended_by, wrapup (a form follows)
    "transfer",         # target, mode, status
    "three_way",        # target, status
    "party_joined",     # party (the number), via (three_way), ring_ms: an outside party answered
    "party_left",       # party, talk_ms, ended_by
    "recording_started",  # file
    "recording_stopped",  # file
    "recording_paused",   # file: silent from now (`pause recording`)
    "recording_resumed",  # file, paused_ms
    "voicemail",        # mailbox, stored, file, duration_ms
    "screen_pop",       # agent, data
    "wrapup_requested",  # agent, fields, form (each field: name, type, optional)
    "language_set",     # language, previous
    "log",              # message
    "random_choice",    # chosen, index, items, seed, draw (random.choose)
    "error",            # message, where (loc), kind
    "hangup",           # by (caller|flow|agent|transfer), step
    "call_ended",       # outcome (hangup|transfer|voicemail|error|abandoned), duration_ms
)


@dataclass(frozen=True, init=False)
class Event:
    call_id: str
    seq: int
    at: datetime
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    loc: dict | None = None  # {"file", "line", "column"} of the op, when there is one

    def __init__(self, call_id: str, seq: int, at: datetime, kind: str,
                 data: dict[str, Any] | None = None, loc: dict | None = None) -> None:
        # What the generated __init__ of a frozen dataclass does, in one
        # step: it sets each field with its own object.__setattr__ call,
        # which made building an Event (every event of every call) cost
        # twice what it does this way. Still frozen afterwards.
        self.__dict__.update(call_id=call_id, seq=seq, at=at, kind=kind,
                             data={} if data is None else data, loc=loc)


# For the one place that makes nearly every Event (CallRuntime.emit): an Event
# made without calling __init__, its fields given as one new dict, saves a
# Python call and a keyword dict per event. Still the same frozen Event:
#     event = new_event(Event)
#     set_fields(event, {"call_id": ..., "seq": ..., "at": ..., "kind": ...,
#                        "data": ..., "loc": ...})
new_event = object.__new__
set_fields = Event.__dict__["__dict__"].__set__


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


class EventList:
    """An in-memory sink: what tests and `ccf simulate` read."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


class FanOut:
    """Send each event to several sinks (the trace printer and the store)."""

    def __init__(self, *sinks: EventSink) -> None:
        self.sinks = sinks

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink.emit(event)
