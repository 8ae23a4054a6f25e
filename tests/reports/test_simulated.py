"""Real simulated calls through examples/iws/hotline.ccf kept in a call store
(as `ccf simulate --store` keeps them), and the report's figures checked
against counts made from the events the calls emitted."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.reports import make_report
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim import HangUp, Press, Speak
from ccdsl.runtime.sim.scenario import run_simulation, simulation
from reports import backends

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"
KNOWN = "+8613800000001"  # C1001 of the fixtures, whose account owner is zhang

PATHS = (
    # (caller, local time, what the caller does)
    ("+8613900000001", "2026-11-30 10:00", (Press("0"), Press("5"))),  # queue service
    (KNOWN, "2026-11-30 10:20", (Press("0"), Press("5"))),  # dialled to the owner
    ("+8613900000002", "2026-11-30 11:05", (Press("1"), Press("20261128#"),
                                            HangUp(after_ms=6_000))),
    ("+8613900000003", "2026-11-30 11:40", (Press("7"), HangUp(after_ms=2_000))),
    ("+8613900000004", "2026-11-27 10:15", (Press("0"), Press("4"))),
    (KNOWN, "2026-11-30 22:00", (Speak(20_000),)),  # after hours: voicemail
)


@pytest.fixture(scope="module", params=backends.BACKENDS)
def runs(request, tmp_path_factory) -> tuple[str, list]:
    result = compile_file(str(IWS / "hotline.ccf"))
    assert result.ok and result.ir is not None
    store = str(tmp_path_factory.mktemp("sim") / "calls.db")
    agents = load_agents(str(IWS / "agents.toml"))
    done = []
    for caller, at, actions in PATHS:
        scenario = simulation(result.ir, caller=caller, at=f"{at} Asia/Shanghai",
                              actions=actions, agents=agents)
        done.append(run_simulation(result.ir, scenario, crm_folder=str(IWS / "crm"),
                                   store_path=store))
    with CallStore(store) as writer:  # the first call's agent fills in the wrap-up in 45 s
        writer.set_wrapup(done[0].events[0].call_id, {"reason": "order"}, 45_000)
    return backends.on(request, store), done


def _of(run, kind: str) -> list:
    return [e for e in run.events if e.kind == kind]


def _visits(run) -> list[tuple[str, str, int, str | None]]:
    """(node, kind, duration ms, last choice) of each step or handler entered
    and each wait in a queue
    (`on answered by agent` runs inside the step that rang the agent: no
    node of its own, docs/store.md)."""
    events = run.events
    entered = [i for i, e in enumerate(events) if e.kind == "step_entered"
               or (e.kind == "handler_entered" and e.data["handler"] != "answered_by_agent")]
    end = _of(run, "call_ended")[0].at
    out = []
    for n, i in enumerate(entered):
        e = events[i]
        until = events[entered[n + 1]].at if n + 1 < len(entered) else end
        stop = entered[n + 1] if n + 1 < len(entered) else len(events)
        keys = [x.data["key"] for x in events[i:stop] if x.kind == "menu_choice"]
        name = e.data["step"] if e.kind == "step_entered" else f"on {e.data['handler']}"
        kind = "step" if e.kind == "step_entered" else "handler"
        out.append((name, kind, int((until - e.at).total_seconds() * 1000),
                    str(keys[-1]) if keys else None))
    # each wait in a queue is a node `queue NAME` from the join to the leaving
    joined = {}
    for e in events:
        if e.kind == "queue_joined":
            joined[e.data["queue"]] = e.at
        elif e.kind == "queue_key":
            joined[e.data["queue"], "key"] = str(e.data["key"])
        elif e.kind == "queue_left" and e.data["queue"] in joined:
            at = joined.pop(e.data["queue"])
            out.append((f"queue {e.data['queue']}", "queue",
                        int((e.at - at).total_seconds() * 1000),
                        joined.pop((e.data["queue"], "key"), None)))
    return out


def test_summary_and_calls_per_hour(runs) -> None:
    store, done = runs
    report = make_report(store, options=_hourly())
    summary = report.section("summary").records()[0]
    outcomes = Counter(_of(r, "call_ended")[0].data["outcome"] for r in done)
    assert summary["calls"] == len(PATHS)
    assert summary["answered"] == sum(bool(_of(r, "agent_answered")) for r in done)
    assert summary["voicemail"] == outcomes["voicemail"] == 1  # the 22:00 call
    assert summary["abandoned"] == outcomes["abandoned"]
    assert summary["in_progress"] == 0
    hours = Counter(f"{at[:13]}:00" for _, at, _ in PATHS)
    rows = report.section("calls").records()
    assert {r["period"]: r["calls"] for r in rows if r["calls"]} == hours
    # every hour from the first call's to the last's, the empty ones with 0 calls
    first = datetime.fromisoformat(min(hours))
    assert [r["period"] for r in rows] == [
        (first + timedelta(hours=n)).strftime("%Y-%m-%d %H:00")
        for n in range(len(rows))] and rows[-1]["period"] == max(hours)


def _hourly():
    from ccdsl.runtime.operations.reports.model import Options

    return Options(interval="hour")


def test_queues_and_agents(runs) -> None:
    store, done = runs
    report = make_report(store)
    joined = Counter(e.data["queue"] for r in done for e in _of(r, "queue_joined"))
    left = [e.data for r in done for e in _of(r, "queue_left")]
    queues = {q["queue"]: q for q in report.section("queues").records()}
    assert {q: v["offered"] for q, v in queues.items()} == dict(joined)
    assert joined, "some path goes through a queue"
    for queue, row in queues.items():
        mine = [d for d in left if d["queue"] == queue]
        assert row["answered"] == sum(d["outcome"] == "answered" for d in mine)
        assert row["avg_wait_ms"] == round(sum(d["wait_ms"] for d in mine) / len(mine))

    offered = Counter(e.data["agent"] for r in done for e in _of(r, "agent_offered"))
    answered = Counter(e.data["agent"] for r in done for e in _of(r, "agent_answered"))
    talk: dict[str, int] = defaultdict(int)
    for r in done:
        for e in _of(r, "conversation_ended"):
            talk[e.data["agent"]] += e.data["talk_ms"]
    agents = {a["agent"]: a for a in report.section("agents").records()}
    assert {a: v["offered"] for a, v in agents.items()} == dict(offered)
    assert {a: v["answered"] for a, v in agents.items() if v["answered"]} == dict(answered)
    assert {a: v["talk_ms"] for a, v in agents.items() if v["talk_ms"]} == dict(talk)
    first_agent = _of(done[0], "agent_answered")[0].data["agent"]
    row = agents[first_agent]
    assert row["wrapup_ms"] == 45_000
    assert row["avg_handling_ms"] == round((talk[first_agent] + 45_000) / row["answered"])


def test_nodes_and_choices(runs) -> None:
    store, done = runs
    report = make_report(store)
    visits = [v for r in done for v in _visits(r)]
    count = Counter((n, k) for n, k, _, _ in visits)
    total: dict[tuple, int] = defaultdict(int)
    for n, k, ms, _ in visits:
        total[(n, k)] += ms
    nodes = {(r["node"], r["kind"]): r for r in report.section("nodes").records()}
    assert {key: r["visits"] for key, r in nodes.items()} == dict(count)
    assert {key: r["total_ms"] for key, r in nodes.items()} == dict(total)
    drops = Counter()
    for r in done:
        hangups = [e for e in r.events if e.kind == "hangup" and e.data.get("by") == "caller"]
        if hangups:
            drops[hangups[0].data["step"]] += 1
    assert {n: r["dropped"] for (n, _), r in nodes.items() if r["dropped"]} == dict(drops)
    assert drops, "a caller hangs up mid-menu"
    chosen = Counter((n, c) for n, _, _, c in visits if c is not None)
    assert {(r["node"], r["choice"]): r["times"]
            for r in report.section("choices").records()} == dict(chosen)
