"""Scale benchmark (`make bench`): two `ccf serve` workers on one PostgreSQL call store, 2,000
calls at once, one worker SIGKILLed while they run.

A throwaway PostgreSQL cluster (initdb in a temp folder, tests/pg_cluster.py) holds the call
store; two real `ccf serve` processes share one ccf.toml (its `[store] url`, the deployed flows,
the AMI test double of tests/doubles as their Asterisk) and listen on ports of their own. The
FastAGI test peer (Asterisk's side) places 2,000 calls over 8 seconds (`Plan`), each to the next
worker in turn (as SRV records of equal priority and weight spread them); a call one worker
refuses or cannot take goes to the other (the generated dialplan's failover list). Each call
holds its line 14 seconds in the flow's `wait`, so every call is in progress at once; at 10 s
worker A is SIGKILLed with its calls in flight; it stays dead, and worker B closes them
(its periodic reconcile), or, with --restart, A is started again (systemd's Restart=) and
closes them itself. Then the store is read:

  served: the peer's call ran to its end (the flow hung up): a finished row, exactly once;
  cut: the connection died with worker A: reconciled, outcome `interrupted`;
  refused: neither worker took it.

From the same run, for docs/scale.md's capacity model: CPU seconds per call of each worker
(/proc, user + system), the store's commits and rows written per call (pg_stat_database), and
the peak of calls in progress.

Exit 0 when every call is accounted for; 1 when one is not. The documented losses of a kill
(docs/store.md "What a crash can lose": a call begun in the writer's last 250 ms, or whose end
was being committed) are counted apart, as bench/chaos.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import call_rows  # noqa: E402
import pg_cluster  # noqa: E402
from asterisk.centre import write_config  # noqa: E402
from call_rows import CRASH_WINDOW_S, Outcome, open_calls, stored  # noqa: E402
from ccf_serve import CcfServe  # noqa: E402
from doubles.ami_server import AmiPeer  # noqa: E402
from doubles.raw import ScriptBackend  # noqa: E402
from figures import keep  # noqa: E402
from served import process_cpu  # noqa: E402
from store_faults.rig import held_flow, place  # noqa: E402

from ccdsl.compiler.pipeline import compile_file  # noqa: E402
from ccdsl.runtime.asterisk.config import load_config  # noqa: E402
from ccdsl.runtime.asterisk.flowstore_db import flow_store_for  # noqa: E402
from ccdsl.runtime.asterisk.service import RECONCILE_S  # noqa: E402
from ccdsl.runtime.operations.database import (  # noqa: E402
    PASSWORD_ENV,
    close_pools,
    connect,
    is_postgres,
)
from ccdsl.runtime.operations.database.dialect import STORE_LOCK_KEY  # noqa: E402
from ccdsl.runtime.testing.peer.agi_caller import AgiCommand, PeerError  # noqa: E402

SECRET = "scale-bench-secret"
CALL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Plan:
    calls: int = 2000
    place_s: float = 8.0  # the calls are placed evenly over this long
    hold_s: float = 14.0  # each call's `wait`: longer than the placing, so all are up at once
    kill_at_s: float = 10.0  # every call placed, none ended
    # None: A stays dead and worker B closes A's calls (its periodic reconcile, RECONCILE_S);
    # seconds: A is started again that long after the kill and closes them itself
    restart_after_s: float | None = None


class HoldingLine(ScriptBackend):
    """A caller's line whose `wait` (EXEC Wait) takes `hold_s` real seconds."""

    def __init__(self, hold_s: float) -> None:
        super().__init__()
        self.hold_s = hold_s

    async def execute(self, cmd: AgiCommand) -> str | None:
        if cmd.verb == "EXEC" and cmd.args and cmd.args[0].lower() == "wait":
            await asyncio.sleep(self.hold_s)
        return await super().execute(cmd)


@dataclass
class Run:
    placed: dict[str, float] = field(default_factory=dict)
    # when the worker began the call: its first command reached the peer (under load, well
    # after the peer connected)
    began: dict[str, float] = field(default_factory=dict)
    ended: dict[str, float] = field(default_factory=dict)
    worker: dict[str, str] = field(default_factory=dict)  # which worker took the call
    served: set[str] = field(default_factory=set)
    cut: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    up: int = 0
    peak: int = 0


