"""Runtime benchmark (`make bench`).

One function per measurement, each returning `Row`s; `main` runs them all
and prints one table with the targets. Measurements:

  routing: one routing decision (`runtime.core.routing.decide` on a `skills`
  line) among 10,000 agents with 50 skills, with agents changing state
  between decisions as they would on a busy floor; median and p99 in µs
  against the 200 µs median target. Also the cost of one agent state change
  (the index update the decision's speed is paid for with).

  calls: simulated calls per second through examples/iws/hotline.ccf on
  one core, against the 2,500 calls/s target (issue 15). Each call is a full
  `run_call` over the simulator (SimChannel, a scripted caller, a virtual
  clock, a simulated centre), with the embedded SQLite CRM (the fixtures
  of examples/iws/crm imported once into a temporary file, opened as
  every command opens it) and a SQLite call store, both real files.
  Five scripted paths, in turn: an order look-up that finds the order,
  one that does not, a caller routed to their account owner (who answers,
  then the survey), a voicemail for the owner after hours, and a hang-up
  mid-menu. The target row is a bulk simulation: many calls in one
  process, the store committing every SIMULATION_CALLS_PER_COMMIT calls
  (runtime/operations/store.py; the option bulk simulations pass). Also the time of
  one call per path (µs), and the same mix with the store committing
  every call, as a live server's store does.

`python bench/simulate.py --profile` runs the calls under cProfile and
prints where the time goes. Everything random is seeded, so two runs see
the same centre.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from figures import keep  # noqa: E402
from served import percentile  # noqa: E402

from ccdsl.compiler.pipeline import compile_file  # noqa: E402
from ccdsl.runtime.core.centre import Agent, AgentState  # noqa: E402
from ccdsl.runtime.core.channel import CallInfo  # noqa: E402
from ccdsl.runtime.core.clock import VirtualClock  # noqa: E402
from ccdsl.runtime.core.crm.folder import import_crm_folder  # noqa: E402
from ccdsl.runtime.core.crm.sqlite import SqliteCRM  # noqa: E402
from ccdsl.runtime.core.interpreter import run_call  # noqa: E402
from ccdsl.runtime.core.ir import Program, load_program  # noqa: E402
from ccdsl.runtime.core.queues import QueueConfig, queue_configs  # noqa: E402
from ccdsl.runtime.core.routing import AgentPool, RuleLine, decide  # noqa: E402
from ccdsl.runtime.core.services import RuntimeConfig, Services  # noqa: E402
from ccdsl.runtime.operations.store import SIMULATION_CALLS_PER_COMMIT, CallStore  # noqa: E402
from ccdsl.runtime.sim import (  # noqa: E402
    AgentScript,
    HangUp,
    Press,
    ScriptedCaller,
    SimCentre,
    SimChannel,
    Speak,
    StepWatch,
)

SEED = 20261130
AGENTS = 10_000
SKILLS = 50
DECISIONS = 20_000
TARGET_DECISION_US = 200.0
TARGET_CALLS_PER_S = 2_500.0
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"
FIXTURES = ROOT / "examples" / "iws" / "crm"
CALLS_PER_ROUND = 500  # 100 of each path
ROUNDS = 3


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
            statistics.median(us), percentile(us, 0.99), TARGET_DECISION_US,
            f"{len(us):,} decisions, {dialled:,} found an agent"),
        Row("agent state change (index update)", "µs",
            statistics.median(up), percentile(up, 0.99), None, f"{len(up):,} changes"),
    ]


# ---- simulated calls -------------------------------------------------------------------

ZONE = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)  # a Monday morning
NIGHT = datetime(2026, 11, 30, 22, 0, tzinfo=ZONE)
KNOWN = "+8613800000001"  # C1001 of the fixtures, account owner zhang


@dataclass(frozen=True)
class Script:
    """A scripted path through the hotline: who calls, when, and what they do."""

    name: str
    caller: str
    start: datetime
    actions: tuple


PATHS = (
    Script("order found", "+8613900000001", OPEN,
          (Press("1"), Press("20261128#"), HangUp(after_ms=6_000))),
    Script("order not found", "+8613900000002", OPEN,
          (Press("1"), Press("99999999#"), HangUp(after_ms=6_000))),
    Script("to the owner, then the survey", KNOWN, OPEN, (Press("0"), Press("5"))),
    Script("after hours voicemail", KNOWN, NIGHT, (Speak(20_000),)),
    Script("hang-up mid-menu", "+8613900000003", OPEN, (Press("7"), HangUp(after_ms=2_000))),
)


def _centre(queues: Iterable[QueueConfig], start: datetime) -> SimCentre:
    """The agents of examples/iws/agents.toml, all logged in and answering."""
    agents = [
        (Agent(id="zhang", name="Zhang Wei", extension="8001",
               skills={"general": 8, "zh-CN": 9, "en-US": 6}), AgentScript(answer_after_ms=4_000)),
        (Agent(id="li", name="Li Na", extension="8002", skills={"general": 6, "zh-CN": 9}),
         AgentScript(answer_after_ms=3_000)),
        (Agent(id="wang", name="Wang Fang", extension="8003",
               skills={"tech": 8, "general": 4, "zh-CN": 9, "en-US": 7}),
         AgentScript(answer_after_ms=5_000)),
    ]
    return SimCentre(agents, queues=queues, now=start)


@dataclass
class _Bench:
    """The world the calls share: the program (and its queues, read from
    the IR once, as the program is loaded once), one CRM file and one store."""

    queues: tuple[QueueConfig, ...]
    program: Program
    crm: SqliteCRM
    store: CallStore
    folder: str
    calls: int = 0

    async def call(self, path: Script) -> str:
        self.calls += 1
        call_id = f"bench-{self.calls}"
        clock = VirtualClock(path.start)
        centre = _centre(self.queues, path.start)
        info = CallInfo(call_id=call_id, caller_number=path.caller, caller_name=None,
                        dialled="4008001234", started=path.start, channel="sim/1")
        channel = SimChannel(info, clock, ScriptedCaller(path.actions), centre)
        services = Services(clock=clock, crm=self.crm, centre=centre, history=self.store,
                            sink=StepWatch(self.store, channel),
                            config=RuntimeConfig(recordings_dir=self.folder))
        result = await run_call(self.program, channel, services)
        return result.outcome


def _open_bench(folder: str, *, calls_per_commit: int) -> _Bench:
    result = compile_file(str(HOTLINE))
    if not result.ok or result.ir is None:
        raise SystemExit(f"{HOTLINE} does not compile: "
                         + "; ".join(d.message for d in result.diagnostics))
    template = Path(folder) / "fixtures.db"
    if not template.exists():
        crm = SqliteCRM(template)
        import_crm_folder(crm, str(FIXTURES))
        crm.close_now()
    crm_path = Path(folder) / f"crm-{calls_per_commit}.db"
    shutil.copyfile(template, crm_path)
    crm = SqliteCRM(crm_path)
    store = CallStore(Path(folder) / f"calls-{calls_per_commit}.db",
                      calls_per_commit=calls_per_commit)
    return _Bench(tuple(queue_configs(result.ir).values()), load_program(result.ir), crm, store,
                  folder)


async def _round(bench: _Bench, per_path_ns: dict[str, list[float]] | None) -> float:
    """CALLS_PER_ROUND calls, the paths in turn; the round's calls/s."""
    clock = time.perf_counter_ns
    start = clock()
    for i in range(CALLS_PER_ROUND):
        path = PATHS[i % len(PATHS)]
        before = clock()
        await bench.call(path)
        if per_path_ns is not None:
            per_path_ns[path.name].append(clock() - before)
    return CALLS_PER_ROUND / ((clock() - start) / 1e9)


