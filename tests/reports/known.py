"""A call store with known numbers: calls described as plain data (the
truth), written through CallStore.emit as the events a call makes, and the
report's every figure counted again from the truth in plain Python, with
no SQL. A figure of the report that disagrees with the count is a bug in
the report (or in the store's folding of events, which the report trusts).
"""

from __future__ import annotations

import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
CENTRE = "Asia/Shanghai"  # the zone the store is made with: reports default to it
FLOWS = ("hotline", "sales")
QUEUES = ("service", "sales", "vip")
AGENTS = ("li", "wang", "zhang", "zhao")
MENU_KEYS = ("1", "2", "0", "timeout", "invalid")


@dataclass
class Offer:
    agent: str
    outcome: str  # answered|missed|caller_gone, as the store's rules give it
    ring_ms: int
    offered: datetime | None = None  # set by _place


@dataclass
class Visit:
    queue: str
    wait_ms: int
    outcome: str  # answered|timeout|empty|hangup
    offers: list[Offer]
    talk_ms: int | None = None
    joined: datetime | None = None

    @property
    def agent(self) -> str | None:
        return self.offers[-1].agent if self.outcome == "answered" else None


@dataclass
class Node:
    name: str
    duration_ms: int
    choices: list[str] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    dropped: bool = False
    kind: str = "step"
    entered: datetime | None = None


@dataclass
class Call:
    call_id: str
    flow: str
    start: datetime  # aware, in the call's zone
    nodes: list[Node]
    outcome: str | None  # None: in progress (no call_ended)
    wrapup_ms: int | None = None

    @property
    def duration_ms(self) -> int:
        return sum(n.duration_ms for n in self.nodes)

    @property
    def visits(self) -> list[Visit]:
        return [v for n in self.nodes for v in n.visits]

    @property
    def offers(self) -> list[tuple[Visit, Offer]]:
        return [(v, o) for v in self.visits for o in v.offers]

    @property
    def talked(self) -> bool:
        return any(v.outcome == "answered" for v in self.visits)


def _visit(rng: random.Random, queue: str, outcome: str) -> Visit:
    wait = rng.choice((0, 4_000, 15_000, 20_000, 20_001, 45_000, 90_000))
    if outcome == "empty":
        return Visit(queue, 0, "empty", [])
    rung = rng.sample(AGENTS, rng.randint(0, 2))
    if outcome == "answered":
        answering = rng.choice(AGENTS)
        offers = [Offer(a, "missed", 0) for a in rung if a != answering]
        offers.append(Offer(answering, "answered", rng.choice((2_000, 3_500, 8_000))))
        return Visit(queue, wait, outcome, offers, rng.choice((30_000, 125_000, 301_000)))
    gone = "caller_gone" if outcome == "hangup" else "missed"
    return Visit(queue, max(wait, 1_000), outcome, [Offer(a, gone, 0) for a in rung])


