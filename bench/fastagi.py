"""FastAGI benchmark (`make bench`).

1,000 concurrent calls of 20 AGI commands each, made by the FastAGI test
peer (runtime/testing/peer's `AgiCaller`, with tests/doubles/raw.py's
`ScriptBackend` answering every command `200 result=0` at once, as a line
where every prompt plays in no time), into two servers in the same run:

  ccf serve: a `FlowServer` (runtime/asterisk/server.py) wired as `ccf
  serve` wires it (a system clock, a SQLite CRM and a SQLite call store
  committing every call, both on files), running a flow compiled from a
  small .ccf that makes exactly 20 commands per call: ANSWER, 18 STREAM
  FILE beep, HANGUP;

  raw: `RawResponder` (tests/doubles/raw.py), a minimal asyncio
  FastAGI server sending the same 20 command lines, as received by the
  peer from ccf serve, one per reply.

Each server runs in a process of its own (this file, `--serve ccf|raw`),
so the peer's cost is not charged to it and its memory is its own; the
peer runs in this process. Figures:

  calls/s: wall time from the first connect to the last call's end, each
  side timed ROUNDS times, alternating, the median round counted;
  command latency: the server's time from the peer's reply to its next
  command (CallerReport.waits_s without the first, which is the call's
  set-up: header to first command), p50 and p99 over the timed rounds;
  memory per active call: all 1,000 calls held at their 10th command
  (the peer answers none of them until all have reached it), the server's
  VmRSS then minus its VmRSS after a warm-up, over 1,000; and the peak
  (VmHWM) over the whole run;
  server CPU per call: the process's user + system time over a round.

Targets: ccf serve's server CPU per call at most 1.25 times the raw
responder's (0.8 of its work rate: raw CPU over ccf CPU, the peer's cost
left out); at least half the raw responder's calls/s; under 100 KB per
active call. The figures are kept through bench/figures.py ("fastagi").
Exit 0 whether targets are met or not; 1 when the benchmark is void (a
server crashed, a call did not make its 20 commands).

`python bench/fastagi.py --profile` runs the ccf serve process under
cProfile (env CCF_BENCH_PROFILE names the stats file) and prints where
its time goes after the table; the figures of that run carry cProfile's
overhead.

`python bench/fastagi.py --null-sink` gives ccf serve's calls a sink that drops
every event instead of the call store: what the rest of a call costs, not the
target's figure (its table says so, and it is not kept).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the test doubles the bench drives (tests/doubles)

from doubles.raw import RawResponder, ScriptBackend  # noqa: E402
from figures import keep  # noqa: E402
from served import (  # noqa: E402
    BenchError,
    ServerProcess,
    memory_kb,
    percentile,
    print_notes,
    print_profile,
    raise_fd_limit,
    run_server,
    until_stopped,
)

from ccdsl.runtime.testing.peer.agi_caller import (  # noqa: E402
    AgiCaller,
    AgiCommand,
    CallerLine,
    CallerReport,
    PeerError,
)

CALLS = 1_000
COMMANDS = 20  # per call
PLAYS = COMMANDS - 2  # ANSWER, the plays, HANGUP
HOLD_AT = 10  # the command every call is held at for the memory figure
WARMUP_CALLS = 20
ROUNDS = 5
TARGET_RATIO = 0.5  # of the raw responder's calls/s
TARGET_CPU_RATIO = 0.8  # raw's server CPU per call over ccf serve's
TARGET_KB = 100.0  # per active call
FLOW = "bench"
PEER_TIMEOUT_S = 30.0
START_TIMEOUT_S = 20.0
NULL_SINK_ENV = "CCF_BENCH_NULL_SINK"  # `--null-sink`: the server's events dropped, not stored
FDS = 4 * CALLS + 256  # 1,000 connections: more descriptors than a default soft limit of 1,024


def flow_source() -> str:
    """The .ccf of the benchmark: 20 commands a call when every command
    gets `200 result=0` (STREAM FILE result=0: played, so no CHANNEL
    STATUS check follows; barge_in false: no interrupt keys)."""
    lines = [f"flow {FLOW}:", '  title "FastAGI benchmark"', "  languages en-US", "",
             "on start:", "  answer"]
    lines += ['  play "beep" barge_in false'] * PLAYS
    lines += ["  hangup", ""]
    return "\n".join(lines)


# ---- the server processes ----------------------------------------------------------------


async def _serve_ccf(workdir: str) -> None:
    from ccdsl.runtime.asterisk import serve_gc
    from ccdsl.runtime.asterisk.agi_line import AgiSettings
    from ccdsl.runtime.asterisk.server import FlowServer, StaticFlows
    from ccdsl.runtime.asterisk.tts import TtsRenderer
    from ccdsl.runtime.core.channel import CallInfo
    from ccdsl.runtime.core.clock import SystemClock
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.core.ir import load_program
    from ccdsl.runtime.core.services import RuntimeConfig, Services
    from ccdsl.runtime.operations.store import CallStore
    from ccdsl.runtime.sim import SimCentre

    with open(os.path.join(workdir, "flow.json"), encoding="utf-8") as handle:
        program = load_program(json.load(handle))
    clock = SystemClock()
    crm = SqliteCRM(os.path.join(workdir, "crm.db"))
    store = CallStore(os.path.join(workdir, "calls.db"))  # one commit a call, as `ccf serve`
    centre = SimCentre([], clock=clock)
    settings = AgiSettings(sounds_dir=os.path.join(workdir, "sounds"),
                           recordings_dir=os.path.join(workdir, "recordings"))
    config = RuntimeConfig(recordings_dir=settings.recordings_dir)

    sink = _Dropped() if os.environ.get(NULL_SINK_ENV) else store

    def services_for(info: CallInfo) -> Services:
        return Services(clock=clock, crm=crm, centre=centre, history=store, sink=sink,
                        config=config)

    server = FlowServer(StaticFlows({FLOW: program}), services_for, settings, port=0,
                        tts=TtsRenderer(os.path.join(workdir, "tts")), agents=centre.agent,
                        clock=clock)
    host, port = await server.start()
    serve_gc.settle()  # as `ccf serve` does once listening
    print(f"READY {port}", flush=True)
    await until_stopped()
    await server.stop(grace_s=5.0)
    store.close()
    crm.close_now()


class _Dropped:
    """`--null-sink`: a sink that keeps nothing."""

    def emit(self, event: object) -> None:
        pass


async def _serve_raw(workdir: str) -> None:
    with open(os.path.join(workdir, "commands.json"), encoding="utf-8") as handle:
        commands = json.load(handle)
    responder = RawResponder(commands, keep=False)
    host, port = await responder.start()
    print(f"READY {port}", flush=True)
    await until_stopped()
    await responder.stop()


def serve(kind: str, workdir: str) -> int:
    raise_fd_limit(FDS)
    run = _serve_ccf if kind == "ccf" else _serve_raw
    return run_server(lambda: run(workdir))


# ---- the process handle the bench holds -----------------------------------------------------


@dataclass
class Server(ServerProcess):
    """One server process (`--serve KIND`) and what was measured of it."""

    kind: str
    label: str
    workdir: str
    profile: str | None = None
    port: int = 0
    baseline_kb: int = 0
    held_kb: int = 0
    peak_kb: int = 0
    rates: list[float] = field(default_factory=list)
    cpu_ms_per_call: list[float] = field(default_factory=list)
    peer_cpu_ms_per_call: list[float] = field(default_factory=list)  # this process's
    waits_s: list[float] = field(default_factory=list)  # after a reply, all timed rounds
    setup_s: list[float] = field(default_factory=list)  # header to first command
    commands: list[str] = field(default_factory=list)  # one call's, as the peer got them

    def __post_init__(self) -> None:
        super().__init__(self.label, __file__, [self.kind, self.workdir],
                         Path(self.workdir, f"{self.kind}.log"), self.profile)

    def status(self) -> dict[str, int]:
        self.check()
        assert self.proc is not None
        return memory_kb(self.proc.pid)


# ---- the peer -------------------------------------------------------------------------------


class Gate:
    """Holds every call at one command until all `expected` calls are
    there; `all_here` is set then, `release` lets them go on."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived = 0
        self.all_here = asyncio.Event()
        self.release = asyncio.Event()

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.expected:
            self.all_here.set()
        await self.release.wait()