def _outcomes(bench: _Bench) -> dict[str, str]:
    """Each path's outcome, from one call: a check that the paths do what
    their names say before they are timed."""
    return {p.name: asyncio.run(bench.call(p)) for p in PATHS}


def _calls_per_second(calls_per_commit: int, per_path_ns: dict[str, list[float]] | None
                      ) -> tuple[list[float], dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="ccf-bench-") as folder:
        bench = _open_bench(folder, calls_per_commit=calls_per_commit)
        try:
            outcomes = _outcomes(bench)

            async def rounds() -> list[float]:
                await _round(bench, None)  # warm-up: caches, the store's pages
                return [await _round(bench, per_path_ns) for _ in range(ROUNDS)]

            return asyncio.run(rounds()), outcomes
        finally:
            bench.store.close()
            bench.crm.close_now()


def measure_calls() -> list[Row]:
    per_path: dict[str, list[float]] = {p.name: [] for p in PATHS}
    rates, outcomes = _calls_per_second(SIMULATION_CALLS_PER_COMMIT, per_path)
    live_rates, _ = _calls_per_second(1, None)
    rows = [Row("simulated calls/s, examples/iws, 5 paths", "/s", statistics.median(rates),
                min(rates), TARGET_CALLS_PER_S,
                f"{ROUNDS} rounds of {CALLS_PER_ROUND:,} calls on one core, median and "
                "slowest round; CRM and call store on SQLite files, the store committing "
                f"every {SIMULATION_CALLS_PER_COMMIT} calls (bulk simulation)",
                higher_is_better=True)]
    for name, ns in per_path.items():
        us = [n / 1000 for n in ns]
        rows.append(Row(f"  one call: {name}", "µs", statistics.median(us),
                        percentile(us, 0.99), None, f"outcome {outcomes[name]}"))
    rows.append(Row("simulated calls/s, store committing every call", "/s",
                    statistics.median(live_rates), min(live_rates), None,
                    "the same mix; one commit per call, as a live server's store"))
    return rows