def make_calls(seed: int = 5, count: int = 160) -> list[Call]:
    """Calls over three local days (and one call in New York, whose local
    day differs from its UTC day), of every shape the report counts."""
    rng = random.Random(seed)
    calls = []
    for i in range(count):
        day = 28 + i % 3  # 2026-11-28 .. 30
        zone = NEW_YORK if i % 17 == 0 else SHANGHAI
        start = datetime(2026, 11, day, rng.choice((0, 9, 10, 14, 23)), rng.randint(0, 59),
                         rng.randint(0, 59), tzinfo=zone)
        nodes = [Node("welcome", rng.choice((3_000, 5_000)))]
        shape = rng.choice(("menu_only", "dropped_menu", "queue", "queue", "queue",
                            "overflow", "abandoned", "empty"))
        outcome = "hangup"
        if shape == "dropped_menu":
            nodes.append(Node("main_menu", 7_000, rng.sample(MENU_KEYS, 1), dropped=True))
        elif shape == "menu_only":
            nodes.append(Node("main_menu", 9_000, rng.sample(MENU_KEYS, rng.randint(1, 2))))
            nodes.append(Node("goodbye", 2_000))
        else:
            nodes.append(Node("main_menu", 6_000, [rng.choice(("1", "2", "0"))]))
            queue = rng.choice(QUEUES)
            if shape == "queue":
                visits = [_visit(rng, queue, rng.choice(("answered", "answered", "timeout")))]
            elif shape == "overflow":
                visits = [_visit(rng, queue, "timeout"), _visit(rng, "service", "answered")]
            elif shape == "abandoned":
                visits = [_visit(rng, queue, "hangup")]
            else:
                visits = [_visit(rng, queue, "empty")]
            spent = sum(v.wait_ms + (v.talk_ms or 0) for v in visits)
            node = Node("agent", spent + 1_000, visits=visits)
            nodes.append(node)
            if visits[-1].outcome == "hangup":
                node.dropped = True
                outcome = "abandoned"
            elif visits[-1].outcome in ("timeout", "empty"):
                nodes.append(Node("leave_message", 20_000))
                outcome = "voicemail"
            elif rng.random() < 0.2:
                outcome = "transfer"
        if i % 23 == 5:
            nodes.append(Node("on hangup", 500, kind="handler"))
        if i % 31 == 7:  # in progress: only the welcome so far, nothing written but its row
            nodes, outcome = nodes[:1], None
        wrapup = rng.choice((None, 12_000, 30_000)) if any(
            v.outcome == "answered" for n in nodes for v in n.visits) else None
        call = Call(f"k{i:04d}", FLOWS[i % 5 == 0], start, nodes, outcome, wrapup)
        _place(call)
        calls.append(call)
    return calls


def _ms(moment: datetime, offset_ms: int) -> datetime:
    return moment + timedelta(milliseconds=offset_ms)


def _place(call: Call) -> None:
    """When each node, visit and offer happens (what _events emits)."""
    at = call.start
    for node in call.nodes:
        node.entered = at
        t = 0
        for visit in node.visits:
            visit.joined = _ms(at, t)
            for n, offer in enumerate(visit.offers):
                offer.offered = _ms(at, t + min(visit.wait_ms, 100 * (n + 1)))
            t += visit.wait_ms + (visit.talk_ms or 0)
        at = _ms(at, node.duration_ms)


def _events(call: Call) -> list[tuple[datetime, str, dict]]:
    """The events of a call, as the interpreter would emit them."""
    out: list[tuple[datetime, str, dict]] = []
    at = call.start

    def emit(offset_ms: int, kind: str, data: dict) -> None:
        out.append((_ms(at, offset_ms), kind, data))

    emit(0, "call_started", {"flow": call.flow, "flow_version": "0001",
                             "caller": "+8613900000000", "dialled": "4008001234"})
    for node in call.nodes:
        if node.kind == "handler":
            emit(0, "handler_entered", {"handler": node.name.removeprefix("on ")})
        else:
            emit(0, "step_entered", {"step": node.name})
        for n, key in enumerate(node.choices):
            emit(500 * (n + 1), "menu_choice", {"key": key, "attempt": n + 1})
        t = 0
        for visit in node.visits:
            emit(t, "queue_joined", {"queue": visit.queue, "priority": 0, "position": 1})
            for offer in visit.offers:
                out.append((offer.offered, "agent_offered", {"agent": offer.agent,
                                                              "via": "queue"}))
            if visit.outcome == "answered":
                emit(t + visit.wait_ms, "agent_answered",
                     {"agent": visit.agent, "ring_ms": visit.offers[-1].ring_ms})
            emit(t + visit.wait_ms, "queue_left", {"queue": visit.queue,
                                                   "outcome": visit.outcome,
                                                   "wait_ms": visit.wait_ms})
            t += visit.wait_ms
            if visit.outcome == "answered":
                t += visit.talk_ms
                emit(t, "conversation_ended", {"agent": visit.agent,
                                               "talk_ms": visit.talk_ms, "ended_by": "agent"})
        if node.dropped:
            emit(node.duration_ms, "hangup", {"by": "caller", "step": node.name})
        at += timedelta(milliseconds=node.duration_ms)
    if call.outcome is not None:
        if not call.nodes[-1].dropped:
            emit(0, "hangup", {"by": "flow"})
        emit(0, "call_ended", {"outcome": call.outcome, "duration_ms": call.duration_ms})
    return out


