"""Runtime benchmark (`make bench`).

One function per measurement, each returning `Row`s; `main` runs them all
and prints one table with the targets. Measurements:

  routing: one routing decision (`runtime.routing.decide` on a `skills`
  line) among 10,000 agents with 50 skills, with agents changing state
  between decisions as they would on a busy floor; median and p99 in µs
  against the 200 µs median target. Also the cost of one agent state change
  (the index update the decision's speed is paid for with).

Everything random is seeded, so two runs see the same centre.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.centre import Agent, AgentState  # noqa: E402
from runtime.routing import AgentPool, RuleLine, decide  # noqa: E402

SEED = 20261130
AGENTS = 10_000
SKILLS = 50
DECISIONS = 20_000
TARGET_DECISION_US = 200.0


@dataclass(frozen=True)
class Row:
    name: str
    unit: str
    median: float
    p99: float
    target: float | None = None  # None: no target
    note: str = ""
    higher_is_better: bool = False  # a rate (calls per second) must reach its target

    def met(self) -> bool:
        if self.target is None:
            return True
        return self.median >= self.target if self.higher_is_better else self.median < self.target


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _skill_names() -> list[str]:
    # a realistic mix: a few broad skills most agents have, languages, products
    broad = ["general", "billing", "orders", "zh-CN", "en-US"]
    return broad + [f"product_{i:02d}" for i in range(SKILLS - len(broad))]


def build_centre(rng: random.Random, now: datetime) -> AgentPool:
    """10,000 agents; skills drawn with a skew (broad skills are common,
    product skills rare), levels 1..10, most agents available, idle for up
    to an hour."""
    names = _skill_names()
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(names))]
    states = [AgentState.AVAILABLE] * 6 + [AgentState.BUSY] * 3 + [AgentState.PAUSED]
    agents = []
    for i in range(AGENTS):
        count = rng.randint(3, 8)
        skills = {s: rng.randint(1, 10) for s in rng.choices(names, weights, k=count)}
        agents.append(Agent(
            id=f"a{i:05d}", extension=str(1000 + i), skills=skills,
            state=rng.choice(states),
            idle_since=now - timedelta(seconds=rng.randint(0, 3600)),
            queues=("service",) if "general" in skills else ()))
    return AgentPool(agents)


def _request(rng: random.Random, names: list[str], weights: list[float]) -> dict[str, int]:
    """1-3 skills, each with a minimum level (0: any level) of up to 5."""
    wanted = rng.choices(names, weights, k=rng.randint(1, 3))
    return {s: rng.choice([0, 0, 1, 3, 5]) for s in wanted}


def measure_routing() -> list[Row]:
    rng = random.Random(SEED)
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    pool = build_centre(rng, now)
    names = _skill_names()
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(names))]
    lines = [RuleLine("skills", skills=_request(rng, names, weights), ring_ms=20_000)
             for _ in range(DECISIONS)]
    busy = [a.id for a in pool.agents() if a.state == AgentState.BUSY]
    clock = time.perf_counter_ns
    decision_ns: list[float] = []
    update_ns: list[float] = []
    dialled = 0
    for line in lines:
        start = clock()
        decision = decide(line, pool)
        decision_ns.append(clock() - start)
        if decision.action != "dial":
            continue
        # the floor moves on: the agent takes the call, another one frees up
        dialled += 1
        now += timedelta(milliseconds=rng.randint(50, 500))
        freed = busy.pop(rng.randrange(len(busy)))
        start = clock()
        pool.set_state(decision.agent, AgentState.BUSY)
        pool.set_state(freed, AgentState.AVAILABLE, at=now)
        update_ns.append((clock() - start) / 2)
        busy.append(decision.agent)
    us = [n / 1000 for n in decision_ns]
    up = [n / 1000 for n in update_ns]
    return [
        Row(f"routing decision ({AGENTS:,} agents, {SKILLS} skills)", "µs",
            statistics.median(us), _percentile(us, 0.99), TARGET_DECISION_US,
            f"{len(us):,} decisions, {dialled:,} found an agent"),
        Row("agent state change (index update)", "µs",
            statistics.median(up), _percentile(up, 0.99), None, f"{len(up):,} changes"),
    ]


MEASUREMENTS: list[Callable[[], list[Row]]] = [measure_routing]


def print_table(rows: list[Row]) -> bool:
    """Print the rows; True when every target is met."""
    print(f"{'measurement':48} {'median':>10} {'p99':>10} {'target':>10} {'ratio':>7}")
    all_met = True
    for r in rows:
        target = f"{r.target:,.0f} {r.unit}" if r.target is not None else ""
        ratio = f"{r.median / r.target:.2f}" if r.target is not None else ""
        print(f"{r.name:48} {r.median:>7,.1f} {r.unit:2} {r.p99:>7,.1f} {r.unit:2} "
              f"{target:>10} {ratio:>7}")
        if r.note:
            print(f"{'':4}{r.note}")
    print()
    for r in rows:
        if r.target is None:
            continue
        met = r.met()
        all_met &= met
        word = "at least" if r.higher_is_better else "under"
        print(f"target: {r.name} median {word} {r.target:,.0f} {r.unit}: "
              f"{'met' if met else 'NOT met'} ({r.median:,.1f} {r.unit}, "
              f"{r.median / r.target:.2f} of the target)")
    return all_met


def main() -> int:
    rows: list[Row] = []
    for measure in MEASUREMENTS:
        rows.extend(measure())
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