def profile_calls(top: int = 30) -> None:
    """Run one round of calls under cProfile; print where the time goes."""
    with tempfile.TemporaryDirectory(prefix="ccf-bench-") as folder:
        bench = _open_bench(folder, calls_per_commit=SIMULATION_CALLS_PER_COMMIT)
        try:
            asyncio.run(_round(bench, None))
            profiler = cProfile.Profile()
            profiler.enable()
            asyncio.run(_round(bench, None))
            profiler.disable()
        finally:
            bench.store.close()
            bench.crm.close_now()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


MEASUREMENTS: list[Callable[[], list[Row]]] = [measure_routing, measure_calls]


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
    if "--profile" in sys.argv[1:]:
        profile_calls()
        return 0
    rows: list[Row] = []
    for measure in MEASUREMENTS:
        # each measurement starts from a clean heap: the routing one leaves
        # 10,000 agents' worth of garbage that would tax the next one's GC
        gc.collect()
        rows.extend(measure())
    print_table(rows)
    keep("simulate", figures(rows))
    return 0


def figures(rows: list[Row]) -> dict[str, object]:
    """The table's figures for bench/figures.py, units in their keys."""
    by_name = {r.name: r for r in rows}
    routing = next(r for r in rows if r.name.startswith("routing decision"))
    bulk = by_name["simulated calls/s, examples/iws, 5 paths"]
    live = by_name["simulated calls/s, store committing every call"]
    out: dict[str, object] = {
        "routing_decision_median_us": round(routing.median, 2),
        "routing_decision_p99_us": round(routing.p99, 2),
        "agent_state_change_median_us":
            round(by_name["agent state change (index update)"].median, 2),
        "calls_per_s": round(bulk.median, 1),
        "calls_per_s_slowest_round": round(bulk.p99, 1),
        "calls_per_s_target": TARGET_CALLS_PER_S,
        "calls_per_s_commit_every_call": round(live.median, 1),
    }
    for path in PATHS:
        row = by_name[f"  one call: {path.name}"]
        out[f"one_call_{path.name.replace(' ', '_').replace(',', '')}_median_us"] = \
            round(row.median, 1)
    return out


if __name__ == "__main__":
    sys.exit(main())
