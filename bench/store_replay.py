"""The call store alone: the CPU a call costs it, on the events of bench/simulate.py's calls.

Records the events of N simulated calls once (or loads them, --events), then feeds them to a
fresh store in three ways and prints the CPU time a call, by thread: `bulk` (a simulation's
calls_per_commit, written inline), `live` (calls_per_commit=1, the writer thread taking what
has queued) and `serve` (calls_per_commit=1 and a flush after each call's end: a commit a call,
as `ccf serve` writes when calls come one at a time). --dump FOLDER keeps each mode's store
and writes every table's rows, sorted, to MODE.txt there (the events view for the threaded
modes, whose event_batches rows depend on timing; the values that are timings by nature,
runs' pids and times and meta's `created`, left out): two versions of the store compare with
`diff`. Must not change the store or the simulator; it only drives them.

    python bench/store_replay.py [--calls N] [--rounds R] [--events FILE] [--dump FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import pickle
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simulate  # noqa: E402

from ccdsl.runtime.operations import store_writer  # noqa: E402
from ccdsl.runtime.operations.store import SIMULATION_CALLS_PER_COMMIT, CallStore  # noqa: E402

MODES = {"bulk": SIMULATION_CALLS_PER_COMMIT, "live": 1, "serve": 1}
# timings by nature: left out of a dump
_RUN_TIMES = {"host", "pid", "process_start", "started", "started_ms", "ended", "ended_ms"}


def record(calls: int) -> list:
    """The events of `calls` simulated calls (bench/simulate.py's mix of paths)."""
    with tempfile.TemporaryDirectory() as folder:
        bench = simulate._open_bench(folder, calls_per_commit=SIMULATION_CALLS_PER_COMMIT)
        events: list = []
        emit = bench.store.emit

        def keep(event: object) -> None:
            events.append(event)
            emit(event)

        bench.store.emit = keep  # type: ignore[method-assign]

        async def run() -> None:
            for n in range(calls):
                await bench.call(simulate.PATHS[n % len(simulate.PATHS)])

        asyncio.run(run())
        bench.store.close()
        bench.crm.close_now()
    return events


class _WriterClock:
    """The CPU time of the store's writer threads (time.thread_time, in each)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        self._loop = store_writer.StoreWriter._loop
        clock = self

        def timed(writer: store_writer.StoreWriter) -> None:
            started = time.thread_time()
            try:
                clock._loop(writer)
            finally:
                with clock._lock:
                    clock.seconds += time.thread_time() - started

        store_writer.StoreWriter._loop = timed  # type: ignore[method-assign]


def replay(events: list, path: Path, mode: str, clock: _WriterClock) -> tuple[float, float]:
    """Feed `events` to a fresh store at `path`: (this thread's, the writer's) CPU seconds."""
    clock.seconds = 0.0
    store = CallStore(path, calls_per_commit=MODES[mode])
    gc.collect()
    started = time.thread_time()
    emit, each_call = store.emit, mode == "serve"
    for event in events:
        emit(event)
        if each_call and event.kind == "call_ended":
            store.flush()
    store.close()
    return time.thread_time() - started, clock.seconds


def dump(path: Path, events_view: bool) -> str:
    """Every table's rows, sorted, as text (see the module's docstring)."""
    db = sqlite3.connect(path)
    lines = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
        name = "events" if table == "event_batches" and events_view else table
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({name})")]
        rows = db.execute(f"SELECT * FROM {name}").fetchall()
        if name == "runs":
            rows = [tuple("-" if c in _RUN_TIMES else v for c, v in zip(columns, r, strict=True))
                    for r in rows]
        if name == "meta":
            rows = [r for r in rows if r[0] != "created"]
        lines += [f"{name} {r!r}" for r in sorted(rows, key=repr)]
    db.close()
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="replays a mode; the least kept")
    parser.add_argument("--events", type=Path, help="a pickle of events: loaded if it exists, "
                        "else recorded and saved there (the same events for two versions)")
    parser.add_argument("--dump", type=Path, help="a folder for each mode's store and dump")
    args = parser.parse_args()
    if args.events is not None and args.events.exists():
        with args.events.open("rb") as file:
            events = pickle.load(file)  # noqa: S301 - a file this script wrote
    else:
        events = record(args.calls)
        if args.events is not None:
            with args.events.open("wb") as file:
                pickle.dump(events, file)
    calls = sum(1 for e in events if e.kind == "call_started")
    clock = _WriterClock()
    print(f"{calls} calls, {len(events) / calls:.1f} events a call; CPU a call, least of "
          f"{args.rounds}:")
    with tempfile.TemporaryDirectory() as scratch:
        for mode in MODES:
            best = None
            for n in range(args.rounds):
                folder = args.dump if args.dump is not None and n == 0 else Path(scratch)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{mode}-{n}.db"
                for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    old.unlink(missing_ok=True)
                main_s, writer_s = replay(events, path, mode, clock)
                if args.dump is not None and n == 0:
                    (args.dump / f"{mode}.txt").write_text(dump(path, mode != "bulk"),
                                                           encoding="utf-8")
                if best is None or main_s + writer_s < sum(best):
                    best = (main_s, writer_s)
            assert best is not None
            main_us, writer_us = (1e6 * s / calls for s in best)
            print(f"  {mode:5}  {main_us:6.0f} us this thread  {writer_us:6.0f} us writer  "
                  f"{main_us + writer_us:6.0f} us in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
