"""Console live-stream benchmark (`make bench`): how soon a screen pop reaches 200 open desks.

`ccf serve` as it runs in production, in a process of its own (this file, `--serve`): a
LiveCentre with its console (runtime/console/serve.py's ServedCentre) from a ccf.toml written
here: 200 agents in the agents file, each a console user; a SQLite CRM with a customer for
every caller; a flow that looks the caller up, queues for an agent (`leastrecent`, one member
rung at a time) and hangs up. This process plays the rest:

  Asterisk: the AMI double (tests/doubles AmiPeer), whose app_queue rings the members `ccf
  serve` added at AMI connect, and the FastAGI test peer (runtime/testing/peer), whose callers
  run EXEC Queue on that app_queue and the `ccf-answered` leg of the member who answers. The
  peer's time is virtual (a ring of 2 s and a talk of 30 s take none); each app_queue event
  waits until ccf serve's AMI link has read it (the server counts them into a shared file, as
  tests/doubles/ami_sync.py's read_by does in one process), so ccf serve sees the ring before
  the caller's Queue() returns, as it would on Asterisk;

  the pages, in a third process (`--pages`) so that the peer's work never delays their
  reads: 200 desks logged in over HTTP (POST /login), each on GET /live over a raw socket
  (HTTP/1.1, chunked, server-sent events), reading with the kernel's receive time
  (SO_TIMESTAMPNS) as well as the time the process parsed the event. Raw sockets rather
  than httpx for the receive time: httpx's streams do not expose it.

Pop latency: from the moment the AMI double wrote AgentCalled for a member to ccf serve (the
queue rang the agent; ccf serve's `agent_offered` follows from it) to the `pop` event naming
that call reaching the agent's page socket (kernel receive time), over every pop of CALLS
calls; so it covers ccf serve's whole pop path: the AMI event read, the ring made an offer, the
pop built (CRM record, recent calls from the call store), published on the live feed and
written by the agent's stream. A read's receive time is that of its last segment: a pop read
together with later bytes has an upper bound (counted in the notes). Also given: the same to
the time the pages' process parsed it.

Added cost: ccf serve's CPU (user + system, from /proc) per call in rounds with the 200 pages
on /live against rounds with the pages closed (the same process, sessions kept, the web server
up, pops still built and published to no one), alternating, ROUNDS of each, the median round
of each counted.

Target: pop p99 under 100 ms: a pop within a tenth of a second shows with the ring itself (the
usual limit for a response to feel instant), far inside the ring before an agent can answer;
on 2 cores p99 was 44 to 78 ms over four runs. Exit 0 whether targets are met or not; 1 when the
benchmark is void (a server died, a call not answered by an agent, a page not connected, a
pop missing). `--profile` runs ccf serve under cProfile and prints where its time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mmap
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the AMI double the bench drives (tests/doubles)

from asterisk.centre import write_config  # noqa: E402
from doubles.ami_sync import APP_QUEUE_EVENTS  # noqa: E402
from figures import keep  # noqa: E402
from served import (  # noqa: E402
    BenchError,
    ServerProcess,
    percentile,
    print_notes,
    print_profile,
    raise_fd_limit,
    run_server,
    until_stopped,
)

AGENTS = 200
CALLS = 1_000  # with the pages open (the pops measured); as many with them closed
ROUNDS = 4  # of each kind, alternating; CALLS / ROUNDS calls a round
CONCURRENCY = 40  # calls at once (agents are reused: 200 agents, 1,000 calls)
WARMUP_CALLS = 40
CALLERS = 250  # distinct numbers, each a CRM customer; callers call again (recent calls)
CONNECT_BATCH = 8  # pages connecting at once (the [api] max_unauthenticated is 16)
LOGINS_AT_ONCE = 4
FLOW = "desk"
DIALLED = "4008001234"
SECRET = "bench-ami-secret"
PASSWORD = "bench password"
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 30.0
POP_WAIT_S = 5.0  # after a round, how long the last pops may still take
TARGET_P99_MS = 100.0  # docstring "Target"
FDS = 8 * AGENTS + 8 * CONCURRENCY + 512  # descriptors each process may need
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux: SCM_TIMESTAMPNS too

FLOW_SOURCE = textwrap.dedent(f"""\
    flow {FLOW}:
      languages en-US

    queue service:
      skills [general]
      max_wait 60s
      ring 15s
      strategy "leastrecent"
      autopause "no"

    on start:
      answer
      customer = crm.customer(phone: caller.number) on error -> customer = null
      queue service
      hangup
    """)


def agent_id(i: int) -> str:
    return f"a{i:03d}"


def caller_number(i: int) -> str:
    return f"+86139{i:08d}"


# ---- the centre's files -----------------------------------------------------------------


def write_centre(folder: Path, ami_port: int):
    """ccf.toml, the agents file, the console users and the CRM; the flow
    deployed. The centre's config and the flow's IR."""
    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.runtime.asterisk.flowstore import FlowStore
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.operations.console_users import User, hash_password, save_users

    agents = []
    for i in range(1, AGENTS + 1):
        agents.append(f'[[agents]]\nid = "{agent_id(i)}"\nname = "Agent {i}"\n'
                      f'extension = "{8000 + i}"\nskills = {{ general = 5 }}\n')
    (folder / "agents.toml").write_text("\n".join(agents), encoding="utf-8")
    hashed = hash_password(PASSWORD)  # one scrypt for all (each costs ~50 ms)
    save_users(folder / "console-users.json",
               {agent_id(i): User(agent_id(i), "agent", hashed, f"Agent {i}")
                for i in range(1, AGENTS + 1)})
    crm = SqliteCRM(folder / "crm.db")
    crm.upsert("customer", [{"id": f"C{i:05d}", "name": f"Customer {i}",
                             "phone": caller_number(i), "tier": ("gold", "silver")[i % 2],
                             "owner": agent_id(i % AGENTS + 1)} for i in range(CALLERS)])
    crm.close_now()
    write_config(folder, ami_port, agents="agents.toml", ami_timeout="5s",
                        numbers=f'"{DIALLED}" = "{FLOW}"',
                        extra='[console]\nusers = "console-users.json"\n')
    source = folder / f"{FLOW}.ccf"
    source.write_text(FLOW_SOURCE, encoding="utf-8")
    result = compile_file(str(source))
    if not result.ok or result.ir is None:
        raise BenchError("the benchmark flow does not compile: "
                         + "; ".join(d.message for d in result.diagnostics))
    ir = {**result.ir, "tests": []}
    config = load_centre(folder)
    FlowStore(config.flows_dir).deploy({FLOW: ir}, numbers=config.numbers, note="bench")
    return config, ir


def load_centre(folder: Path):
    from ccdsl.runtime.asterisk.config import load_config

    return load_config(folder / "ccf.toml", environ={"CCF_AMI_SECRET": SECRET})


# ---- the ccf serve process ----------------------------------------------------------------


async def _serve(folder: Path) -> None:
    from ccdsl.runtime.asterisk.service import LiveCentre
    from ccdsl.runtime.console.serve import ServedCentre

    live = LiveCentre(load_centre(folder), port=0, api_port=0)
    served = ServedCentre(live)
    _, agi_port = await served.start()
    if live.api_address is None or live.ami is None:
        print(f"FAILED {live.api_error or 'no AMI link'}", flush=True)
        await live.stop(1.0)
        return
    # how many app_queue events the AMI link has read, for the peer to wait on
    with open(folder / "read.count", "r+b") as handle:
        counter = mmap.mmap(handle.fileno(), 16)
    read = [0]
    inner = live.ami.on_event

    def reading(event):
        if event.event in APP_QUEUE_EVENTS:
            read[0] += 1
            counter[:8] = read[0].to_bytes(8, "little")
        return inner(event) if inner is not None else None

    live.ami.on_event = reading

    async def streams() -> None:  # how many pages are on /live, for the bench to wait on
        while True:
            counter[8:16] = live.feed.subscribers.to_bytes(8, "little")
            await asyncio.sleep(0.05)

    watching = asyncio.get_running_loop().create_task(streams())
    print(f"READY {agi_port} {live.api_address[1]}", flush=True)
    await until_stopped()
    watching.cancel()
    print("STATS " + json.dumps({"published": live.feed.published,
                                 "subscribers": live.feed.subscribers}), flush=True)
    await served.stop(2.0)


def serve(folder: str) -> int:
    raise_fd_limit(FDS)
    return run_server(lambda: _serve(Path(folder)))


class Server(ServerProcess):
    """The ccf serve process (`--serve FOLDER`): its ports, and the live
    feed's figures it printed as it stopped."""

    def __init__(self, folder: Path, profile: str | None = None) -> None:
        super().__init__("ccf serve", __file__, [str(folder)], folder / "serve.log", profile)
        self.agi_port = self.web_port = 0
        self.stats: dict = {}

    async def started(self) -> None:
        """Started and listening; READY is waited for in a thread, as ccf serve
        logs in to the AMI double on this process's event loop meanwhile."""
        words = await asyncio.to_thread(self.start, START_TIMEOUT_S)
        self.agi_port, self.web_port = int(words[0]), int(words[1])

    def stop(self, timeout_s: float = 20.0) -> str:
        out = super().stop(timeout_s)
        for line in out.splitlines():
            if line.startswith("STATS "):
                self.stats = json.loads(line[6:])
        return out


