"""Where a benchmark keeps its figures: one JSON file with the machine, the date and
the commit, so README quotes files, never a number from elsewhere. Measures nothing.

Run alone, a bench writes bench/results/DATE-HOST-BENCH.json; under `make bench`
(bench/record.py sets CCF_BENCH_FIGURES) it writes where record.py asks, and
record.py folds it into the run's one file.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HANDOFF = "CCF_BENCH_FIGURES"


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
                          text=True, check=False)
    if done.returncode != 0:
        return None
    clean = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                           text=True, check=False).stdout.strip() == ""
    return done.stdout.strip() + ("" if clean else "+changes")


def result_file(folder: Path, stem: str) -> Path:
    """STEM.json, else STEM-2.json, -3...: a later run on the same day and host keeps
    the earlier file, which README may quote."""
    out, n = folder / f"{stem}.json", 1
    while out.exists():
        n += 1
        out = folder / f"{stem}-{n}.json"
    return out


def keep(bench: str, figures: dict[str, object]) -> Path:
    """Write BENCH's FIGURES (plain numbers and strings, units in their keys, e.g.
    "validate_s", "calls_per_s") with the machine and the date; returns the file."""
    now = datetime.now(UTC)
    record = {"bench": bench, "date": now.isoformat(timespec="seconds"), "commit": commit(),
              "machine": machine(), "figures": figures}
    handoff = os.environ.get(HANDOFF)
    if handoff:
        out = Path(handoff)
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = result_file(RESULTS, f"{now:%Y-%m-%d}-{platform.node() or 'host'}-{bench}")
    out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if not handoff:
        print(f"figures kept in {out.relative_to(ROOT)}")
    return out


def callgrind_total(path: str) -> int:
    """The instructions a callgrind output file counted in all (its summary line)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise SystemExit(f"no total in {path}")


def counts_asked(args: list[str], doc: str, defaults: list[int]) -> list[int] | int:
    """A counting script's whole-number arguments, the defaults for those not given; or, when
    it was asked for help or given something else, the exit status (its doc or usage
    printed): 0 for help, 2 for a bad argument."""
    if any(a in ("-h", "--help") for a in args):
        print(doc.strip())
        return 0
    if len(args) > len(defaults):
        print(doc.strip().splitlines()[2], file=sys.stderr)  # the usage line
        return 2
    try:
        asked = [int(a) for a in args]
    except ValueError:
        print(doc.strip().splitlines()[2], file=sys.stderr)
        return 2
    if any(n < 1 for n in asked):
        print("the counts must be whole numbers from 1", file=sys.stderr)
        return 2
    return asked + defaults[len(asked):]
