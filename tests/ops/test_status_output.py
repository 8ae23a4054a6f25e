"""`ccf status` as people and pipes see it: a view whose ccf serve stopped
answering says so and keeps the data's own time; off a terminal every
refresh is written as plain text, flushed, and SIGTERM ends it cleanly; at
80x24 and 120x40 no value is split across lines and a table that does not
fit says how many rows it leaves out."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from ccf_cli import ccf
from ports import free_port
from rich.console import Console

from ccdsl.cli.exit_codes import UNREACHABLE
from ccdsl.cli.status import render, watch
from ccdsl.runtime.asterisk.api_client import ApiClientError
from ops.test_status import STATUS, config_for, status_server

CCF = Path(sys.executable).with_name("ccf")


def big_status(calls: int = 14, agents: int = 40) -> dict:
    """A busy centre with long values: more rows than 24 lines hold."""
    return {
        "server": {"version": "0007", "started": "2026-11-30T09:00:00+08:00",
                   "calls_served": 1234, "ami": "up"},
        "calls": [{"call_id": f"1795652892.{n}", "flow": "hotline_after_hours_overflow",
                   "version": "0007", "caller": f"+86138000{n:05d}",
                   "started": "2026-11-30T10:00:00+08:00", "seconds": 60.0 + n,
                   "step": "main_menu_customer_identification", "state": "queue",
                   "queue": "service_premium_customers", "agent": None}
                  for n in range(calls)],
        "queues": [{"queue": "service_premium_customers", "asterisk": "ccf-service",
                    "waiting": calls, "longest_wait_s": 75.0, "members": agents,
                    "available": 3}],
        "agents": [{"id": f"agent{n:03d}", "name": f"Agent Number {n} Surname{n}",
                    "state": "available", "current_call": None,
                    "queues": ["service_premium_customers", "support_technical"]}
                   for n in range(agents)],
    }


def shown(status: dict, width: int, height: int) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width, height=height, color_system=None,
                      force_terminal=True, legacy_windows=False)
    console.print(render(status, "127.0.0.1:8573", at=0.0, height=height))
    return out.getvalue().splitlines()


def cells(lines: list[str]) -> list[str]:
    """The cells of the tables' rows (a heading is the line above a rule)."""
    rows = [line for n, line in enumerate(lines) if "│" in line
            and not (n + 1 < len(lines) and "┼" in lines[n + 1])]
    return [c.strip() for line in rows for c in line.split("│") if c.strip()]


def values(status: dict) -> set[str]:
    found = set()
    for key in ("calls", "queues", "agents"):
        for record in status[key]:
            for value in record.values():
                if isinstance(value, list):
                    value = ", ".join(value)
                if value is not None:
                    found.add(str(value))
    return found


def check_fits(status: dict, width: int, height: int) -> list[str]:
    lines = shown(status, width, height)
    assert len(lines) <= height, "\n".join(lines)
    assert all(len(line) <= width for line in lines)
    whole = values(status) | {"-"}
    for cell in cells(lines):
        if cell.endswith("…"):
            assert any(v.startswith(cell[:-1]) for v in whole), cell
        else:
            # a cell is a whole value, a duration or a count: never a piece of one
            assert cell in whole or re.fullmatch(r"[\d:]+", cell), (cell, "\n".join(lines))
    return lines


def more(lines: list[str], noun: str) -> int:
    found = [re.search(rf"\+(\d+) more {noun}", line) for line in lines]
    return sum(int(m.group(1)) for m in found if m)


def test_at_80x24_nothing_is_split_and_the_cut_rows_are_counted() -> None:
    status = big_status()
    lines = check_fits(status, 80, 24)
    agents_shown = [c for c in cells(lines) if re.fullmatch(r"agent\d{3}", c)]
    assert len(agents_shown) + more(lines, "agents") == 40, "\n".join(lines)
    calls_shown = [c for c in cells(lines) if c.startswith("1795652892.")]
    assert len(calls_shown) + more(lines, "calls") == 14, "\n".join(lines)


def test_at_120x40_the_same_and_more_fits() -> None:
    status = big_status()
    lines = check_fits(status, 120, 40)
    assert more(lines, "agents") < 40 - 5
    small = check_fits(STATUS, 120, 40)
    assert not any("more" in line for line in small)
    assert "Li Na" in "\n".join(small) and "service, tech" in "\n".join(small)


def test_narrow_columns_drop_before_values_break() -> None:
    lines = check_fits(big_status(calls=3, agents=3), 60, 40)
    assert "agent000" in "\n".join(lines)  # the agent's id stays


def test_a_stopped_ccf_serve_is_shown_stale_with_the_datas_own_time() -> None:
    clock = iter([1_000.0, 1_005.0, 1_009.0])
    answers: list = [ApiClientError("ccf serve is not running at 127.0.0.1:1",
                                    unreachable=True)] * 2

    def fetch() -> dict:
        raise answers.pop(0)

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, height=60,
                      color_system=None)
    watch(fetch, console, 0.01, "127.0.0.1:1", STATUS, frames=2,
          clock=lambda: next(clock))
    text = out.getvalue()
    read, failed = time.strftime("%H:%M:%S", time.localtime(1_000.0)), \
        time.strftime("%H:%M:%S", time.localtime(1_005.0))
    last = text.rsplit("ccf serve at", 1)[0]
    assert f"ccf serve not answering since {failed}" in last, text
    assert f"status of {read}" in text
    later = time.strftime("%H:%M:%S", time.localtime(1_009.0))
    assert later not in text


def test_once_when_ccf_serve_does_not_answer_is_unreachable(tmp_path) -> None:
    result = ccf("status", "--once", "--config", config_for(tmp_path, free_port()))
    assert result.exit_code == UNREACHABLE, result.output
    assert "is not running" in result.output


def test_off_a_terminal_each_refresh_is_written_and_sigterm_ends_it(tmp_path) -> None:
    with status_server() as (port, seen):
        proc = subprocess.Popen(
            [str(CCF), "status", "--config", config_for(tmp_path, port), "--interval", "0.2s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
        try:
            deadline = time.monotonic() + 10
            while len(seen) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(seen) >= 3, "ccf status did not refresh"
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    assert "\x1b" not in text  # plain text: no cursor movement, no colour
    views = text.count("ccf serve at 127.0.0.1:")
    assert views >= 2, text
    assert text.count("1795.1") == views * 2  # each view whole: its call and its agent
    assert "Traceback" not in err.decode()


def test_off_a_terminal_a_stopped_ccf_serve_is_written_as_a_line(tmp_path) -> None:
    import threading

    lines: list[str] = []
    with status_server() as (port, seen):
        proc = subprocess.Popen(
            [str(CCF), "status", "--config", config_for(tmp_path, port), "--interval", "0.2s"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        deadline = time.monotonic() + 10
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    try:  # the stand-in has stopped: ccf serve no longer answers
        deadline = time.monotonic() + 10
        while not any("not answering since" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        reader.join(5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    stale = [line for line in lines if "not answering since" in line]
    # refused or cut off, as the stand-in closes: either way one plain line
    assert re.match(r"ccf serve not answering since \d\d:\d\d:\d\d: ccf serve (is not "
                    r"running at|at) 127\.0\.0\.1:\d+.*; showing the status of "
                    r"\d\d:\d\d:\d\d and retrying$", stale[0].rstrip("\n")), stale
    assert "\x1b" not in "".join(lines)