def write_centre(folder: Path, ami_port: int, store: str, hold_s: float) -> Path:
    """The test centre's ccf.toml with the store at `store` (a URL, or a file), the flow
    deployed."""
    (folder / "line.ccf").write_text(held_flow(wait=f"{hold_s:g}s"), encoding="utf-8")
    extra = '[shutdown]\ngrace = "5s"\n[fastagi]\nmax_calls = 4000\n'
    config = write_config(folder, ami_port, numbers='"4008005678" = "line"', extra=extra)
    text = config.read_text(encoding="utf-8")
    if is_postgres(store):
        text = text.replace('store = "calls.db"\n', "")
        text += textwrap.dedent(f"""\
            [store]
            url = "{store}"
            """)
    config.write_text(text, encoding="utf-8")
    result = compile_file(str(folder / "line.ccf"))
    if not result.ok or result.ir is None:
        raise SystemExit("the bench's flow does not compile")
    centre = load_config(config, environ={"CCF_AMI_SECRET": SECRET})
    # the flow store the workers read: the store's database when it is PostgreSQL
    flow_store_for(centre).deploy({"line": result.ir}, numbers=centre.numbers)
    return config


async def call(workers: list[CcfServe], i: int, run: Run, t0: float, hold_s: float) -> None:
    uniqueid = f"1797000000.{i + 1}"
    run.placed[uniqueid] = time.monotonic() - t0
    first = workers[i % len(workers)]
    for worker in (first, *(w for w in workers if w is not first)):
        run.up += 1
        run.peak = max(run.peak, run.up)
        try:
            report = await place(worker.port, "line", uniqueid, HoldingLine(hold_s),
                                 timeout=CALL_TIMEOUT_S)
        except PeerError:
            continue  # not reachable: the dialplan's next host
        finally:
            run.up -= 1
        if not report.commands:
            continue  # closed without a command: refused (max_calls, stopping)
        run.worker[uniqueid] = worker.name
        run.began[uniqueid] = run.placed[uniqueid] + report.waits_s[0]
        run.ended[uniqueid] = time.monotonic() - t0
        if report.closed_by == "server" and report.commands[-1].startswith("HANGUP"):
            run.served.add(uniqueid)
        else:
            run.cut.add(uniqueid)
        return
    run.refused.add(uniqueid)


def cluster_cpu_s(data: Path) -> float:
    """CPU seconds (user + system) of a PostgreSQL cluster's processes: the postmaster with
    the children it reaped, and the live ones (the pools' backends, the WAL writer...)."""
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for pid in (int(entry.name) for entry in Path("/proc").glob("[0-9]*")):
        try:
            cpu = process_cpu(pid)
        except OSError:
            continue  # ended meanwhile
        if pid == postmaster:
            total += cpu.own_s + cpu.reaped_s
        elif cpu.parent == postmaster:
            total += cpu.own_s
    return total


def stats(store: str, data: Path | None = None) -> dict[str, float]:
    if not is_postgres(store):
        return {}
    db = connect(store)
    try:
        # active and idle-in-transaction time: every session's time inside statements and
        # transactions, an upper bound of the time the store's one write lock was held
        row = db.execute("SELECT xact_commit, tup_inserted, tup_updated, active_time, "
                         "idle_in_transaction_time FROM pg_stat_database "
                         "WHERE datname = current_database()").fetchone()
    finally:
        db.close()
    out = {"commits": row[0], "inserted": row[1], "updated": row[2],
           "busy_ms": row[3] + row[4]}
    if data is not None:
        out["pg_cpu_s"] = cluster_cpu_s(data)
    return out


class LockWatch:
    """How much of the time the store's one write lock (the advisory lock dialect.py gives
    BEGIN IMMEDIATE) is held: pg_locks sampled every 10 ms from a thread of its own."""

    SQL = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
           f"AND objid = {STORE_LOCK_KEY} AND granted")

    def __init__(self, store: str, t0: float) -> None:
        self.store, self.t0 = store, t0
        self.samples: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        db = connect(self.store)
        try:
            while not self._stop.wait(0.01):
                held = db.execute(self.SQL).fetchone()[0] > 0
                self.samples.append((time.monotonic() - self.t0, held))
        finally:
            db.close()

    def start(self) -> LockWatch:
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """The share of samples with the lock held: over the run, and the busiest second's."""
        self._stop.set()
        self._thread.join()
        if not self.samples:
            return {}
        by_second: dict[int, list[bool]] = {}
        for at, held in self.samples:
            by_second.setdefault(int(at), []).append(held)
        busiest = max(by_second, key=lambda s: sum(by_second[s]) / len(by_second[s]))
        share = [held for _, held in self.samples]
        return {"lock_held_share": round(sum(share) / len(share), 4),
                "lock_share_by_second": [round(sum(by_second[s]) / len(by_second[s]), 2)
                                         for s in sorted(by_second)],
                "lock_busiest_second": busiest,
                "lock_busiest_share": round(sum(by_second[busiest]) / len(by_second[busiest]),
                                            4)}