# ---- keeping app_queue in step with ccf serve's AMI link ----------------------------------


class ReadBy:
    """app_queue's `settle()` made to wait until ccf serve's AMI link has
    read every app_queue event sent so far (the count the server process
    keeps in `read.count`), in place of the awaitables of read_by."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115
        self.counter = mmap.mmap(self._file.fileno(), 16, access=mmap.ACCESS_READ)
        self.sent = 0
        self.offset = 0  # sent before the server counted (members added at AMI connect)

    def read(self) -> int:
        return int.from_bytes(self.counter[:8], "little")

    def on_event(self, event: dict[str, object]) -> None:
        self.sent += 1

    def streams(self) -> int:
        """The live feed's subscribers in ccf serve (updated every 50 ms)."""
        return int.from_bytes(self.counter[8:16], "little")

    async def streams_become(self, count: int, timeout_s: float = 10.0) -> float:
        """Wait until ccf serve has `count` streams open; the seconds it took."""
        began = time.monotonic()
        while self.streams() != count:
            if time.monotonic() - began > timeout_s:
                raise BenchError(f"ccf serve has {self.streams()} live streams open, not "
                                 f"{count}, {timeout_s:g} s on")
            await asyncio.sleep(0.01)
        return time.monotonic() - began

    async def settle(self) -> None:
        target = self.sent - self.offset
        deadline = time.monotonic() + CALL_TIMEOUT_S
        while self.read() < target:
            if time.monotonic() > deadline:
                raise BenchError(f"ccf serve's AMI link read {self.read()} of the {target} "
                                 "app_queue events sent")
            await asyncio.sleep(0.001)

    async def quiet(self) -> None:
        """Wait until the count stands still, then take the gap as the offset."""
        last, still = -1, 0
        while still < 5:
            await asyncio.sleep(0.1)
            now = self.read()
            still = still + 1 if now == last else 0
            last = now
        self.offset = self.sent - last

    def close(self) -> None:
        self.counter.close()
        self._file.close()


