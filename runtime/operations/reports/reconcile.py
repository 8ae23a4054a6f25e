"""`ccf report --check-asterisk`: what the switch saw against what the call store says.

`ccf serve` keeps the AMI events this check reads in `centre_events` (source
`ami`, kind the event name, data the headers, call_id the event's Linkedid,
else its Uniqueid). This module reads those events for a report's window
and filters, rebuilds each call as Asterisk saw it, reads the same calls
from the store's own tables (`calls`, `queue_visits`, `agent_legs`), and
gives both sides' figures and the calls on which they differ
(docs/reports.md "Checking against Asterisk"). Reads only.

The AMI headers relied on (Asterisk 22, the names as the manager sends them,
read case-insensitively; tests/asterisk/captures/ami-session.txt):

- every channel event (Newchannel, Newstate, Hangup, HangupRequest,
  SoftHangupRequest, and the queue events below, which carry the caller's
  channel): `Uniqueid`, `Linkedid`, `Context`. A call is the Linkedid's
  group of events; it reached the flow when one of its channels was seen in
  the `ccf-inbound` context (or ran an `AGIExecStart`). Its caller's
  channels are those seen in `ccf-inbound`; the store's call_id is the
  Uniqueid of the channel that ran the FastAGI (`agi_uniqueid`), mapped to
  its call through Newchannel's Linkedid (a channel that ran AGI() again
  has calls `UNIQUEID~2`... in the store: one call here). A caller's
  channel later seen in another context (`ccf-transfer`, the shutdown
  fallback) left the flow for the dialplan: transferred. Its `Hangup` ends the call.
- QueueCallerJoin: `Queue`; QueueCallerAbandon: `Queue` (the caller hung
  up waiting); QueueCallerLeave: `Queue`.
- AgentCalled, AgentConnect: `Queue`, `MemberName` (the agent id: ccf adds
  members with MemberName = the agent's id); AgentComplete: `Queue`,
  `MemberName`, `Reason` (`caller`, `agent`, `transfer`).
- DialEnd (`DialStatus`, `DestChannel`, and `ccf_agent`: the agent whose
  device `DestChannel` is on, which ccf serve adds when it stores the
  event): `ANSWER` on a caller's channel in `ccf-inbound` is an agent a
  routing line's Dial() rang answering, unless an AgentConnect has the same
  DestChannel (app_queue sends DialEnd for its members too).
  tests/asterisk/captures/ami-sip-order-lookup-agent.txt, -zh-queue.txt.
- Voicemail is recorded by the flow with AGI `RECORD FILE`, which the AMI
  shows only as `AGIExecStart` (`Command`, class `agi`) or in a `Cdr`
  (`LastApplication`, class `cdr`); `ccf serve` subscribes to neither, so a
  call's voicemail is compared only when one of those events was kept.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from ccdsl.plain_names import queue_name
from ccdsl.runtime.operations.reports.model import Filters
from ccdsl.runtime.operations.reports.query import local_window
from ccdsl.runtime.operations.reports.sql import Window, call_filters
from ccdsl.runtime.operations.store_ids import base_of

INBOUND = "ccf-inbound"
_AGENT_SIDE = ("ccf-answered",)
# the AMI events read: channel events and app_queue's
KINDS = ("Newchannel", "Newstate", "Hangup", "HangupRequest", "SoftHangupRequest",
         "QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon", "AgentCalled",
         "AgentConnect", "AgentComplete", "AGIExecStart", "Cdr", "BlindTransfer", "DialEnd")
# events stamped this long before or after the window are read too: a call
# the store counts in the window may have begun or ended outside it
_SLACK_MS = 6 * 3_600_000


def _header(data: dict[str, Any], name: str) -> str | None:
    folded = name.lower()
    for key, value in data.items():
        if key.lower() == folded:
            return None if value is None else str(value)
    return None


# ---- one call, as each side tells it ------------------------------------------------------


@dataclass
class Stay:
    """One queue a caller joined: which, who answered, how it ended."""

    queue: str  # the Asterisk queue name, `ccf-...`
    agent: str | None = None
    abandoned: bool = False
    completed: str | None = None  # AgentComplete's Reason (Asterisk side)

    def text(self) -> str:
        if self.agent is not None:
            said = f"answered in queue {self.queue} by {self.agent}"
            if self.completed is not None:
                said += f", the caller left after AgentComplete (reason {self.completed})"
            return said
        if self.abandoned:
            return f"abandoned queue {self.queue}"
        return f"joined queue {self.queue}, not answered"


@dataclass
class CallView:
    """A call as one side saw it."""

    call_id: str
    started_ms: int = 0
    stays: list[Stay] = field(default_factory=list)
    transferred: bool = False
    voicemail: bool | None = None  # None: not seen by this side
    ended: bool = False
    outcome: str | None = None  # the store's outcome (store side only)

    @property
    def agents(self) -> list[str]:
        return sorted({s.agent for s in self.stays if s.agent is not None})

    @property
    def answered(self) -> bool:
        return bool(self.agents)

    @property
    def abandoned(self) -> bool:
        return not self.answered and any(s.abandoned for s in self.stays)

    @property
    def ended_in_flow(self) -> bool:
        return (self.ended and not self.answered and not self.abandoned
                and not self.transferred and not self.voicemail)

    def text(self) -> str:
        parts = [s.text() for s in self.stays]
        if self.voicemail:
            parts.append("left a voicemail")
        if self.transferred:
            parts.append("handed back to the dialplan"
                         if self.outcome == "handed_back" else "transferred")
        if not self.ended:
            parts.append("still in progress")
        elif not parts:
            parts.append("ended in the flow, no queue, no agent")
        if self.outcome is not None:
            parts.append(f"outcome {self.outcome}")
        return ", ".join(parts)


# ---- the result ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str
    asterisk: int | None  # None: the AMI events kept do not show it
    store: int

    @property
    def agrees(self) -> bool:
        return self.asterisk is None or self.asterisk == self.store


@dataclass(frozen=True)
class Difference:
    call_id: str
    differs: tuple[str, ...]  # which aspects: present, answered, agents, abandoned, ...
    asterisk: str
    store: str

    def text(self) -> str:
        return f"call {self.call_id}: Asterisk: {self.asterisk}; call store: {self.store}"


@dataclass(frozen=True)
class Check:
    store: str
    filters: Filters
    ami_events: int  # AMI events read for the window
    figures: tuple[Figure, ...]
    differences: tuple[Difference, ...]

    @property
    def agrees(self) -> bool:
        return not self.differences and all(f.agrees for f in self.figures)

    def as_dict(self) -> dict[str, Any]:
        return {
            "store": self.store, "filters": self.filters.as_dict(),
            "ami_events": self.ami_events, "agree": self.agrees,
            "figures": [{"figure": f.name, "asterisk": f.asterisk, "store": f.store,
                         "agree": f.agrees} for f in self.figures],
            "differences": [{"call_id": d.call_id, "differs": list(d.differs),
                             "asterisk": d.asterisk, "store": d.store, "text": d.text()}
                            for d in self.differences],
        }


# ---- the store's side ------------------------------------------------------------------------


def _store_calls(db: sqlite3.Connection, window: Window,
                 filters: Filters) -> dict[str, CallView]:
    where: list[str] = []
    args: dict[str, Any] = {}
    window.where("t.started_ms", where, args)
    call_filters("calls", filters, where, args)
    sql = ("SELECT t.call_id, t.started_ms, t.outcome FROM calls t"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY t.started_ms")
    calls: dict[str, CallView] = {}
    for call_id, started_ms, outcome in db.execute(sql, args):
        calls[call_id] = CallView(
            call_id, started_ms or 0, transferred=outcome in ("transfer", "handed_back"),
            voicemail=outcome == "voicemail", ended=outcome is not None, outcome=outcome)
    ids = list(calls)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        answered: dict[str, list[Stay]] = {}
        for call_id, queue, outcome, agent in db.execute(
                f"SELECT call_id, queue, outcome, agent FROM queue_visits WHERE call_id IN "
                f"({marks}) ORDER BY call_id, seq", chunk):
            stay = Stay(queue_name(queue or "?"), agent if outcome == "answered" else None,
                        abandoned=outcome == "hangup")
            answered.setdefault(call_id, []).append(stay)
        # agents who answered outside a queue (a routing line's dial)
        for call_id, agent in db.execute(
                f"SELECT call_id, agent FROM agent_legs WHERE call_id IN ({marks}) "
                "AND outcome = 'answered' AND (queue IS NULL OR via = 'dial') "
                "ORDER BY call_id, seq", chunk):
            answered.setdefault(call_id, []).append(Stay("(dialled)", agent))
        for call_id in chunk:
            calls[call_id].stays = answered.get(call_id, [])
    return _per_uniqueid(calls)


def _per_uniqueid(calls: dict[str, CallView]) -> dict[str, CallView]:
    """One view per Asterisk call: a channel that ran AGI() again is one
    call to Asterisk, two or more in the store (`UNIQUEID`, `UNIQUEID~2`,
    docs/store.md); they join under the Uniqueid, with every stay, and the
    end and outcome of the latest (`calls` is in order of start)."""
    out: dict[str, CallView] = {}
    for call_id, view in calls.items():
        base = base_of(call_id)
        first = out.get(base)
        if first is None:
            view.call_id = base
            out[base] = view
            continue
        first.stays.extend(view.stays)
        first.transferred = first.transferred or view.transferred
        first.voicemail = first.voicemail or view.voicemail
        first.ended, first.outcome = view.ended, view.outcome
    return out


# ---- the switch's side -----------------------------------------------------------------------


def _ami_events(db: sqlite3.Connection, window: Window) -> list[tuple[int, str, str | None,
                                                                     dict[str, Any]]]:
    where = ["source = 'ami'", f"kind IN ({','.join('?' * len(KINDS))})"]
    args: list[Any] = list(KINDS)
    if window.lo is not None:
        where.append("at_ms >= ?")
        args.append(window.lo - _SLACK_MS)
    if window.hi is not None:
        where.append("at_ms < ?")
        args.append(window.hi + _SLACK_MS)
    rows = db.execute("SELECT at_ms, kind, call_id, data FROM centre_events WHERE "
                      + " AND ".join(where) + " ORDER BY id", args).fetchall()
    out = []
    for at_ms, kind, call_id, data in rows:
        try:
            headers = json.loads(data)
        except ValueError:
            continue
        if isinstance(headers, dict):
            out.append((at_ms, kind, call_id, headers))
    return out


def _switch_calls(events: list[tuple[int, str, str | None, dict[str, Any]]],
                  store_ids: set[str]) -> dict[str, CallView]:
    """The calls that reached the flow, keyed by the store's call_id where the
    store has the call (the Uniqueid of the FastAGI channel), else Linkedid."""
    linked: dict[str, str] = {}  # Uniqueid -> Linkedid
    for _, _, _, data in events:
        uid, lid = _header(data, "Uniqueid"), _header(data, "Linkedid")
        if uid and lid:
            linked.setdefault(uid, lid)
    groups: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
    for at_ms, kind, call_id, data in events:
        uid = _header(data, "Uniqueid")
        key = _header(data, "Linkedid") or linked.get(uid or "") or call_id or uid
        if key:
            groups.setdefault(key, []).append((at_ms, kind, data))
    by_linked_store = {linked.get(i, i): i for i in store_ids}
    calls: dict[str, CallView] = {}
    for key, group in groups.items():
        known = by_linked_store.get(key)
        view = _one_call(key, group, known)
        if view is None:
            continue
        view.call_id = known or key
        calls[view.call_id] = view
    return calls


def _one_call(key: str, group: list[tuple[int, str, dict[str, Any]]],
              known: str | None) -> CallView | None:
    """The call of one Linkedid's events; None when it never reached the
    flow. `known`: the store's call_id for it (the FastAGI channel's Uniqueid)."""
    caller: set[str] = {known} if known else set()
    for _, kind, data in group:
        if _header(data, "Context") == INBOUND or kind == "AGIExecStart":
            caller.add(_header(data, "Uniqueid") or "")
    if not caller:
        return None
    view = CallView(key, group[0][0])
    seen_inbound: set[str] = set()
    stays: dict[str, Stay] = {}
    saw_voicemail_source = False
    dials: list[tuple[str | None, str]] = []  # (DestChannel, agent) of answered dials
    queue_legs: set[str | None] = set()  # the DestChannels app_queue connected
    for _, kind, data in group:
        uid = _header(data, "Uniqueid") or ""
        context = _header(data, "Context")
        mine = uid in caller
        if mine and context == INBOUND:
            seen_inbound.add(uid)
        elif (mine and uid in seen_inbound and context and context not in _AGENT_SIDE
              and kind not in ("Cdr",)):
            view.transferred = True
        queue = _header(data, "Queue")
        if kind == "QueueCallerJoin" and queue:
            stays[queue] = Stay(queue)
            view.stays.append(stays[queue])
        elif kind == "QueueCallerAbandon" and queue:
            stays.setdefault(queue, Stay(queue)).abandoned = True
        elif kind == "AgentConnect" and queue:
            stays.setdefault(queue, Stay(queue)).agent = _header(data, "MemberName")
            queue_legs.add(_header(data, "DestChannel"))
        elif kind == "AgentComplete" and queue:
            stays.setdefault(queue, Stay(queue)).completed = _header(data, "Reason")
        elif kind == "DialEnd" and context == INBOUND:
            agent = _header(data, "ccf_agent")
            if agent and _header(data, "DialStatus") == "ANSWER":
                dials.append((_header(data, "DestChannel"), agent))
        elif kind == "BlindTransfer":
            view.transferred = True
        elif kind == "Hangup" and mine:
            view.ended = True
        elif kind == "AGIExecStart":
            saw_voicemail_source = True
            command = (_header(data, "Command") or "").upper()
            if command.startswith("RECORD FILE") and "VOICEMAIL" in command:
                view.voicemail = True
        elif kind == "Cdr":
            saw_voicemail_source = True
            if (_header(data, "LastApplication") or "").lower() == "voicemail":
                view.voicemail = True
    for stay in stays.values():
        if stay not in view.stays:
            view.stays.append(stay)
    view.stays += [Stay("(dialled)", agent) for dest, agent in dials if dest not in queue_legs]
    if view.voicemail is None and saw_voicemail_source:
        view.voicemail = False
    return view


# ---- both -------------------------------------------------------------------------------------


def _in_window(ms: int, window: Window) -> bool:
    return (window.lo is None or ms >= window.lo) and (window.hi is None or ms < window.hi)


def _keep(view: CallView, filters: Filters) -> bool:
    if filters.queue is not None and queue_name(filters.queue) not in {
            s.queue for s in view.stays}:
        return False
    return filters.agent is None or filters.agent in view.agents


def _figures(switch: dict[str, CallView], store: dict[str, CallView]) -> tuple[Figure, ...]:
    def count(views, test) -> int:
        return sum(1 for v in views.values() if test(v))

    calls = Figure("calls", len(switch), len(store))
    in_progress = Figure("in_progress", count(switch, lambda v: not v.ended),
                         count(store, lambda v: not v.ended))
    # a call the store still runs has no outcome or visits yet: compared once it ends
    running = {call_id for call_id, view in store.items() if not view.ended}
    switch = {k: v for k, v in switch.items() if k not in running}
    store = {k: v for k, v in store.items() if k not in running}
    voicemail_seen = any(v.voicemail is not None for v in switch.values())
    figures = [
        calls,
        Figure("answered", count(switch, lambda v: v.answered), count(store, lambda v: v.answered)),
        Figure("abandoned", count(switch, lambda v: v.abandoned),
               count(store, lambda v: v.abandoned)),
        Figure("voicemail", count(switch, lambda v: v.voicemail) if voicemail_seen else None,
               count(store, lambda v: v.voicemail)),
        Figure("transferred", count(switch, lambda v: v.transferred),
               count(store, lambda v: v.transferred)),
    ]
    if voicemail_seen:
        figures.append(Figure("ended_in_flow", count(switch, lambda v: v.ended_in_flow),
                              count(store, lambda v: v.ended_in_flow)))
    else:  # the switch cannot tell a voicemail from a call that ended in the flow
        figures.append(Figure("ended_in_flow_or_voicemail",
                              count(switch, lambda v: v.ended_in_flow),
                              count(store, lambda v: v.ended_in_flow or v.voicemail)))
    figures.append(in_progress)
    queues: dict[str, list[Counter]] = {}
    for side, views in enumerate((switch, store)):
        for view in views.values():
            for stay in view.stays:
                if stay.queue == "(dialled)":
                    continue
                counts = queues.setdefault(stay.queue, [Counter(), Counter()])[side]
                counts["offered"] += 1
                counts["answered"] += stay.agent is not None
                counts["abandoned"] += stay.abandoned and stay.agent is None
    for queue in sorted(queues):
        for kind in ("offered", "answered", "abandoned"):
            figures.append(Figure(f"queue {queue} {kind}", queues[queue][0][kind],
                                  queues[queue][1][kind]))
    agents: list[Counter] = [Counter(), Counter()]
    for side, views in enumerate((switch, store)):
        for view in views.values():
            for stay in view.stays:
                if stay.agent is not None:
                    agents[side][stay.agent] += 1
    for agent in sorted(set(agents[0]) | set(agents[1])):
        figures.append(Figure(f"agent {agent} answered", agents[0][agent], agents[1][agent]))
    return tuple(figures)


def _differs(a: CallView, s: CallView) -> tuple[str, ...]:
    out = []
    if a.answered != s.answered:
        out.append("answered")
    elif a.agents != s.agents:
        out.append("agents")
    if a.abandoned != s.abandoned:
        out.append("abandoned")
    if a.transferred != s.transferred:
        out.append("transferred")
    if a.voicemail is not None and bool(a.voicemail) != bool(s.voicemail):
        out.append("voicemail")
    if a.ended != s.ended:
        out.append("ended")
    if sorted(x.queue for x in a.stays if x.queue != "(dialled)") != sorted(
            x.queue for x in s.stays if x.queue != "(dialled)"):
        out.append("queues")
    return tuple(out)


def check_asterisk(db: sqlite3.Connection, path: str, filters: Filters,
                   zone: tzinfo) -> Check:
    """The switch's figures against the store's, for the calls of a report's
    local range in `zone` and filters (--flow: the store's calls of the flow,
    and the switch's calls the store has of it; the switch does not know flows)."""
    window = local_window(filters, zone)
    store = _store_calls(db, window, filters)
    events = _ami_events(db, window)
    switch_all = _switch_calls(events, set(store))
    switch: dict[str, CallView] = {}
    for call_id, view in switch_all.items():
        if call_id in store:
            switch[call_id] = view
        elif (filters.flow is None and _keep(view, filters)
              and _in_window(view.started_ms, window)):
            switch[call_id] = view
    differences = []
    for call_id in sorted(set(switch) | set(store),
                          key=lambda i: ((switch.get(i) or store[i]).started_ms, i)):
        a, s = switch.get(call_id), store.get(call_id)
        if s is None:
            differences.append(Difference(call_id, ("present",), a.text(), "no record"))
        elif a is None:
            differences.append(Difference(call_id, ("present",), "no event of this call",
                                          s.text()))
        elif s.ended:  # one the store still runs is compared once it ends
            differs = _differs(a, s)
            if differs:
                differences.append(Difference(call_id, differs, a.text(), s.text()))
    return Check(path, filters, len(events), _figures(switch, store), tuple(differences))
