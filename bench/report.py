"""Report benchmark (`make bench`): `ccf report` over a call store of one
million calls, against the target "daily report under 3 s".

The store: generated for the purpose, straight into the schema CallStore
creates (calls, queue_visits, agent_legs, node_visits; no event rows, which
no report reads), with executemany in transactions of 50,000 calls. Ninety
days of calls in Asia/Shanghai time, more on weekdays and in office hours;
three flows, five queues, forty agents, a menu tree of steps with choices
and drops. Seeded, so every run sees the same store. Generating it takes
a minute or so; the file is kept under the temporary folder, keyed by
GENERATOR_VERSION and the number of calls, and later runs reuse it (they
say so). `--calls N` makes a smaller store; `--fresh` generates again.

Measured (each the whole `make_report`: opening the store, every query,
the report's data; rendering is not included):
  daily report: every section (summary, calls per hour, per queue, per
  agent, per node, choices) for one day, for each of 7 days in turn,
  3 rounds; median and slowest, against the 3 s target.
  the same with a filter (--queue, --flow).
  whole range: every section over all 90 days, calls per day.
"""

from __future__ import annotations

import gc
import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccdsl.runtime.operations.reports import make_report  # noqa: E402
from ccdsl.runtime.operations.reports.model import Filters, Options  # noqa: E402
from ccdsl.runtime.operations.reports.options import filters as make_filters  # noqa: E402
from ccdsl.runtime.operations.store import CallStore  # noqa: E402

GENERATOR_VERSION = 2  # change when the generated store changes: the cache is keyed by it
SEED = 20261130
CALLS = 1_000_000
DAYS = 365
LAST_DAY = date(2026, 11, 30)
OFFSET = "+08:00"  # Asia/Shanghai: no daylight saving, one offset for every call
OFFSET_MS = 8 * 3_600_000
CALLS_PER_COMMIT = 50_000
TARGET_S = 3.0
ROUNDS = 3
SAMPLE_DAYS = 7

FLOWS = (("hotline", 0.7), ("sales", 0.2), ("support", 0.1))
QUEUES = ("service", "sales", "tech", "vip", "billing")
AGENTS = tuple(f"agent{i:02d}" for i in range(40))
# the queues each agent serves: agents of queue k are agents 8k .. 8k+7, and
# every third agent also serves `service`, where timed-out calls overflow
SERVES = {q: [a for i, a in enumerate(AGENTS) if i // 8 == k or (q == "service" and i % 3 == 0)]
          for k, q in enumerate(QUEUES)}
# a flow's menu: (step, choices with weights, the queue each choice leads to)
MENUS = {
    "hotline": ("main_menu", (("1", 40, "service"), ("2", 25, "billing"), ("0", 20, "vip"),
                              ("timeout", 10, None), ("invalid", 5, None))),
    "sales": ("sales_menu", (("1", 60, "sales"), ("2", 30, "sales"), ("timeout", 10, None))),
    "support": ("support_menu", (("1", 70, "tech"), ("9", 20, "service"),
                                 ("timeout", 10, None))),
}
HOUR_WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 8, 7.5, 5, 6.5, 7.5, 7, 6.5, 5,
                3, 2, 1.5, 1, 0.6, 0.3]

