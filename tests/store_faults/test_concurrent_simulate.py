"""Twenty `ccf simulate --store` processes into one store at the same time:
each call gets its own `sim-N` (reserved in the file, not read and hoped for)
and its own row; none replaces another's."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from store_faults.rig import WAIT_S, on_disk

CCF = Path(sys.executable).with_name("ccf")
PROCESSES = 20
# the call listens for a key: every process has taken its call id and waits
# (`keys> `) before any of them ends its call and writes it
ASKING = textwrap.dedent("""\
    flow ask:
      languages en-US

    on start:
      answer
      pin = collect digits 1 timeout 10s retries 1 prompt tts "Press a key."
      log "pressed ${pin}"
      hangup
    """)


def test_twenty_simulations_into_one_store_keep_twenty_calls(tmp_path: Path,
                                                             store_target: str) -> None:
    flow = tmp_path / "ask.ccf"
    flow.write_text(ASKING, encoding="utf-8")
    store = store_target
    procs, errs = [], []
    for n in range(PROCESSES):
        errs.append(tmp_path / f"err-{n}.txt")
        procs.append(subprocess.Popen(
            [str(CCF), "simulate", str(flow), "--interactive", "--store", str(store),
             "--caller", f"+86139000000{n:02d}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errs[-1].open("w"),
            text=True))
    try:
        deadline = time.monotonic() + 4 * WAIT_S
        while not all(e.exists() and "keys> " in e.read_text() for e in errs):
            assert time.monotonic() < deadline, "the calls did not all reach their collect"
            assert all(p.poll() is None for p in procs), [e.read_text() for e in errs]
            time.sleep(0.05)
        for n, p in enumerate(procs):
            p.stdin.write(f"{n % 10}\n")
            p.stdin.close()
        for p in procs:
            p.wait(timeout=4 * WAIT_S)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    texts = [e.read_text() for e in errs]
    assert [p.returncode for p in procs] == [0] * PROCESSES, texts
    ids = sorted(r[0] for r in on_disk(store, "SELECT call_id FROM calls"))
    assert ids == sorted(f"sim-{n}" for n in range(1, PROCESSES + 1))
    # each process was told its own id, and stored its own caller's call
    told = sorted(line.split("this call is ")[1].rstrip(")")
                  for text in texts for line in text.splitlines() if "this call is " in line)
    assert told == ids
    assert on_disk(store, "SELECT count(DISTINCT caller), count(*) FROM calls "
                          "WHERE outcome = 'hangup'") == [(PROCESSES, PROCESSES)]
    per_call = on_disk(store, "SELECT call_id, count(*) FROM events "
                              "WHERE kind = 'call_started' GROUP BY call_id")
    assert len(per_call) == PROCESSES and all(n == 1 for _, n in per_call)
