"""`ccf test` of a folder of generated test blocks, as a flow author's CI runs it.

Times whole processes (start-up, compile, every test, report) against two anchors run in the
same session, in turn: `ccf validate` of the same folder (everything but the tests) and
`ccf test` with every call store created and migrated per test, as before the stores were
copies of one template (runtime/sim/store_template.py). Also one store's open and close,
made both ways, in this process. Figures go to bench/results through figures.keep.

    python bench/test_run.py [--tests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from figures import keep  # noqa: E402

from ccdsl.runtime.operations.store import CallStore  # noqa: E402
from ccdsl.runtime.sim.store_template import StoreTemplates  # noqa: E402

FLOW = """flow desk:
  languages en-US

prompt welcome:
  en-US tts "Welcome."

queue service skills [general] max_wait 60s

routing to_desk:
  owner of customer ring 15s
  last_agent of caller ring 15s
  skills [general] ring 15s
  queue service
  otherwise -> hangup

on start:
  answer
  play welcome
  customer = crm.customer(phone: caller.number) on error -> customer = null
  route to_desk
"""

# three kinds of test, in turn: a caller the CRM knows (the owner answers), an unknown one
# (an agent with the skill), and one nobody answers (the queue, then hang-up)
KINDS = (
    """test "known caller {n}":
  at "2026-11-30 10:00 UTC"
  crm customer {{id: "C{n}", phone: "+4470000{n:05d}", owner: "zhang"}}
  agent zhang skills [general] state "available"
  call from "+4470000{n:05d}"
  expect played welcome
  expect answered by zhang
""",
    """test "unknown caller {n}":
  at "2026-11-30 11:00 UTC"
  agent li skills [general] state "available"
  call from "+4471111{n:05d}"
  expect routed via skills to li
""",
    """test "nobody free {n}":
  at "2026-11-30 12:00 UTC"
  agent li skills [general] state "busy"
  call from "+4472222{n:05d}"
  silence 30s
  hangup
  expect queue service
""",
)

# `ccf test` as before: no template (StoreTemplates(copies=False), which ccf test's runs then
# make), so every test's store is created and migrated
FRESH = ("import functools, sys; import ccdsl.runtime.sim.store_template as t; "
         "t.StoreTemplates = functools.partial(t.StoreTemplates, copies=False); "
         "from ccdsl.cli.main import main; sys.argv[0] = 'ccf'; sys.exit(main())")
CCF = "import sys; from ccdsl.cli.main import main; sys.argv[0] = 'ccf'; sys.exit(main())"


def write_suite(folder: Path, tests: int) -> None:
    blocks = [KINDS[n % len(KINDS)].format(n=n) for n in range(tests)]
    (folder / "desk.ccf").write_text(FLOW, encoding="utf-8")
    (folder / "desk.test.ccf").write_text("\n".join(blocks), encoding="utf-8")


def timed(code: str, args: list[str], cwd: Path, env: dict[str, str],
          expect: str) -> tuple[float, float]:
    """The process's wall time and CPU time (user and system), in seconds. CPU time
    is steadier on a machine shared with other work; wall time also has the waits
    (a store's writer thread, the disk)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0 or expect not in done.stdout + done.stderr:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, cpu


def store_ms(folder: Path, rounds: int = 200) -> tuple[float, float]:
    """Median ms to make, open and close one test's store: created, then copied."""
    fresh, copied = [], []
    with StoreTemplates() as stores:
        for n in range(rounds):
            started = time.perf_counter()
            CallStore(str(folder / f"fresh-{n}.db"), timezone="Europe/London").close()
            fresh.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            stores.open(str(folder / f"copied-{n}.db"), timezone="Europe/London").close()
            copied.append((time.perf_counter() - started) * 1000)
    return statistics.median(fresh), statistics.median(copied)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ccf-bench-test-"))
    try:
        suite = folder / "suite"
        suite.mkdir()
        write_suite(suite, options.tests)
        env = {**os.environ, "CCF_CACHE_DIR": str(folder / "cache"), "CI": "true"}
        passed = f"{options.tests} passed"
        runs = {"validate": (CCF, ["validate", "suite"], "no errors"),
                "test_fresh_stores": (FRESH, ["test", "suite"], passed),
                "test": (CCF, ["test", "suite"], passed)}
        for code, args, expect in runs.values():  # warm the compile cache and the disk
            timed(code, args, folder, env, expect)
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(options.rounds):  # in turn, so a slow spell hits every one
            for name, (code, args, expect) in runs.items():
                wall, used = timed(code, args, folder, env, expect)
                seconds[name].append(wall)
                cpu[name].append(used)
        (folder / "stores").mkdir()
        fresh_ms, copied_ms = store_ms(folder / "stores")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in seconds.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    per_test = {name: (median[name] - median["validate"]) / options.tests * 1000
                for name in ("test", "test_fresh_stores")}
    per_test_cpu = {name: (median_cpu[name] - median_cpu["validate"]) / options.tests * 1000
                    for name in ("test", "test_fresh_stores")}
    figures = {
        "tests": options.tests, "rounds": options.rounds,
        "validate_s": round(median["validate"], 3),
        "test_s": round(median["test"], 3),
        "test_fresh_stores_s": round(median["test_fresh_stores"], 3),
        "test_ms_per_test": round(per_test["test"], 2),
        "test_fresh_stores_ms_per_test": round(per_test["test_fresh_stores"], 2),
        "validate_cpu_s": round(median_cpu["validate"], 3),
        "test_cpu_s": round(median_cpu["test"], 3),
        "test_fresh_stores_cpu_s": round(median_cpu["test_fresh_stores"], 3),
        "test_cpu_ms_per_test": round(per_test_cpu["test"], 2),
        "test_fresh_stores_cpu_ms_per_test": round(per_test_cpu["test_fresh_stores"], 2),
        "store_created_ms": round(fresh_ms, 2),
        "store_copied_ms": round(copied_ms, 2),
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    keep("test_run", figures)


if __name__ == "__main__":
    main()