_CALL_SQL = ("INSERT INTO calls (call_id, flow, flow_version, caller, dialled, started, "
             "started_ms, answered, ended, ended_ms, duration_ms, outcome, ended_by, queue, "
             "wait_ms, agent, talk_ms, talked_to_agent) "
             "VALUES (?, ?, '0001', ?, '4008001234', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_NODE_SQL = "INSERT INTO node_visits VALUES (?, ?, ?, 'step', ?, ?, ?, ?, ?)"
_QUEUE_SQL = "INSERT INTO queue_visits VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)"
_LEG_SQL = "INSERT INTO agent_legs VALUES (?, ?, ?, 'queue', ?, ?, ?, ?, ?, ?, ?, ?)"


def _text(day: str, ms_of_day: int) -> str:
    """Local ISO 8601 text of a moment of `day` (ms since local midnight),
    as datetime.isoformat gives it for an aware time with microseconds."""
    day_offset, ms = divmod(ms_of_day, 86_400_000)
    if day_offset:
        day = (date.fromisoformat(day) + timedelta(days=day_offset)).isoformat()
    seconds, milli = divmod(ms, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{day}T{hour:02d}:{minute:02d}:{second:02d}.{milli:03d}000{OFFSET}"


class _Generator:
    """Plausible calls, one day at a time, as rows of the four tables."""

    def __init__(self, calls: int) -> None:
        self.rng = random.Random(SEED)
        days = [LAST_DAY - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
        weights = [1.0 if d.weekday() < 5 else 0.45 for d in days]
        scale = calls / sum(weights)
        self.per_day = [int(w * scale) for w in weights]
        self.per_day[-1] += calls - sum(self.per_day)
        self.days = days
        self.serial = 0

    def day(self, index: int) -> tuple[list, list, list, list]:
        rng = self.rng
        day = self.days[index]
        day_text = day.isoformat()
        midnight_ms = (day - date(1970, 1, 1)).days * 86_400_000 - OFFSET_MS
        count = self.per_day[index]
        starts = sorted(rng.choices(range(24), HOUR_WEIGHTS, k=count))
        calls, nodes, visits, legs = [], [], [], []
        for hour in starts:
            self.serial += 1
            at = hour * 3_600_000 + rng.randrange(3_600_000)
            self._call(f"bench-{self.serial}", day_text, midnight_ms, at, calls, nodes,
                       visits, legs)
        return calls, nodes, visits, legs

    def _call(self, call_id: str, day: str, midnight: int, start: int, calls: list,
              nodes: list, visits: list, legs: list) -> None:
        rng = self.rng
        flow = rng.choices([f for f, _ in FLOWS], [w for _, w in FLOWS])[0]
        step, options = MENUS[flow]
        seq, at = 1, start
        outcome, ended_by, queue, agent = "hangup", "caller", None, None
        wait_total, talk_total, talked = None, None, 0
        # welcome: a greeting, 6-10 s; 3% hang up during it
        welcome = rng.randint(6_000, 10_000)
        dropped = rng.random() < 0.03
        nodes.append((call_id, seq, "welcome", _text(day, at), midnight + at, welcome, None,
                      int(dropped)))
        at += welcome
        if not dropped:
            seq += 3
            choice, _, target = rng.choices(options, [o[1] for o in options])[0]
            spent = rng.randint(3_000, 15_000)
            dropped = rng.random() < 0.05
            nodes.append((call_id, seq, step, _text(day, at), midnight + at, spent, choice,
                          int(dropped)))
            at += spent
            if not dropped and target is None:
                seq += 3  # nothing chosen: a message, then the flow hangs up
                nodes.append((call_id, seq, "goodbye", _text(day, at), midnight + at, 4_000,
                              None, 0))
                at += 4_000
                ended_by = "flow"
            elif not dropped:
                seq += 3
                node_at = at
                at, seq, result = self._queue(call_id, day, midnight, at, seq, target,
                                              visits, legs)
                queue, agent, wait_total, talk_total, talked, outcome, ended_by = result
                nodes.append((call_id, seq - 1, "agent", _text(day, node_at),
                              midnight + node_at, at - node_at, None,
                              int(outcome == "abandoned")))
        calls.append((call_id, flow, f"+86139{rng.randrange(10**8):08d}", _text(day, start),
                      midnight + start, _text(day, start + 1_000), _text(day, at),
                      midnight + at, at - start, outcome, ended_by, queue, wait_total, agent,
                      talk_total, talked))

    def _queue(self, call_id: str, day: str, midnight: int, at: int, seq: int, queue: str,
               visits: list, legs: list) -> tuple[int, int, tuple]:
        """One queue visit (and an overflow to `service` after a timeout):
        its offers to agents, the conversation; the call's outcome."""
        rng = self.rng
        wait_total = 0
        for attempt in range(2):
            roll = rng.random()
            outcome = ("answered" if roll < 0.80 else "hangup" if roll < 0.92
                       else "timeout" if roll < 0.98 else "empty")
            if attempt == 1 and outcome == "timeout":
                outcome = "answered"
            if outcome == "answered":
                wait = int(rng.expovariate(1 / 22_000))
            elif outcome == "hangup":
                wait = int(rng.expovariate(1 / 55_000))
            elif outcome == "timeout":
                wait = 120_000
            else:
                wait = 0
            joined = at
            visit_seq = seq
            agent = talk = None
            if outcome in ("answered", "timeout", "hangup") and wait > 2_000:
                # agents rung while the caller waited: some rang out (missed)
                for _ in range(rng.choices((0, 1, 2), (70, 22, 8))[0]):
                    seq += 1
                    offered = joined + rng.randrange(max(1, wait - 1_000))
                    legs.append((call_id, seq, rng.choice(SERVES[queue]), queue,
                                 _text(day, offered), midnight + offered, "missed", None, None,
                                 None, None))
            if outcome == "answered":
                agent = rng.choice(SERVES[queue])
                ring = rng.randint(2_000, 9_000)
                talk = int(rng.lognormvariate(math.log(180_000), 0.6))
                seq += 1
                offered = joined + max(0, wait - ring)
                legs.append((call_id, seq, agent, queue, _text(day, offered),
                             midnight + offered, "answered", ring, talk,
                             rng.choice(("caller", "agent")),
                             rng.randint(5_000, 60_000) if rng.random() < 0.6 else None))
            elif outcome == "hangup" and wait > 2_000 and rng.random() < 0.3:
                seq += 1
                offered = joined + wait - 1_500
                legs.append((call_id, seq, rng.choice(SERVES[queue]), queue,
                             _text(day, offered), midnight + offered, "caller_gone", None,
                             None, None, None))
            visits.append((call_id, visit_seq, queue, 1, _text(day, joined), midnight + joined,
                           wait, outcome, agent, talk))
            wait_total += wait
            at = joined + wait + (talk or 0)
            seq += 2
            if outcome == "answered":
                ended = rng.random()
                final = "transfer" if ended < 0.03 else "hangup"
                return at, seq, (queue, agent, wait_total, talk, 1, final,
                                 "transfer" if final == "transfer" else "caller")
            if outcome == "hangup":
                return at, seq, (queue, None, wait_total, None, 0, "abandoned", "caller")
            if outcome == "empty" or attempt == 1:
                break
            queue = "service"  # overflow after a timeout
        at += 30_000  # a voicemail message
        return at, seq, (queue, None, wait_total, None, 0, "voicemail", "caller")


def generate(path: Path, calls: int) -> float:
    """Write the store (into a temporary name, renamed when complete, so an
    interrupted run is not reused); the seconds it took."""
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    CallStore(partial).close()
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    generator = _Generator(calls)
    buffered = [[], [], [], []]
    done = 0
    for index in range(DAYS):
        for rows, more in zip(buffered, generator.day(index), strict=True):
            rows.extend(more)
        done += generator.per_day[index]
        if len(buffered[0]) >= CALLS_PER_COMMIT or index == DAYS - 1:
            db.execute("BEGIN")
            for sql, rows in zip((_CALL_SQL, _NODE_SQL, _QUEUE_SQL, _LEG_SQL), buffered,
                                 strict=True):
                db.executemany(sql, rows)
            db.execute("COMMIT")
            buffered = [[], [], [], []]
            print(f"  generated {done:,} calls", end="\r", flush=True)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('bench_report', ?)",
               (str(GENERATOR_VERSION),))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    os.replace(partial, path)
    for stale in (Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    print()
    return time.perf_counter() - started


def store_for(calls: int, fresh: bool) -> tuple[Path, str]:
    path = Path(tempfile.gettempdir()) / f"ccf-bench-report-v{GENERATOR_VERSION}-{calls}.db"
    if path.exists() and not fresh:
        return path, f"reused {path} (generated by an earlier run; --fresh makes it again)"
    print(f"generating {calls:,} calls into {path} ...", flush=True)
    seconds = generate(path, calls)
    return path, f"generated {path} in {seconds:.1f} s (kept for later runs)"


@dataclass(frozen=True)
class Row:
    name: str
    median: float
    slowest: float
    target: float | None = None
    note: str = ""

    def met(self) -> bool:
        return self.target is None or self.median < self.target


def _time(path: Path, filters: Filters, options: Options) -> tuple[float, str]:
    started = time.perf_counter()
    report = make_report(str(path), filters, options)
    seconds = time.perf_counter() - started
    summary = report.section("summary").records()[0]
    return seconds, (f"{summary['calls']:,} calls, {len(report.section('nodes').rows)} nodes, "
                     f"{len(report.section('agents').rows)} agents")


def measure(path: Path) -> list[Row]:
    days = [LAST_DAY - timedelta(days=i * 11 + 1) for i in range(SAMPLE_DAYS)]
    hourly = Options(interval="hour")
    rows = []
    for label, extra in (("", {}), (" --queue service", {"queue": "service"}),
                         (" --flow sales", {"flow": "sales"})):
        times, note = [], ""
        for _ in range(ROUNDS):
            for day in days:
                seconds, note = _time(path, make_filters(str(day), str(day), **extra), hourly)
                times.append(seconds)
        rows.append(Row(f"daily report{label}", statistics.median(times), max(times),
                        TARGET_S, f"{len(times)} reports of {SAMPLE_DAYS} days; last: {note}"))
    whole = [_time(path, Filters(), Options(interval="day")) for _ in range(2)]
    rows.append(Row("whole range (90 days), calls per day", statistics.median(
        [t for t, _ in whole]), max(t for t, _ in whole), None, whole[-1][1]))
    return rows


def print_table(rows: list[Row]) -> bool:
    print(f"{'measurement':44} {'median':>9} {'slowest':>9} {'target':>9} {'ratio':>6}")
    all_met = True
    for r in rows:
        target = f"{r.target:.0f} s" if r.target is not None else ""
        ratio = f"{r.median / r.target:.2f}" if r.target is not None else ""
        print(f"{r.name:44} {r.median:>7.3f} s {r.slowest:>7.3f} s {target:>9} {ratio:>6}")
        if r.note:
            print(f"{'':4}{r.note}")
    print()
    for r in rows:
        if r.target is None:
            continue
        all_met &= r.met()
        print(f"target: {r.name} under {r.target:.0f} s: {'met' if r.met() else 'NOT met'} "
              f"(median {r.median:.3f} s, slowest {r.slowest:.3f} s)")
    return all_met


def main() -> int:
    args = sys.argv[1:]
    calls = CALLS
    if "--calls" in args:
        calls = int(args[args.index("--calls") + 1])
    path, how = store_for(calls, "--fresh" in args)
    print(f"call store: {how}; {path.stat().st_size / 1e6:,.0f} MB")
    gc.collect()
    return 0 if print_table(measure(path)) else 1


if __name__ == "__main__":
    sys.exit(main())