# ---- the pages ----------------------------------------------------------------------------


@dataclass
class Pop:
    call_id: str
    agent: str
    kernel_s: float | None  # the socket's receive time (SO_TIMESTAMPNS), time.time()
    parsed_s: float  # when this process parsed it, time.time()
    size: int  # the event's bytes
    customer: bool  # it carries a CRM record
    recent: int  # the caller's last calls it lists
    coalesced: bool  # later bytes came in the same read: kernel_s is an upper bound


class Page:
    """One desk's GET /live on a raw non-blocking socket: the HTTP head,
    then chunks, then server-sent events; each `pop` kept with its times."""

    def __init__(self, agent: str, cookie: str, port: int, pops: list[Pop]) -> None:
        self.agent = agent
        self.cookie = cookie
        self.port = port
        self.pops = pops
        self.sock: socket.socket | None = None
        self.loop = asyncio.get_running_loop()
        self.buf = bytearray()
        self.body = bytearray()
        self.head_done = False
        self.status = 0
        self.state = self.loop.create_future()  # the first `state` event came

    async def open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with contextlib.suppress(OSError):  # no kernel times: Pop.kernel_s None
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setblocking(False)
        await self.loop.sock_connect(sock, ("127.0.0.1", self.port))
        self.sock = sock
        request = (f"GET /live HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"Accept: text/event-stream\r\nCookie: ccf_session={self.cookie}\r\n"
                   "Cache-Control: no-cache\r\n\r\n").encode()
        await self.loop.sock_sendall(sock, request)
        self.loop.add_reader(sock.fileno(), self._readable)

    def close(self) -> None:
        if self.sock is not None:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None

    def _readable(self) -> None:
        assert self.sock is not None
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(65536, 64)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, ancillary = b"", []
            if not data:
                self._gone()
                return
            parsed = time.time()
            kernel = None
            for level, kind, blob in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(blob) >= 16:
                    sec, nsec = struct.unpack("qq", blob[:16])
                    kernel = sec + nsec / 1e9
            self._feed(data, kernel, parsed)

    def _gone(self) -> None:
        if not self.state.done():
            self.state.set_exception(BenchError(
                f"{self.agent}'s /live closed before its state (HTTP {self.status or 'none'})"))
        self.close()

    def _feed(self, data: bytes, kernel: float | None, parsed: float) -> None:
        self.buf += data
        if not self.head_done:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            self.status = int(head[0].split()[1])
            del self.buf[:end + 4]
            self.head_done = True
            if self.status != 200:
                self._gone()
                return
        while True:  # chunked
            line_end = self.buf.find(b"\r\n")
            if line_end < 0:
                break
            size = int(bytes(self.buf[:line_end]).split(b";")[0], 16)
            if len(self.buf) < line_end + 2 + size + 2:
                break
            self.body += self.buf[line_end + 2:line_end + 2 + size]
            del self.buf[:line_end + 2 + size + 2]
            if size == 0:
                self._gone()
                return
        while True:  # server-sent events
            end = self.body.find(b"\n\n")
            if end < 0:
                return
            block = bytes(self.body[:end]).decode("utf-8")
            del self.body[:end + 2]
            # the read's receive time is its last segment's: exact for the
            # event that ends the read, an upper bound for one before it
            later = bool(self.body) or bool(self.buf)
            self._event(block, kernel, parsed, end + 2, later)

    def _event(self, block: str, kernel: float | None, parsed: float, size: int,
               later: bool) -> None:
        kind, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if not data:
            return  # a keep-alive comment
        if kind == "state" and not self.state.done():
            self.state.set_result(None)
        elif kind == "pop":
            payload = json.loads(data)
            self.pops.append(Pop(str(payload["call"]["id"]), str(payload["agent"]), kernel,
                                 parsed, size, bool((payload.get("customer") or {}).get("id")),
                                 len(payload.get("recent_calls") or ()), later))