async def scale(folder: Path, store: str, plan: Plan,
                pg_data: Path | None = None) -> tuple[Run, dict, dict, list[CcfServe]]:
    """The run: both workers started, the calls placed, A killed and restarted, both
    stopped. What the peer saw, the marks of the timeline, the store's writes."""
    peer = AmiPeer(users={"ccf": SECRET})
    await peer.start()
    workers: list[CcfServe] = []
    watch = None
    try:
        config = write_centre(folder, peer.port, store, plan.hold_s)
        env = {**os.environ, "CCF_AMI_SECRET": SECRET}
        workers += [CcfServe(config, env, name) for name in ("A", "B")]
        for worker in workers:
            await worker.start()
        before = stats(store, pg_data)
        run = Run()
        marks: dict[str, float] = {}
        t0 = time.monotonic()
        watch = LockWatch(store, t0).start() if is_postgres(store) else None

        async def timeline() -> None:
            await asyncio.sleep(plan.kill_at_s)
            marks["kill"] = time.monotonic() - t0
            marks["up_at_kill"] = run.up
            # each worker's memory with its calls up, against its own once it served
            marks["rss_kb"] = {w.name: (w.rss_start_kb, w.rss_kb()) for w in workers}
            await workers[0].kill()
            if plan.restart_after_s is not None:
                await asyncio.sleep(plan.restart_after_s)
                await workers[0].start()
                marks["restarted"] = time.monotonic() - t0

        killing = asyncio.create_task(timeline())
        tasks = []
        gap = plan.place_s / plan.calls
        for i in range(plan.calls):
            tasks.append(asyncio.create_task(call(workers, i, run, t0, plan.hold_s)))
            await asyncio.sleep(max(0.0, (i + 1) * gap - (time.monotonic() - t0)))
        marks["placed"] = time.monotonic() - t0
        await asyncio.gather(*tasks)
        await killing
        marks["done"] = time.monotonic() - t0
        marks["lock"] = watch.stop() if watch is not None else {}
        watch = None
        if plan.restart_after_s is None:  # B closes A's calls on its own: wait for it
            deadline = time.monotonic() + 2 * RECONCILE_S + 30
            while open_calls(store) and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
            marks["reconciled"] = time.monotonic() - t0
        live = [w for w in workers if w.proc is not None and w.proc.returncode is None]
        codes = [await worker.stop() for worker in live]
        marks["exit_codes"] = codes
        await peer.stop()
        after = stats(store, pg_data)
    except BaseException:
        # a worker that did not start, a peer error: nothing of the run is left behind
        if watch is not None:
            watch.stop()
        for worker in workers:
            if worker.proc is not None and worker.proc.returncode is None:
                await worker.kill()
        await peer.stop()
        raise
    return run, marks, {k: after[k] - before[k] for k in after}, workers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=Plan.calls)
    parser.add_argument("--restart", type=float, default=None, metavar="SECONDS",
                        help="start worker A again this long after the kill (systemd's "
                             "Restart=); by default it stays dead and B closes its calls")
    parser.add_argument("--store", choices=("postgresql", "sqlite"), default="postgresql",
                        help="the shared call store: a throwaway PostgreSQL cluster (default) "
                             "or one SQLite file on this machine's disk")
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.calls + 1024)),
                                                hard))
    plan = Plan(calls=args.calls, restart_after_s=args.restart)
    cluster = None
    with tempfile.TemporaryDirectory(prefix="ccf-scale-") as folder:
        if args.store == "postgresql":
            cluster = pg_cluster.start()
            os.environ[PASSWORD_ENV] = pg_cluster.PASSWORD
            store = cluster.url(cluster.new_database())
        else:
            store = str(Path(folder) / "calls.db")
        try:
            run, marks, writes, workers = asyncio.run(scale(
                Path(folder), store, plan, cluster.folder / "data" if cluster else None))
            rows = stored(store)
        finally:
            close_pools()
            if cluster is not None:
                cluster.stop()
    outcome = account(run, marks, rows)
    return report(args.store, plan, run, marks, writes, workers, rows, outcome)


def account(run: Run, marks: dict, rows: dict[str, list]) -> Outcome:
    """Every call the peer placed, against the store's rows (a call's start: the worker's first
    command, else its placing)."""
    began = {uid: run.began.get(uid, at) for uid, at in run.placed.items()}
    return call_rows.account(served=run.served, cut=run.cut, ended=run.ended, began=began,
                             kill_s=marks["kill"], rows=rows)


