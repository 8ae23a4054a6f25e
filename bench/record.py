"""`make bench`: run every benchmark and keep what it printed as JSON in bench/results/.

One file per run, named by date and host, with the machine (cores, CPU,
Python), the commit and each benchmark's output and target lines; README
figures quote these files, never a number from elsewhere.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from figures import HANDOFF, commit, machine, result_file  # noqa: E402

BENCHES = ("compile.py", "simulate.py", "fastagi.py", "report.py", "chaos.py", "console.py",
           "lsp.py", "scale.py")


def main() -> int:
    started = datetime.now(UTC)
    runs, failed = {}, False
    for name in BENCHES:
        began = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            handoff = Path(folder, "figures.json")
            done = subprocess.run([sys.executable, str(ROOT / "bench" / name)], cwd=ROOT,
                                  capture_output=True, text=True,
                                  env=dict(os.environ, **{HANDOFF: str(handoff)}))
            figures = (json.loads(handoff.read_text(encoding="utf-8"))["figures"]
                       if handoff.exists() else None)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        failed |= done.returncode != 0 or figures is None
        if figures is None:
            print(f"{name} kept no figures", file=sys.stderr)
        runs[name] = {"exit": done.returncode, "seconds": round(time.monotonic() - began, 1),
                      "figures": figures,
                      "targets": [line for line in done.stdout.splitlines()
                                  if line.startswith("target:")],
                      "output": done.stdout}
    out = result_file(ROOT / "bench" / "results",
                      f"{started:%Y-%m-%d}-{platform.node() or 'host'}")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": started.isoformat(timespec="seconds"),
                               "commit": commit(), "machine": machine(), "benches": runs},
                              ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nkept in {out.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