async def log_in(port: int, agents: list[str]) -> tuple[dict[str, str], list[float]]:
    """Each agent's session cookie, by POST /login (LOGINS_AT_ONCE at once);
    each log-in's seconds, then all of them."""
    import httpx

    cookies: dict[str, str] = {}
    took: list[float] = []
    began_all = time.perf_counter()
    gate = asyncio.Semaphore(LOGINS_AT_ONCE)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
        async def one(agent: str) -> None:
            async with gate:
                began = time.perf_counter()
                reply = await client.post("/login", data={"user": agent, "password": PASSWORD})
                took.append(time.perf_counter() - began)
            if reply.status_code != 303 or "ccf_session" not in reply.cookies:
                raise BenchError(f"{agent} could not log in: HTTP {reply.status_code}")
            # a Secure cookie over http: httpx would not keep it; carried by hand
            cookies[agent] = reply.cookies["ccf_session"]

        await asyncio.gather(*(one(a) for a in agents))
    took.append(time.perf_counter() - began_all)  # the last: all of them
    return cookies, took


async def open_pages(port: int, cookies: dict[str, str], pops: list[Pop], *,
                     batch: int) -> tuple[list[Page], int]:
    """Every agent's page on /live, `batch` connecting at once; a page
    refused or closed before its state tries again (batches of one). The
    pages, and how many first attempts failed."""
    pages: list[Page] = []
    failed = 0
    agents = list(cookies)
    for start in range(0, len(agents), batch):
        group = [Page(a, cookies[a], port, pops) for a in agents[start:start + batch]]
        await asyncio.gather(*(p.open() for p in group))
        results = await asyncio.gather(*(asyncio.wait_for(p.state, 10.0) for p in group),
                                       return_exceptions=True)
        for page, result in zip(group, results, strict=True):
            if not isinstance(result, BaseException):
                pages.append(page)
                continue
            failed += 1
            page.close()
            again = Page(page.agent, page.cookie, port, pops)
            await again.open()
            await asyncio.wait_for(again.state, 10.0)
            pages.append(again)
    return pages, failed


def close_pages(pages: list[Page]) -> None:
    for page in pages:
        page.close()