def report(store: str, plan: Plan, run: Run, marks: dict, writes: dict, workers: list[CcfServe],
           rows: dict[str, list], o: Outcome) -> int:
    served_stored, twice, reconciled = o.served_stored, o.twice, o.reconciled
    lost, end_unwritten, unreconciled, too_late = (o.lost, o.end_unwritten, o.unreconciled,
                                                   o.too_late)
    taken = {w.name: sum(1 for v in run.worker.values() if v == w.name) for w in workers}
    handled = max(1, len(run.served) + len(run.cut))
    cpu = sum(w.cpu_s for w in workers)
    grown = sum(now - start for start, now in marks["rss_kb"].values())
    rss_per_call = grown / max(1, marks["up_at_kill"])
    table = [
        ("calls placed", plan.calls),
        ("in progress at once (peak)", run.peak),
        ("in progress at the SIGKILL", marks["up_at_kill"]),
        ("taken by worker A / B", f"{taken['A']} / {taken['B']}"),
        ("served to the end", len(run.served)),
        ("  of them stored once, finished", len(served_stored)),
        ("cut by worker A's SIGKILL", len(run.cut)),
        ("  reconciled as interrupted " + ("by worker B" if plan.restart_after_s is None
                                            else "after its restart"), len(reconciled)),
        (f"  begun (its first command) in the last {CRASH_WINDOW_S * 1000:.0f} ms, no trace "
         "(documented)",
         len(too_late)),
        ("served as the kill came, the end not yet written (documented)", len(end_unwritten)),
        ("refused by both workers", len(run.refused)),
        ("stored twice", len(twice)),
        ("workers' CPU per call, ms (user + system)", f"{1000 * cpu / handled:.2f}"),
        ("workers' memory per call in progress, KB (RSS at the kill)", f"{rss_per_call:.1f}"),
    ]
    if writes:
        table += [("store commits per call", f"{writes['commits'] / handled:.2f}"),
                  ("store rows inserted per call", f"{writes['inserted'] / handled:.1f}"),
                  ("store rows updated per call", f"{writes['updated'] / handled:.1f}"),
                  ("PostgreSQL's CPU per call, ms (all its processes)",
                   f"{1000 * writes['pg_cpu_s'] / handled:.2f}"),
                  ("sessions' time in statements and transactions per call, ms",
                   f"{writes['busy_ms'] / handled:.2f}")]
    lock = marks.get("lock") or {}
    if lock:
        second = lock["lock_busiest_second"]
        moved = sum(1 for at in (*run.began.values(), *run.ended.values())
                    if second <= at < second + 1)
        lock["lock_busiest_starts_and_ends"] = moved
        print("store write lock held, share of each second: " + " ".join(
            f"{share:.0%}" for share in lock["lock_share_by_second"]))
        table += [("store write lock held, share of the run", f"{lock['lock_held_share']:.1%}"),
                  (f"  in its busiest second ({second} s: {moved} call starts and ends)",
                   f"{lock['lock_busiest_share']:.1%}")]
    width = max(len(name) for name, _ in table)
    after = (f"back at {marks['restarted']:.1f} s" if "restarted" in marks else
             f"not restarted, its calls closed by B by {marks['reconciled']:.1f} s")
    print(f"scale: {plan.calls} calls over {plan.place_s:g} s to two workers on one {store} "
          f"store, each held {plan.hold_s:g} s; worker A SIGKILLed at {marks['kill']:.1f} s, "
          f"{after}; all calls done at {marks['done']:.1f} s")
    for name, value in table:
        print(f"{name:<{width}}  {value:>10}")
    for uid in sorted(lost | unreconciled | end_unwritten)[:50]:
        print(f"  {uid}: worker {run.worker.get(uid)}, placed at {run.placed[uid]:.3f} s, "
              f"begun at {run.began.get(uid, float('nan')):.3f} s, "
              f"ended at {run.ended.get(uid, float('nan')):.3f} s (the kill at "
              f"{marks['kill']:.3f} s), stored as {rows.get(uid)}")
    figures = {"store": store, "calls": plan.calls, "peak_in_progress": run.peak,
               "in_progress_at_kill": marks["up_at_kill"], "taken": taken,
               "served": len(run.served), "stored": len(served_stored), "cut": len(run.cut),
               "reconciled": len(reconciled), "refused": len(run.refused),
               "twice": len(twice), "lost": len(lost), "unreconciled": len(unreconciled),
               "no_trace_in_crash_window": len(too_late),
               "end_unwritten_at_kill": len(end_unwritten),
               "cpu_ms_per_call": round(1000 * cpu / handled, 3),
               "rss_kb_per_call_in_progress": round(rss_per_call, 2),
               "rss_kb": marks["rss_kb"],
               "duration_s": round(marks["done"], 1), **lock,
               **({f"{k}_per_call": round(v / handled, 5) for k, v in writes.items()})}
    keep(f"scale-{store}", figures)
    ok = o.ok and not run.refused
    print(f"target: 2,000 calls at once on two workers, one killed: every finished call stored "
          f"once, the killed worker's calls reconciled: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