def write_store(path: str, calls: list[Call]) -> None:
    """The calls through CallStore.emit; wrap-up times with set_wrapup.
    Calls in progress (no call_ended) are written as the row a live store
    has for them: CallStore.close would finish them as errors."""
    live = [c for c in calls if c.outcome is None]
    with CallStore(path, timezone=CENTRE) as store:
        for call in calls:
            if call.outcome is None:
                continue
            for seq, (at, kind, data) in enumerate(_events(call), start=1):
                store.emit(Event(call.call_id, seq, at, kind, data))
        for call in calls:
            if call.wrapup_ms is not None and call.outcome is not None:
                store.set_wrapup(call.call_id, {"reason": "order"}, call.wrapup_ms)
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO calls (call_id, flow, started, started_ms) VALUES (?, ?, ?, ?)",
            [(c.call_id, c.flow, c.start.astimezone(UTC).isoformat(),
              int(c.start.timestamp() * 1000))
             for c in live])
    db.close()


# ---- the figures, counted from the truth ---------------------------------------------


def _avg(values: list[int | float]) -> int | None:
    """A mean in whole ms, halves rounded away from zero as SQLite's round()."""
    if not values:
        return None
    mean = sum(values) / len(values)
    return int(mean + 0.5)


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole + 1e-9, 1)


def local(moment: datetime, zone: str = CENTRE) -> str:
    """The moment as local ISO text in `zone` (the report's)."""
    return moment.astimezone(ZoneInfo(zone)).isoformat()[:19]


def _call_figures(calls: list[Call]) -> dict:
    ended = [c for c in calls if c.outcome is not None]
    return {
        "calls": len(calls),
        "answered": sum(c.talked for c in calls),
        "abandoned": sum(c.outcome == "abandoned" for c in calls),
        "voicemail": sum(c.outcome == "voicemail" for c in calls),
        "transferred": sum(c.outcome == "transfer" for c in calls),
        "in_progress": sum(c.outcome is None for c in calls),
        "interrupted": sum(c.outcome == "interrupted" for c in calls),
        "avg_duration_ms": _avg([c.duration_ms for c in ended]),
    }


def contained(call: Call) -> bool:
    """Ended in the IVR: the flow or the caller hung up, no queue joined, no agent rung."""
    return call.outcome == "hangup" and not call.visits and not call.offers


def expected_summary(calls: list[Call]) -> dict:
    figures = _call_figures(calls)
    waits = [sum(v.wait_ms for v in c.visits) for c in calls if c.visits]
    figures["avg_wait_ms"] = _avg(waits)
    figures["answered_pct"] = _pct(figures["answered"], figures["calls"])
    figures["asa_ms"] = _avg([v.wait_ms for c in calls for v in c.visits
                              if v.outcome == "answered"])
    figures["aht_ms"] = _avg([v.talk_ms + (c.wrapup_ms or 0) for c in calls
                              for v, o in c.offers if o.outcome == "answered"])
    ended = [c for c in calls if c.outcome not in (None, "interrupted")]
    figures["ivr_contained"] = sum(contained(c) for c in calls)
    figures["ivr_containment_pct"] = _pct(figures["ivr_contained"], len(ended))
    return figures


def period_label(moment: datetime, interval: str, zone: str = CENTRE) -> str:
    text = local(moment, zone)
    return {"hour": f"{text[:10]} {text[11:13]}:00", "day": text[:10],
            "month": text[:7], "year": text[:4]}[interval]


