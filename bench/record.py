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
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ("compile.py", "simulate.py", "fastagi.py", "report.py", "chaos.py", "console.py",
           "lsp.py")


def machine() -> dict[str, object]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()} {platform.machine()}",
            "host": platform.node()}


def commit() -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True)
    clean = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip() == ""
    return (done.stdout.strip() + ("" if clean else "+changes")) if done.returncode == 0 \
        else None


def result_file(folder: Path, stem: str) -> Path:
    """STEM.json, else STEM-2.json, -3...: a second run on the same day and
    host keeps the first, which README may quote."""
    out, n = folder / f"{stem}.json", 1
    while out.exists():
        n += 1
        out = folder / f"{stem}-{n}.json"
    return out


def main() -> int:
    started = datetime.now(UTC)
    runs, failed = {}, False
    for name in BENCHES:
        began = time.monotonic()
        done = subprocess.run([sys.executable, str(ROOT / "bench" / name)], cwd=ROOT,
                              capture_output=True, text=True)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        failed |= done.returncode != 0
        runs[name] = {"exit": done.returncode, "seconds": round(time.monotonic() - began, 1),
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
