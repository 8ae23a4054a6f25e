"""Instructions a simulated call of bench/simulate.py costs, by callgrind.

`python bench/simulate_count.py [CALLS]` runs bench/simulate.py's bulk world (hotline, SQLite
CRM and call store, the five paths in turn) under `valgrind --tool=callgrind` twice: WARMUP
calls then CALLS more, and WARMUP calls alone; the difference of the two totals over CALLS is a
call's instructions. The flow is compiled once, outside valgrind (the counted processes load
its IR), so they spend their time on calls. The store's one-second batch limit is lifted
(valgrind runs some 50 times slower, so batches cut by the wall clock would not be the
bench's): a batch is cut by count alone. Not part of `make bench`: a count takes minutes.
Counts on a shared machine are steady where times are not. CCF_COUNT_KEEP=FOLDER keeps the
callgrind files for callgrind_annotate.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import callgrind_total, counts_asked  # noqa: E402

WARMUP = 50


def run_calls(ir: str, calls: int) -> None:
    """In the counted process: WARMUP calls, then `calls` more, of the flow whose IR is `ir`."""
    import simulate

    from ccdsl.runtime.core.ir import load_program
    from ccdsl.runtime.core.queues import queue_configs
    from ccdsl.runtime.operations import store_queue
    from ccdsl.runtime.operations.store import SIMULATION_CALLS_PER_COMMIT

    store_queue.FLUSH_SECONDS = math.inf
    doc = json.loads(Path(ir).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="ccf-sim-count-") as folder:
        shutil.copyfile(Path(ir).with_name("fixtures.db"), Path(folder) / "fixtures.db")
        crm = simulate.SqliteCRM(Path(folder) / "fixtures.db")
        store = simulate.CallStore(Path(folder) / "calls.db",
                                   calls_per_commit=SIMULATION_CALLS_PER_COMMIT)
        bench = simulate._Bench(tuple(queue_configs(doc).values()), load_program(doc), crm,
                                store, folder)

        async def run() -> None:
            for i in range(WARMUP + calls):
                await bench.call(simulate.PATHS[i % len(simulate.PATHS)])

        try:
            asyncio.run(run())
        finally:
            bench.store.close()
            bench.crm.close_now()


def _prepare(folder: str, ir: str) -> None:
    """The hotline's IR and the CRM fixtures' file, made once for both counted runs."""
    import simulate

    from ccdsl.runtime.core.crm.folder import import_crm_folder

    result = simulate.compile_file(str(simulate.HOTLINE))
    if not result.ok or result.ir is None:
        raise SystemExit(f"{simulate.HOTLINE} does not compile")
    Path(ir).write_text(json.dumps(result.ir), encoding="utf-8")
    crm = simulate.SqliteCRM(Path(folder) / "fixtures.db")
    import_crm_folder(crm, str(simulate.FIXTURES))
    crm.close_now()


def count(folder: str, ir: str, calls: int) -> int:
    out = os.path.join(folder, f"sim-{calls}.callgrind")
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                    sys.executable, __file__, "--inner", ir, str(calls)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return callgrind_total(out)


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--inner"]:
        run_calls(args[1], int(args[2]))
        return 0
    asked = counts_asked(args, __doc__, [250])
    if isinstance(asked, int):  # help, or a bad argument: its exit status
        return asked
    calls = asked[0]
    os.environ.setdefault("PYTHONHASHSEED", "0")
    keep = os.environ.get("CCF_COUNT_KEEP")  # a folder to keep the callgrind files in
    with tempfile.TemporaryDirectory(prefix="ccf-sim-count-") as folder:
        where = keep or folder
        ir = os.path.join(folder, "hotline.json")
        _prepare(folder, ir)
        base = count(where, ir, 0)
        more = count(where, ir, calls)
    print(f"simulated call: {(more - base) / calls:,.0f} instructions a call "
          f"({calls} calls after {WARMUP}; {more - base:,} in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
