"""The expectations that read more than one event kind: errors, recordings, the CRM call
log, screen pops, wrap-up, queue priority, the call's outcome and how a route chose.

Never runs a call: like expectations.py it reads the events of one that ended.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccdsl.runtime.core.events import Event
from ccdsl.test_words import ROUTE_WAYS


def errors(events: Sequence[Event]) -> list[dict[str, Any]]:
    """The failures no `on error ->` of an op took: each ended the call (or
    `on hangup`), whether or not the flow's `on error` handler then ran."""
    return [e.data for e in events if e.kind == "error" and not e.data.get("handled")]


def error_text(data: dict[str, Any]) -> str:
    where = data.get("where") or {}
    at = f" (line {where['line']})" if where.get("line") else ""
    return f"{data.get('message', '')}{at}"


def seen(what: str, events: Sequence[Event], via: str | None = None,
         with_priority: bool = False) -> list[str] | None:
    """The things of one of this module's kinds the call did, as comparable
    words; None when `what` is not one of them. With with_priority, the
    queues joined with the priority of each join (`expect queue X priority N`)."""
    if what == "queue" and with_priority:
        return [queue_at(str(e.data.get("queue", "")), str(e.data.get("priority", 0)))
                for e in events if e.kind == "queue_joined"]
    if what == "error":
        return [str(d.get("message", "")) for d in errors(events)]
    if what == "outcome":
        return _outcomes(events)
    if what == "routed" and via is not None:
        return _routed_via(events, via)
    out: list[str] = []
    for e in events:
        data = e.data
        if what == "recording" and e.kind == "recording_started":
            out.append(str(data.get("file", "")))
        elif what == "crm_log" and e.kind == "crm_query" and data.get("operation") == "log_call" \
                and not data.get("error"):
            out.append(str((data.get("args") or {}).get("outcome") or ""))
        elif what == "screen_pop" and e.kind == "screen_pop":
            out.append(str(data.get("agent") or ""))
        elif what == "wrapup" and e.kind == "wrapup_requested":
            out.append(str(data.get("agent") or ""))
        elif what == "priority" and e.kind == "queue_joined":
            out.append(str(data.get("priority", 0)))
    if what in ("recording", "crm_log", "screen_pop", "wrapup", "priority"):
        return out
    return None


def queue_at(queue: str | None, priority: str) -> str:
    return f"{queue} priority {priority}"


def _outcomes(events: Sequence[Event]) -> list[str]:
    for e in events:
        if e.kind == "call_ended":
            words = [str(e.data.get("outcome", ""))]
            if e.data.get("talked_to_agent"):
                words.insert(0, "answered")
            return words
    return []


def _routed_via(events: Sequence[Event], via: str) -> list[str]:
    """Agents and queues a route sent the call to via `via`: a routing rule's
    line of that kind that rang an agent or queued the call, or (`via queue`)
    an agent a queue rang."""
    out: list[str] = []
    for e in events:
        data = e.data
        if e.kind == "routing_decision" and data.get("kind") == via \
                and data.get("outcome") in ("dial", "enqueue"):
            out.append(str(data.get("agent") or data.get("queue") or ""))
        elif via == "queue" and e.kind == "agent_offered" and data.get("via") == "queue":
            out.append(str(data.get("agent", "")))
    return out


def routes_text(events: Sequence[Event]) -> str:
    """Every agent and queue the call was routed to, with the way each was
    chosen: what a wrong `expect routed via WAY to X` shows."""
    seen = []
    for way in ROUTE_WAYS:
        seen.extend(f"{name} via {way}" for name in _routed_via(events, way) if name)
    return "routed: " + ", ".join(dict.fromkeys(seen)) if seen else \
        "no agent was rung and no queue joined"


NOTHING = {
    "error": "the call ended with no run-time error",
    "recording": "the call was not recorded",
    "crm_log": "nothing was logged to the CRM's call log",
    "screen_pop": "no screen pop was sent",
    "wrapup": "no wrap-up form was offered",
    "priority": "the call joined no queue",
    "outcome": "the call did not end",
}

SOME = {
    "error": "errors",
    "recording": "recordings",
    "crm_log": "CRM call log entries, by outcome",
    "screen_pop": "screen pops for",
    "wrapup": "wrap-up forms for",
    "priority": "queue priorities",
    "outcome": "outcome",
}