async def _pages(folder: Path, port: int) -> None:
    """The pages' process (`--pages`): commands on stdin, one answer line
    each on stdout: `open BATCH` (OPENED failed seconds), `close` (CLOSED),
    `pops` (the pops since the last `pops`, as JSON), `quit`."""
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    cookies = json.loads((folder / "cookies.json").read_text(encoding="utf-8"))
    pops: list[Pop] = []
    pages: list[Page] = []
    while True:
        words = (await commands.get()).split()
        if not words or words[0] == "quit":
            break
        if words[0] == "open":
            began = time.perf_counter()
            try:
                pages, failed = await open_pages(port, cookies, pops, batch=int(words[1]))
            except (BenchError, OSError, TimeoutError) as exc:
                print(f"FAILED {exc}", flush=True)
                continue
            print(f"OPENED {failed} {time.perf_counter() - began:.3f}", flush=True)
        elif words[0] == "close":
            close_pages(pages)
            pages = []
            print("CLOSED", flush=True)
        elif words[0] == "pops":
            print(json.dumps([vars(p) for p in pops]), flush=True)
            pops.clear()
    close_pages(pages)


@dataclass
class Pages:
    """The handle of the pages' process."""

    folder: Path
    port: int
    proc: subprocess.Popen | None = None

    def start(self, cookies: dict[str, str]) -> None:
        (self.folder / "cookies.json").write_text(json.dumps(cookies), encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--pages", str(self.folder), str(self.port)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    async def ask(self, command: str, timeout_s: float = 60.0) -> str:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = await asyncio.wait_for(asyncio.to_thread(self.proc.stdout.readline), timeout_s)
        if not line or line.startswith("FAILED"):
            raise BenchError(f"the pages' process: {line.strip() or 'gone'}")
        return line

    async def open(self, batch: int) -> tuple[int, float]:
        _, failed, seconds = (await self.ask(f"open {batch}")).split()
        return int(failed), float(seconds)

    async def close(self) -> None:
        await self.ask("close")

    async def pops(self) -> list[Pop]:
        return [Pop(**p) for p in json.loads(await self.ask("pops"))]

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.communicate("quit\n", timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


# ---- the calls --------------------------------------------------------------------------


@dataclass
class Peer:
    """The AMI double, its app_queue, and the callers."""

    ami: object
    ir: dict
    server: Server
    read_by: ReadBy
    offered: dict[tuple[str, str], float] = field(default_factory=dict)  # AgentCalled's time
    sequence: int = 0

    def on_event(self, event: dict[str, object]) -> None:
        """The first listener: the time just before the double writes the
        event (taken after the write, it would come after ccf serve's whole
        answer whenever waking ccf serve preempts this process)."""
        if event.get("Event") == "AgentCalled":
            self.offered[(str(event.get("Uniqueid")), str(event.get("MemberName")))] = \
                time.time()

    async def call(self, n: int) -> str:
        """One caller through ccf serve, queued and answered; the agent who answered."""
        from ccdsl.runtime.core.channel import CallInfo
        from ccdsl.runtime.core.clock import VirtualClock
        from ccdsl.runtime.sim import ScriptedCaller, SimChannel
        from ccdsl.runtime.sim.scenario import scenario_centre, simulation
        from ccdsl.runtime.testing.peer.agi_caller import AgiCaller, CallerLine, PeerError
        from ccdsl.runtime.testing.peer.sim_backend import SimBackend, agent_leg

        number = caller_number(n % CALLERS)
        call_id = f"1797100000.{n}"
        channel = f"PJSIP/trunk-{n:08x}"
        scenario = simulation(self.ir, caller=number, dialled=DIALLED,
                              at="2026-12-07 10:00 UTC")
        info = CallInfo(call_id=call_id, caller_number=number, caller_name=None,
                        dialled=DIALLED, started=scenario.start, channel=channel,
                        language="en-US")
        sim = SimChannel(info, VirtualClock(scenario.start), ScriptedCaller([]),
                         scenario_centre(self.ir, scenario))
        port = self.server.agi_port
        backend = SimBackend(sim, app_queue=self.ami.app_queue,
                             answered=agent_leg("127.0.0.1", port, timeout=CALL_TIMEOUT_S,
                                                caller_number=number))
        line = CallerLine(script=FLOW, channel=channel, uniqueid=call_id, callerid=number,
                          dnid=DIALLED, language="en-US", extension=DIALLED)
        try:
            report = await AgiCaller("127.0.0.1", port, backend, line,
                                     timeout=CALL_TIMEOUT_S).run()
        except PeerError as exc:
            raise BenchError(f"call {call_id} failed: {exc}\n{self.server.log_tail()}") \
                from None
        agent = backend.variables.get("MEMBERNAME")
        if report.closed_by != "server" or not agent:
            raise BenchError(f"call {call_id} was not answered by an agent "
                             f"(QUEUESTATUS {backend.variables.get('QUEUESTATUS')}, closed by "
                             f"{report.closed_by}): {report.commands[-3:]}\n"
                             f"{self.server.log_tail()}")
        return agent

    async def calls(self, count: int) -> list[tuple[str, str]]:
        """`count` calls, CONCURRENCY at once; (call id, agent) of each."""
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one() -> tuple[str, str]:
            async with gate:
                self.sequence += 1
                n = self.sequence
                return f"1797100000.{n}", await self.call(n)

        try:
            async with asyncio.TaskGroup() as group:  # one failing cancels the rest
                tasks = [group.create_task(one()) for _ in range(count)]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]


@dataclass
class Round:
    kind: str  # "pages" or "closed"
    calls: int
    seconds: float
    cpu_s: float  # the server's
    peer_cpu_s: float  # this process's

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu_s * 1000 / self.calls


@dataclass
class Results:
    rounds: list[Round] = field(default_factory=list)
    kernel_ms: list[float] = field(default_factory=list)
    parsed_ms: list[float] = field(default_factory=list)
    pop_bytes: list[int] = field(default_factory=list)
    logins_s: list[float] = field(default_factory=list)
    first_connect_failed: int = 0  # of AGENTS pages connecting all at once
    reconnect_failed: int = 0  # pages connecting in batches of CONNECT_BATCH, every round
    connect_s: list[float] = field(default_factory=list)  # AGENTS pages, batched
    drop_s: list[float] = field(default_factory=list)  # ccf serve dropping 200 closed pages
    stray_pops: int = 0
    with_customer: int = 0  # pops carrying the caller's CRM record
    with_recent: int = 0  # pops listing the caller's earlier calls
    coalesced: int = 0  # pops read together with later bytes (their time an upper bound)


async def timed(peer: Peer, kind: str, calls: int) -> tuple[Round, list[tuple[str, str]]]:
    cpu, peer_cpu = peer.server.cpu_s(), time.process_time()
    began = time.perf_counter()
    answered = await peer.calls(calls)
    seconds = time.perf_counter() - began
    return Round(kind, calls, seconds, peer.server.cpu_s() - cpu,
                 time.process_time() - peer_cpu), answered


async def collect_pops(peer: Peer, pages: Pages, answered: list[tuple[str, str]],
                       results: Results) -> None:
    """Each answered call's pop to the agent who answered, matched with its
    AgentCalled; void when one did not come within POP_WAIT_S."""
    wanted = set(answered)
    pops: list[Pop] = []
    deadline = time.monotonic() + POP_WAIT_S
    while True:
        pops += await pages.pops()
        if wanted <= {(p.call_id, p.agent) for p in pops} or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    seen: dict[tuple[str, str], Pop] = {}
    for pop in pops:
        key = (pop.call_id, pop.agent)
        offered = peer.offered.get(key)
        if offered is None:
            results.stray_pops += 1
            continue
        seen.setdefault(key, pop)
        results.kernel_ms.append(((pop.kernel_s or pop.parsed_s) - offered) * 1000)
        results.parsed_ms.append((pop.parsed_s - offered) * 1000)
        results.pop_bytes.append(pop.size)
        results.with_customer += pop.customer
        results.with_recent += pop.recent > 0
        results.coalesced += pop.coalesced
    missing = wanted - set(seen)
    if missing:
        raise BenchError(f"{len(missing)} of {len(wanted)} answered calls' pops never reached "
                         f"the agent's page, e.g. {sorted(missing)[:3]}")


async def measure(folder: Path, results: Results, profile: str | None = None) -> Server:
    from doubles.ami_server import AmiPeer

    from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE, render_dialplan
    from ccdsl.runtime.testing.peer.app_queue import Phone

    ami = AmiPeer(users={"ccf": SECRET}, queues=("ccf-service",))
    await ami.start()
    server = Server(folder, profile)
    pages: Pages | None = None
    read_by: ReadBy | None = None
    try:
        config, ir = write_centre(folder, ami.port)
        bundle = SimpleNamespace(flows={FLOW: ir}, numbers=config.numbers)
        ami.app_queue.load_conf(render_dialplan(config, bundle)[QUEUES_FILE])
        # callers behind the head ring free members too ([general] autofill =
        # yes): without it the peer's virtual clock times out the callers
        # waiting behind the head while the head's ring takes real time
        ami.app_queue.autofill = True
        # every phone answers after 2 s of ringing and talks 30 s (virtual time)
        ami.app_queue.default_phone = Phone(answer_after_ms=2_000, talk_ms=30_000)
        (folder / "read.count").write_bytes(b"\0" * 16)
        read_by = ReadBy(folder / "read.count")
        ami.app_queue.listeners.append(read_by.on_event)
        ami.app_queue.settle = read_by.settle  # type: ignore[method-assign]
        await server.started()
        members = ami.app_queue.queues["ccf-service"].members
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(members) < AGENTS:
            server.check()
            if time.monotonic() > deadline:
                raise BenchError(f"only {len(members)} of {AGENTS} agents joined ccf-service")
            await asyncio.sleep(0.05)
        await read_by.quiet()
        peer = Peer(ami, ir, server, read_by)
        ami.app_queue.listeners.insert(0, peer.on_event)
        agents = [agent_id(i) for i in range(1, AGENTS + 1)]
        cookies, results.logins_s = await log_in(server.web_port, agents)
        pages = Pages(folder, server.web_port)
        pages.start(cookies)
        # all at once first, as 200 browsers reconnecting after a restart would
        results.first_connect_failed, _ = await pages.open(AGENTS)
        opened = True
        await read_by.streams_become(AGENTS)
        await peer.calls(WARMUP_CALLS)
        await asyncio.sleep(0.5)
        await pages.pops()
        per_round = CALLS // ROUNDS
        # pages, closed, closed, pages, ...: a drift over the run (the store
        # growing) weighs on both kinds alike
        order = [("pages", "closed"), ("closed", "pages")]
        for i in range(ROUNDS):
            for kind in order[i % 2]:
                if kind == "pages" and not opened:
                    failed, seconds = await pages.open(CONNECT_BATCH)
                    results.connect_s.append(seconds)
                    results.reconnect_failed += failed
                    opened = True
                    await read_by.streams_become(AGENTS)
                    await asyncio.sleep(0.2)
                    await pages.pops()  # none: no call is running
                elif kind == "closed" and opened:
                    await pages.close()
                    opened = False
                    results.drop_s.append(await read_by.streams_become(0))
                round_, answered = await timed(peer, kind, per_round)
                results.rounds.append(round_)
                if kind == "pages":
                    await collect_pops(peer, pages, answered, results)
        return server
    finally:
        if pages is not None:
            pages.stop()
        server.stop()
        if read_by is not None:
            read_by.close()
        await ami.stop()


# ---- the report -------------------------------------------------------------------------


def print_report(results: Results, server: Server, wall_s: float) -> None:
    pages = [r for r in results.rounds if r.kind == "pages"]
    closed = [r for r in results.rounds if r.kind == "closed"]
    with_ms = statistics.median(r.cpu_ms_per_call for r in pages)
    without_ms = statistics.median(r.cpu_ms_per_call for r in closed)
    k, p = results.kernel_ms, results.parsed_ms
    print(f"{'':44} {'min':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for name, values in (("pop latency to the page socket, ms", k),
                         ("  to the pages process parsing it, ms", p)):
        print(f"{name:44} " + " ".join(f"{percentile(values, q):>8.1f}"
                                        for q in (0.0, 0.5, 0.9, 0.99, 1.0)))
    print()
    print(f"{'':44} {'pages on':>11} {'closed':>11} {'on/closed':>10}")
    rows = (
        ("ccf serve CPU per call, ms (median round)", "{:.2f}", with_ms, without_ms),
        ("  lowest round", "{:.2f}", min(r.cpu_ms_per_call for r in pages),
         min(r.cpu_ms_per_call for r in closed)),
        ("  highest round", "{:.2f}", max(r.cpu_ms_per_call for r in pages),
         max(r.cpu_ms_per_call for r in closed)),
        ("calls/s (median round)", "{:.0f}", statistics.median(r.calls / r.seconds for r in pages),
         statistics.median(r.calls / r.seconds for r in closed)),
        ("peer CPU per call, ms (this process)", "{:.2f}",
         statistics.median(r.peer_cpu_s * 1000 / r.calls for r in pages),
         statistics.median(r.peer_cpu_s * 1000 / r.calls for r in closed)),
    )
    for name, fmt, a, b in rows:
        print(f"{name:44} {fmt.format(a):>11} {fmt.format(b):>11} {a / b:>10.2f}")
    added = with_ms - without_ms
    print(f"{'added by 200 open pages, ms per call':44} {added:>11.2f}")
    print()
    logins, logins_wall = results.logins_s[:-1], results.logins_s[-1]
    notes = [
        f"{AGENTS} agents, each a console user logged in over HTTP and on GET /live (raw "
        f"sockets); {ROUNDS} rounds of {CALLS // ROUNDS} calls with the pages open "
        f"({len(k)} pops measured, {CALLS} calls) alternating with {ROUNDS} rounds with them "
        f"closed, {CONCURRENCY} calls at once, {WARMUP_CALLS} warm-up calls first. A pop: "
        f"the AMI double writing AgentCalled to the `pop` event at the agent's socket "
        f"(kernel receive time); median pop event {statistics.median(results.pop_bytes):.0f} "
        f"bytes, {results.with_customer} of {len(k)} with the caller's CRM record, "
        f"{results.with_recent} with earlier calls; {results.coalesced} pops were read together "
        f"with later bytes, so their time is an upper bound (a read's receive time is its "
        f"last segment's). Whole bench {wall_s:.1f} s.",
        f"{AGENTS} log-ins (POST /login, {LOGINS_AT_ONCE} at once) took {logins_wall:.1f} s, "
        f"{logins_wall / AGENTS * 1000:.0f} ms each, p50 "
        f"{percentile(logins, 0.5) * 1000:.0f} ms a request (the scrypt check runs in a thread, "
        f"off ccf serve's event loop; two cores share it). "
        f"{AGENTS} pages connecting at once: {results.first_connect_failed} closed before "
        f"their state by the [api] max_unauthenticated gate (tried again one by one); in "
        f"batches of {CONNECT_BATCH}: {results.reconnect_failed} over {ROUNDS} reconnects, "
        f"{statistics.median(results.connect_s):.2f} s for all {AGENTS} (median). "
        f"ccf serve dropped {AGENTS} closed pages' streams within "
        f"{max(results.drop_s):.2f} s.",
    ]
    if results.stray_pops:
        notes.append(f"{results.stray_pops} pops named a call and agent the queue never rang.")
    if server.stats:
        notes.append(f"ccf serve's live feed published {server.stats.get('published')} "
                     f"changes; {server.stats.get('subscribers')} streams open at the end.")
    logged = server.log_lines()
    if logged:
        notes.append(f"ccf serve logged {len(logged)} lines; the last: {logged[-1]}")
    print_notes(notes)
    print()
    p99 = percentile(k, 0.99)
    keep("console", {
        "pop_ms": {f"p{round(q * 100)}": round(percentile(k, q), 2)
                   for q in (0.0, 0.5, 0.9, 0.99, 1.0)},
        "pop_parsed_ms_p99": round(percentile(p, 0.99), 2),
        "serve_cpu_ms_per_call_pages_on": round(with_ms, 3),
        "serve_cpu_ms_per_call_pages_closed": round(without_ms, 3),
        "added_ms_per_call_by_pages": round(added, 3),
        "agents": AGENTS, "calls": CALLS, "target_p99_ms": TARGET_P99_MS,
        "wall_s": round(wall_s, 1)})
    print(f"target: pop p99 under {TARGET_P99_MS:.0f} ms to the page with {AGENTS} pages open: "
          f"{'met' if p99 < TARGET_P99_MS else 'NOT met'} ({p99:.1f} ms)")


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--serve"] and len(args) == 2:
        return serve(args[1])
    if args[:1] == ["--pages"] and len(args) == 3:
        raise_fd_limit(FDS)
        asyncio.run(_pages(Path(args[1]), int(args[2])))
        return 0
    raise_fd_limit(FDS)
    started = time.perf_counter()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"ccf serve, the peer and the pages in three processes")
    results = Results()
    with tempfile.TemporaryDirectory(prefix="ccf-bench-console-") as folder:
        profile = os.path.join(folder, "serve.prof") if "--profile" in args else None
        try:
            server = asyncio.run(measure(Path(folder), results, profile))
        except BenchError as exc:
            print(f"the benchmark is void: {exc}", file=sys.stderr)
            return 1
        print()
        print_report(results, server, time.perf_counter() - started)
        if profile:
            print("\nccf serve under cProfile (the figures above carry its overhead):")
            print_profile(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