def every_period(first: datetime, end: datetime, interval: str,
                 zone: str = CENTRE) -> list[str]:
    """Every period's label from `first` up to `end` (excluded), found by walking the
    time in steps smaller than a period and labelling each step: nothing of the
    report's arithmetic."""
    step = {"hour": timedelta(minutes=15), "day": timedelta(hours=1)}.get(
        interval, timedelta(hours=12))
    labels, at = [], first.astimezone(UTC)
    while at < end:
        labels.append(period_label(at, interval, zone))
        at += step
    labels.append(period_label(end - timedelta(milliseconds=1), interval, zone))
    return list(dict.fromkeys(labels))


def _span(calls: list[Call], span: tuple[datetime, datetime] | None
          ) -> tuple[datetime, datetime]:
    if span is not None:
        return span
    first = min(c.start for c in calls)
    return first, max(c.start for c in calls) + timedelta(milliseconds=1)


def expected_periods(calls: list[Call], interval: str, zone: str = CENTRE,
                     span: tuple[datetime, datetime] | None = None) -> list[dict]:
    """Calls per period, every period of `span` (default: the first call to the last)."""
    groups: dict[str, list[Call]] = defaultdict(list)
    for c in calls:
        groups[period_label(c.start, interval, zone)].append(c)
    labels = set(every_period(*_span(calls, span), interval, zone)) | set(groups)
    return [{"period": k, **_call_figures(groups.get(k, []))} for k in sorted(labels)]


def expected_service(calls: list[Call], interval: str, within_ms: int = 20_000,
                     zone: str = CENTRE, span: tuple[datetime, datetime] | None = None,
                     when=lambda moment: True, queue: str | None = None) -> list[dict]:
    """The queues' service per period of the joins, every period of `span`."""
    groups: dict[str, list[Visit]] = defaultdict(list)
    for c in calls:
        for v in c.visits:
            if when(v.joined) and queue in (None, v.queue):
                groups[period_label(v.joined, interval, zone)].append(v)
    labels = set(every_period(*_span(calls, span), interval, zone)) | set(groups)
    rows = []
    for label in sorted(labels):
        visits = groups.get(label, [])
        answered = [v for v in visits if v.outcome == "answered"]
        quick = sum(v.wait_ms <= within_ms for v in answered)
        hangups = sum(v.outcome == "hangup" for v in visits)
        rows.append({"period": label, "offered": len(visits), "answered": len(answered),
                     "answered_within": quick, "abandoned": hangups,
                     "service_level_pct": _pct(quick, len(visits)),
                     "abandoned_pct": _pct(hangups, len(visits)),
                     "avg_answer_ms": _avg([v.wait_ms for v in answered])})
    return rows


def _always(moment: datetime) -> bool:
    return True


def expected_queues(calls: list[Call], within_ms: int, when=_always,
                    queue: str | None = None) -> list[dict]:
    groups: dict[str, list[Visit]] = defaultdict(list)
    handling: dict[str, list[int]] = defaultdict(list)
    for c in calls:
        for v in c.visits:
            if when(v.joined) and queue in (None, v.queue):
                groups[v.queue].append(v)
        for v, o in c.offers:  # AHT: the answered offers made in the range, per queue
            if o.outcome == "answered" and when(o.offered) and queue in (None, v.queue):
                handling[v.queue].append(v.talk_ms + (c.wrapup_ms or 0))
    rows = []
    for queue, visits in sorted(groups.items()):
        answered = [v for v in visits if v.outcome == "answered"]
        quick = sum(v.wait_ms <= within_ms for v in answered)
        hangups = sum(v.outcome == "hangup" for v in visits)
        rows.append({
            "queue": queue, "offered": len(visits), "answered": len(answered),
            "abandoned": hangups,
            "timeout": sum(v.outcome == "timeout" for v in visits),
            "empty": sum(v.outcome in ("empty", "full") for v in visits),
            "answered_within": quick,
            "service_level_pct": _pct(quick, len(visits)),
            "abandoned_pct": _pct(hangups, len(visits)),
            "avg_wait_ms": _avg([v.wait_ms for v in visits]),
            "max_wait_ms": max(v.wait_ms for v in visits),
            "avg_answer_ms": _avg([v.wait_ms for v in answered]),
            "avg_talk_ms": _avg([v.talk_ms for v in answered]),
            "avg_handling_ms": _avg(handling[queue]),
        })
    return rows


