"""`ccf serve --simulate` as people run it: bad input refused in-process with a clear message;
a real run over examples/iws (a process of its own, stopped by SIGTERM) prints where the console
is and passwords that log in, serves the simulated centre, and leaves no temporary files."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from ccf_cli import ccf

ROOT = Path(__file__).resolve().parents[2]
IWS = ROOT / "examples" / "iws"


def test_bad_input_is_refused_with_a_message(tmp_path: Path) -> None:
    missing = ccf("serve", "--simulate", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    no_agents = ccf("serve", "--simulate", str(tmp_path))
    assert no_agents.exit_code == 2 and "cannot read the agents file" in no_agents.output
    (tmp_path / "agents.toml").write_text((IWS / "agents.toml").read_text(), encoding="utf-8")
    no_flows = ccf("serve", "--simulate", str(tmp_path))
    assert no_flows.exit_code == 2 and "no .ccf flows there" in no_flows.output
    rate = ccf("serve", "--simulate", str(IWS), "--rate", "0", "--web-port", "0")
    assert rate.exit_code == 2 and "--rate and --speed must be more than 0" in rate.output
    at = ccf("serve", "--simulate", str(IWS), "--at", "someday", "--web-port", "0")
    assert at.exit_code == 2 and "someday" in at.output


def test_a_run_prints_the_console_and_passwords_that_log_in(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    ccf_bin = Path(sys.executable).with_name("ccf")
    proc = subprocess.Popen([str(ccf_bin), "serve", "--simulate", str(IWS), "--web-port", "0",
                             "--at", "2026-11-30 10:00 Asia/Shanghai", "--rate", "30"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while not any(line.startswith("  supervisor ") for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        base = re.search(r"console: (http://127\.0\.0\.1:\d+)/", text)[1]
        passwords = dict(re.findall(r"^  (\w+)\s+(\S+)$", text, re.M))
        assert set(passwords) == {"zhang", "li", "wang", "chen", "supervisor"}
        with httpx.Client(base_url=base, timeout=10) as web:
            wrong = web.post("/login", data={"user": "zhang", "password": "not-it-at-all"})
            assert wrong.status_code == 401
            ok = web.post("/login", data={"user": "supervisor",
                                          "password": passwords["supervisor"]})
            assert ok.status_code == 303 and ok.headers["location"] == "/wall"
            web.cookies.set("ccf_session", ok.cookies["ccf_session"])
            deadline = time.monotonic() + 20
            while not web.get("/status").json()["calls"]:
                assert time.monotonic() < deadline, "no simulated caller came"
                time.sleep(0.2)
            assert web.get("/status").json()["server"]["mode"] == "simulated"
            assert web.get("/wall", headers={"Accept": "text/html"}).status_code == 200
            # the Flows page: the flows it loaded, drawn by the cli's Graphviz with their calls
            flows = web.get("/flows?since=2026-11-30", headers={"Accept": "text/html"})
            assert flows.status_code == 200
            assert re.search(r'data-flow="hotline".*?<div class="flow-graph"><svg ',
                             flows.text, re.S), flows.text[-2000:]
            assert "Traffic: " in flows.text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "ccf serve --simulate: stopping" in out and "Traceback" not in out
    assert not list(tmp_path.glob("ccf-serve-sim-*")), "the run's temporary files are left"


def test_at_without_a_zone_is_the_centres_time_and_the_store_holds_only_its_calls(
        tmp_path: Path) -> None:
    """examples/iws's ccf.toml puts the centre in Asia/Shanghai: "08:30" there is 00:30 UTC
    (as `ccf simulate --at` reads it for hotline, whose hours are in that zone); every row
    the run leaves in the store is a simulated call, on the simulated clock, ended."""
    import sqlite3

    store = tmp_path / "calls.db"
    ccf_bin = Path(sys.executable).with_name("ccf")
    proc = subprocess.Popen([str(ccf_bin), "serve", "--simulate", str(IWS), "--web-port", "0",
                             "--at", "2026-11-30 08:30", "--rate", "600", "--speed", "30",
                             "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path)})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "clock from 2026-11-30 08:30 Asia/Shanghai" in first, first
        time.sleep(3)  # about 25 callers a second of wall time: some are arriving at the stop
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT call_id, flow, started, outcome FROM calls").fetchall()
    assert rows
    for call_id, flow, started, outcome in rows:
        assert flow == "hotline" and outcome, (call_id, flow, started, outcome)
        assert "2026-11-30T00:30:00" <= started < "2026-11-30T01:00:00", (call_id, started)
