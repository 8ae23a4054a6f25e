"""bench/report.py runs to its end on a small store: `make bench` is not part of the
suite, so a report API the bench leans on must not change under it unnoticed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_report_bench_runs_every_row_on_a_small_store(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    env = {**os.environ, "TMPDIR": str(tmp_path), "CCF_BENCH_FIGURES": str(figures)}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "report.py"), "--calls",
                           "3000", "--fresh"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "a month, per day, from the rows alone" in done.stdout
    kept = json.loads(figures.read_text(encoding="utf-8"))["figures"]
    assert kept["calls"] == 3000
    for key in ("day", "month", "year", "day_queue", "day_flow", "month_rows"):
        assert kept[f"{key}_median_s"] >= 0