def expected_agents(calls: list[Call], when=_always, queue: str | None = None,
                    agent: str | None = None) -> list[dict]:
    groups: dict[str, list[tuple[Call, Visit, Offer]]] = defaultdict(list)
    for c in calls:
        for v, o in c.offers:
            if when(o.offered) and queue in (None, v.queue) and agent in (None, o.agent):
                groups[o.agent].append((c, v, o))
    rows = []
    for agent, legs in sorted(groups.items()):
        answered = [(c, v, o) for c, v, o in legs if o.outcome == "answered"]
        talks = [v.talk_ms for _, v, _ in answered]
        wrapups = [c.wrapup_ms or 0 for c, _, _ in answered]
        rows.append({
            "agent": agent, "offered": len(legs), "answered": len(answered),
            "missed": sum(o.outcome == "missed" for _, _, o in legs),
            "caller_gone": sum(o.outcome == "caller_gone" for _, _, o in legs),
            "answered_pct": _pct(len(answered), len(legs)),
            "talk_ms": sum(talks), "avg_talk_ms": _avg(talks),
            "wrapup_ms": sum(wrapups),
            "avg_handling_ms": _avg([t + w for t, w in zip(talks, wrapups, strict=True)]),
            "avg_ring_ms": _avg([o.ring_ms for _, _, o in answered]),
        })
    return rows


def expected_nodes(calls: list[Call], when=_always) -> list[dict]:
    groups: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for c in calls:
        if c.outcome is None:
            continue  # a call in progress has no node visits written yet
        for n in c.nodes:
            if when(n.entered):
                groups[(n.name, n.kind)].append(n)
            for wait in _queue_nodes(n):  # the waits in queues are nodes too
                if when(wait.entered):
                    groups[(wait.name, wait.kind)].append(wait)
    rows = [{
        "node": name, "kind": kind, "visits": len(nodes),
        "choices": sum(bool(n.choices) for n in nodes),
        "total_ms": sum(n.duration_ms for n in nodes),
        "avg_ms": _avg([n.duration_ms for n in nodes]),
        "dropped": sum(n.dropped for n in nodes),
        "dropped_pct": _pct(sum(n.dropped for n in nodes), len(nodes)),
    } for (name, kind), nodes in groups.items()]
    return sorted(rows, key=lambda r: (-r["visits"], r["node"]))


def _queue_nodes(node: Node) -> list[Node]:
    """The waits in queues of a step's visit as the store keeps them: a node
    `queue NAME` from the join for the wait, dropped when the caller hung
    up waiting (placed as `_events` places them)."""
    out, t = [], 0
    for visit in node.visits:
        entered = node.entered + timedelta(milliseconds=t) if node.entered else None
        out.append(Node(f"queue {visit.queue}", visit.wait_ms, kind="queue", entered=entered,
                        dropped=visit.outcome == "hangup"))
        t += visit.wait_ms + (visit.talk_ms or 0 if visit.outcome == "answered" else 0)
    return out


def expected_choices(calls: list[Call], when=_always) -> list[dict]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in calls:
        if c.outcome is None:
            continue
        for n in c.nodes:
            if n.choices and when(n.entered):
                counts[n.name][n.choices[-1]] += 1  # the last choice of the visit
    rows = []
    for node in sorted(counts):
        total = sum(counts[node].values())
        for choice, times in sorted(counts[node].items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append({"node": node, "choice": choice, "times": times,
                         "pct": _pct(times, total)})
    return rows
