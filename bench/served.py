"""What the benches of a server process share: the server process's side
(running until the bench stops it, under cProfile on request) and the bench's
handle of it (started, its READY line read, its CPU time, its log, stopped).

A bench runs its server (ccf serve or a stand-in) as a process of its own,
`python BENCH --serve ...`; importing this starts nothing.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PROFILE_ENV = "CCF_BENCH_PROFILE"  # `--profile`: the server under cProfile, stats to this file


class BenchError(Exception):
    """The benchmark is void: a server did not start or died, a call went wrong."""


def raise_fd_limit(want: int) -> None:
    """At least `want` descriptors (many connections need more than a default soft 1,024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        limit = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---- in the server process ------------------------------------------------------------------


def run_server(main: Callable[[], Awaitable[None]]) -> int:
    """asyncio.run(main()); under cProfile when PROFILE_ENV names a stats file."""
    profile_path = os.environ.get(PROFILE_ENV)
    if not profile_path:
        asyncio.run(main())
        return 0
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(main())
    finally:
        profiler.disable()
        profiler.dump_stats(profile_path)
    return 0


async def until_stopped() -> None:
    """Return on SIGTERM, or when the bench process goes away (stdin closes)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def stdin_closed() -> None:
        # os.read, not sys.stdin: a daemon thread blocked in a buffered
        # read aborts the interpreter at exit
        while os.read(0, 4096):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=stdin_closed, daemon=True).start()
    await stop.wait()


class ProcessCpu(NamedTuple):
    parent: int  # its parent's pid
    own_s: float  # user + system CPU seconds
    reaped_s: float  # those of the children it waited for (cutime + cstime)


def process_cpu(pid: int) -> ProcessCpu:
    """A process's CPU time and parent, from /proc/PID/stat (OSError: it is gone)."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        # after the command name, which may hold anything, ")" included
        fields = handle.read().rsplit(b")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return ProcessCpu(int(fields[1]), (int(fields[11]) + int(fields[12])) / tick,
                      (int(fields[13]) + int(fields[14])) / tick)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process."""
    return process_cpu(pid).own_s


def memory_kb(pid: int) -> dict[str, int]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in KB (from /proc)."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


# ---- in the bench: the handle of a server process ---------------------------------------------


class ServerProcess:
    """`python SCRIPT --serve ARGS...`, its stderr to `log`; it prints
    `READY ...` once listening and stops when terminated or when its stdin
    closes (run_server, until_stopped)."""

    def __init__(self, label: str, script: str, args: list[str], log: Path,
                 profile: str | None = None) -> None:
        self.label = label
        self.argv = [sys.executable, script, "--serve", *args]
        self.log = log
        self.profile = profile  # the cProfile stats file, or None
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout_s: float) -> list[str]:
        """Start it and wait for its READY line; the words after READY."""
        env = dict(os.environ)
        if self.profile:
            env[PROFILE_ENV] = self.profile
        self._log = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log)
        ready: list[bytes] = []
        reader = threading.Thread(target=lambda: ready.append(self.proc.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(timeout_s)
        words = ready[0].decode().split() if ready else []
        if words[:1] != ["READY"]:
            said = " ".join(words) or ("it exited" if ready else f"nothing in {timeout_s:g} s")
            raise BenchError(f"the {self.label} process did not start: {said}\n"
                             f"{self.log_tail()}")
        return words[1:]

    def check(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise BenchError(f"the {self.label} process died: {self.log_tail()}")

    def cpu_s(self) -> float:
        self.check()
        assert self.proc is not None
        return cpu_s(self.proc.pid)

    def stop(self, timeout_s: float = 20.0) -> str:
        """Terminate it (killed after `timeout_s`); what it printed after READY."""
        if self.proc is None:
            return ""
        out = b""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                out, _ = self.proc.communicate(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, _ = self.proc.communicate()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()
        if self._log is not None:
            self._log.close()
        return out.decode(errors="replace")

    def log_lines(self) -> list[str]:
        """What the server process wrote to stderr (its log)."""
        if self._log is not None and not self._log.closed:
            self._log.flush()
        if not self.log.exists():
            return []
        return self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_lines()[-lines:]) or "(no output)"


def print_notes(notes: list[str]) -> None:
    """The notes under a bench's table, wrapped at 100 columns."""
    import textwrap

    for i, note in enumerate(notes):
        print(textwrap.fill(note, 100, initial_indent="notes: " if i == 0 else "       ",
                            subsequent_indent="       "))


def print_profile(path: str, top: int = 30) -> None:
    """Where a server process's time went (`--profile`): by cumulative time, then by own."""
    import pstats

    stats = pstats.Stats(path)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