class BenchBackend(ScriptBackend):
    """`200 result=0` to everything, held at HOLD_AT when there is a gate."""

    def __init__(self, gate: Gate | None) -> None:
        super().__init__()
        self.gate = gate

    async def execute(self, cmd: AgiCommand) -> str | None:
        reply = await super().execute(cmd)
        if self.gate is not None and self.count == HOLD_AT:
            await self.gate.arrive()
        return reply


@dataclass
class Round:
    seconds: float
    reports: list[CallerReport]
    cpu_s: float  # the server's
    peer_cpu_s: float  # this process's


_sequence = 0


async def _calls(server: Server, n: int, gate: Gate | None = None) -> list[CallerReport]:
    global _sequence
    callers = []
    for _ in range(n):
        _sequence += 1
        line = CallerLine(script=FLOW, channel=f"PJSIP/bench-{_sequence:08x}",
                          uniqueid=f"1795652892.{_sequence}", callerid="+8613900000001",
                          dnid="4008001234", language="en-US")
        callers.append(AgiCaller("127.0.0.1", server.port, BenchBackend(gate), line,
                                 timeout=PEER_TIMEOUT_S))
    try:
        reports = await asyncio.gather(*(c.run() for c in callers))
    except PeerError as exc:
        raise BenchError(f"a call into {server.label} failed: {exc}\n{server.log_tail()}"
                         ) from None
    for report in reports:
        if len(report.commands) != COMMANDS or report.closed_by != "server":
            raise BenchError(
                f"a call into {server.label} made {len(report.commands)} commands, not "
                f"{COMMANDS}, closed by {report.closed_by or 'nobody'}: "
                f"{report.commands[-3:]}\n{server.log_tail()}")
    return list(reports)


async def timed_round(server: Server) -> Round:
    cpu, peer_cpu = server.cpu_s(), time.process_time()
    start = time.perf_counter()
    reports = await _calls(server, CALLS)
    seconds = time.perf_counter() - start
    return Round(seconds, reports, server.cpu_s() - cpu, time.process_time() - peer_cpu)


async def held_round(server: Server) -> None:
    """All calls held at HOLD_AT: the server's memory with CALLS calls open."""
    gate = Gate(CALLS)
    calls = asyncio.ensure_future(_calls(server, CALLS, gate))
    waiting = asyncio.ensure_future(gate.all_here.wait())
    done, _ = await asyncio.wait([calls, waiting], timeout=PEER_TIMEOUT_S * 2,
                                 return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:
        gate.release.set()
        waiting.cancel()
        if calls in done:
            calls.result()  # raises the call's BenchError
        raise BenchError(f"only {gate.arrived} of {CALLS} calls reached command {HOLD_AT} "
                         f"on {server.label}")
    await asyncio.sleep(0.2)  # the server has sent command HOLD_AT everywhere; let it settle
    server.held_kb = server.status()["VmRSS"]
    gate.release.set()
    await calls


async def prepare(server: Server) -> None:
    """Warm-up calls (imports, caches, the store's pages), the baseline
    memory, then the held round."""
    reports = await _calls(server, WARMUP_CALLS)
    server.commands = reports[0].commands
    await asyncio.sleep(0.2)
    server.baseline_kb = server.status()["VmRSS"]
    await held_round(server)


def record(server: Server, result: Round) -> None:
    server.rates.append(CALLS / result.seconds)
    server.cpu_ms_per_call.append(result.cpu_s * 1000 / CALLS)
    server.peer_cpu_ms_per_call.append(result.peer_cpu_s * 1000 / CALLS)
    for report in result.reports:
        server.setup_s.append(report.waits_s[0])
        server.waits_s.extend(report.waits_s[1:])


async def measure(ccf: Server, raw: Server) -> None:
    """Both sides: warm-up and held round, then the timed rounds, alternating."""
    await prepare(ccf)
    await prepare(raw)
    for _ in range(ROUNDS):
        for server in (ccf, raw):
            record(server, await timed_round(server))
    for server in (ccf, raw):
        server.peak_kb = server.status()["VmHWM"]


# ---- the report -------------------------------------------------------------------------------


def per_call_kb(server: Server) -> float:
    return (server.held_kb - server.baseline_kb) / CALLS


def peak_per_call_kb(server: Server) -> float:
    return (server.peak_kb - server.baseline_kb) / CALLS


def _median(values: list[float]) -> float:
    return statistics.median(values)


ROWS = (
    ("calls/s (median round)", "{:,.0f}", lambda s: _median(s.rates)),
    ("  slowest round, calls/s", "{:,.0f}", lambda s: min(s.rates)),
    ("added latency per command p50, ms", "{:.2f}",
     lambda s: percentile(s.waits_s, 0.5) * 1000),
    ("added latency per command p99, ms", "{:.2f}",
     lambda s: percentile(s.waits_s, 0.99) * 1000),
    ("call set-up p50 (header to 1st), ms", "{:.2f}",
     lambda s: percentile(s.setup_s, 0.5) * 1000),
    ("server CPU per call, ms", "{:.2f}", lambda s: _median(s.cpu_ms_per_call)),
    ("peer CPU per call, ms", "{:.2f}", lambda s: _median(s.peer_cpu_ms_per_call)),
    ("memory per active call, KB", "{:.1f}", per_call_kb),
    ("  peak per call (VmHWM), KB", "{:.1f}", peak_per_call_kb),
    ("RSS after warm-up, MB", "{:.1f}", lambda s: s.baseline_kb / 1024),
    (f"RSS, {CALLS:,} calls held, MB", "{:.1f}", lambda s: s.held_kb / 1024),
    ("peak RSS (VmHWM), MB", "{:.1f}", lambda s: s.peak_kb / 1024),
)


def print_report(ccf: Server, raw: Server, wall_s: float) -> None:
    rate = {s.kind: _median(s.rates) for s in (ccf, raw)}
    ratio = rate["ccf"] / rate["raw"]
    head = "ccf NULLSINK" if os.environ.get(NULL_SINK_ENV) else "ccf serve"
    print(f"{'':38} {head:>12} {'raw':>11} {'ccf/raw':>8}")
    for name, fmt, value in ROWS:
        a, b = value(ccf), value(raw)
        share = f"{a / b:.2f}" if b else ""
        print(f"{name:38} {fmt.format(a):>12} {fmt.format(b):>11} {share:>8}")
    print()
    notes = [
        f"{CALLS:,} concurrent calls a round, {len(ccf.commands)} commands a call "
        f"({_command_summary(ccf.commands)}), the same lines from both servers; each side "
        f"{ROUNDS} rounds, alternating, the median round counted. Latencies over all timed "
        f"rounds, as the peer sees them: with {CALLS:,} calls in flight they are mostly each "
        f"command's wait for its turn. Memory: every call held at command {HOLD_AT}, the "
        f"server's RSS then minus its RSS after {WARMUP_CALLS} warm-up calls, over {CALLS:,}. "
        f"Whole bench {wall_s:.1f} s."]
    raw_wall_ms = 1000 / rate["raw"]
    peer_ms = _median(raw.peer_cpu_ms_per_call)
    cpu_share = _median(raw.cpu_ms_per_call) / _median(ccf.cpu_ms_per_call)
    if peer_ms >= 0.8 * raw_wall_ms:
        notes.append(f"The raw side is held back by the peer ({peer_ms:.2f} ms of peer CPU a "
                     f"call against {raw_wall_ms:.2f} ms wall a call): the responder could go "
                     "faster, so the calls/s ratio flatters ccf serve.")
    notes.append(f"By server CPU per call, ccf serve does {cpu_share:.2f} of the raw "
                 "responder's work rate (what the ratio would be with a peer that cost nothing).")
    for server in (ccf, raw):
        logged = server.log_lines()
        if logged:
            notes.append(f"The {server.label} process logged {len(logged)} lines; the last: "
                         f"{logged[-1]}")
    print_notes(notes)
    print()
    kb = per_call_kb(ccf)
    ccf_ms, raw_ms = _median(ccf.cpu_ms_per_call), _median(raw.cpu_ms_per_call)
    if os.environ.get(NULL_SINK_ENV):
        print("--null-sink: events dropped, not stored; the lines below are NOT the targets' "
              "figures")
    print(f"target: ccf serve CPU per call at least {TARGET_CPU_RATIO} of the raw responder's: "
          f"{'met' if cpu_share >= TARGET_CPU_RATIO else 'NOT met'} ({ccf_ms:.2f} vs "
          f"{raw_ms:.2f} ms a call, {cpu_share:.3f} of raw; met at {raw_ms / TARGET_CPU_RATIO:.2f} "
          "ms or less)")
    print(f"target: ccf serve at least {TARGET_RATIO:.0%} of the raw responder's calls/s: "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'} ({rate['ccf']:,.0f} vs "
          f"{rate['raw']:,.0f} calls/s, {ratio:.3f} of raw)")
    print(f"target: ccf serve under {TARGET_KB:.0f} KB per active call: "
          f"{'met' if kb < TARGET_KB else 'NOT met'} ({kb:.1f} KB held, "
          f"{peak_per_call_kb(ccf):.1f} KB at the peak)")


def figures(ccf: Server, raw: Server, wall_s: float) -> dict[str, object]:
    """What bench/figures.py keeps of a run."""
    ccf_ms, raw_ms = _median(ccf.cpu_ms_per_call), _median(raw.cpu_ms_per_call)
    kept: dict[str, object] = {"calls": CALLS, "commands_per_call": COMMANDS, "rounds": ROUNDS}
    for server in (ccf, raw):
        kept.update({
            f"{server.kind}_calls_per_s": round(_median(server.rates), 1),
            f"{server.kind}_server_cpu_ms_per_call": round(_median(server.cpu_ms_per_call), 3),
            f"{server.kind}_peer_cpu_ms_per_call":
                round(_median(server.peer_cpu_ms_per_call), 3),
            f"{server.kind}_latency_p50_ms": round(percentile(server.waits_s, 0.5) * 1000, 2),
            f"{server.kind}_latency_p99_ms": round(percentile(server.waits_s, 0.99) * 1000, 2),
            f"{server.kind}_memory_per_call_kb": round(per_call_kb(server), 1),
            f"{server.kind}_peak_rss_mb": round(server.peak_kb / 1024, 1),
        })
    kept["calls_per_s_ratio_to_raw"] = round(_median(ccf.rates) / _median(raw.rates), 3)
    kept["cpu_ratio_to_raw"] = round(raw_ms / ccf_ms, 3)  # the target's: raw CPU over ccf's
    kept["wall_s"] = round(wall_s, 1)
    return kept


def _command_summary(commands: list[str]) -> str:
    counts: dict[str, int] = {}
    for line in commands:
        counts[line] = counts.get(line, 0) + 1
    return ", ".join(f"{n} x {line}" if n > 1 else line for line, n in counts.items())


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--serve"] and len(args) == 3 and args[1] in ("ccf", "raw"):
        return serve(args[1], args[2])
    from ccdsl.compiler.pipeline import compile_file

    raise_fd_limit(FDS)
    started = time.perf_counter()
    profile = "--profile" in args
    null_sink = "--null-sink" in args
    if null_sink:
        os.environ[NULL_SINK_ENV] = "1"  # the server processes inherit it
        print("--null-sink: ccf serve's events are dropped, not stored; NOT the target's "
              "figure, and not kept")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"server and peer in separate processes")
    with tempfile.TemporaryDirectory(prefix="ccf-bench-agi-") as folder:
        source = os.path.join(folder, f"{FLOW}.ccf")
        Path(source).write_text(flow_source(), encoding="utf-8")
        compiled = compile_file(source)
        if not compiled.ok or compiled.ir is None:
            print("the benchmark flow does not compile: "
                  + "; ".join(d.message for d in compiled.diagnostics), file=sys.stderr)
            return 1
        Path(folder, "flow.json").write_text(json.dumps(compiled.ir), encoding="utf-8")
        ccf = Server("ccf", "ccf serve", folder,
                     profile=os.path.join(folder, "ccf.prof") if profile else None)
        raw = Server("raw", "raw responder", folder)
        try:
            ccf.port = int(ccf.start(START_TIMEOUT_S)[0])
            # the raw responder sends what ccf serve sent, line for line
            first = asyncio.run(_calls(ccf, 1))[0].commands
            Path(folder, "commands.json").write_text(json.dumps(first), encoding="utf-8")
            raw.port = int(raw.start(START_TIMEOUT_S)[0])
            asyncio.run(measure(ccf, raw))
        except BenchError as exc:
            print(f"the benchmark is void: {exc}", file=sys.stderr)
            return 1
        finally:
            ccf.stop()
            raw.stop()
        if raw.commands != ccf.commands:
            print("the raw responder's commands differ from ccf serve's; the benchmark is "
                  "void", file=sys.stderr)
            return 1
        print()
        wall_s = time.perf_counter() - started
        print_report(ccf, raw, wall_s)
        if profile:
            print("\nccf serve under cProfile (the figures above carry its overhead):")
            print_profile(ccf.profile)
        elif not null_sink:  # not kept: cProfile's overhead, or a sink that stores nothing
            keep("fastagi", figures(ccf, raw, wall_s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
