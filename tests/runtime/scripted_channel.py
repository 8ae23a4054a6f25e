"""A small scripted Channel for the interpreter's tests: the caller's key
presses are a list, agents answer or not by a table, and the clock is
virtual. It records what the flow did, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ccdsl.runtime.core.channel import (
    CallInfo,
    Conversation,
    DialOutcome,
    DialTarget,
    Digits,
    QueueOutcome,
    QueueRequest,
    Sound,
    TransferOutcome,
    VoicemailOutcome,
)
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.errors import CallHungUp

HANGUP = "HANGUP"  # a script entry: the caller hangs up at this read


@dataclass
class ScriptedChannel:
    """keys: one entry per read_digits: the keys typed ("" or None for
    silence), or HANGUP. When the script runs out the caller is silent.
    hang_up_after_ops: hang up at the Nth channel call (0: never)."""

    clock: VirtualClock
    keys: list[str | None] = field(default_factory=list)
    answering: dict[str, str] = field(default_factory=dict)  # agent/number -> dial status
    queue_agent: dict[str, str | None] = field(default_factory=dict)  # queue -> who answers
    transfer_status: str = "transferred"
    ended_by: str = "agent"
    hang_up_after_ops: int = 0
    wrapup: dict | None = None  # what answering agents enter on the wrap-up form
    info: CallInfo = field(default_factory=lambda: CallInfo(
        "call-1", "+8613800000001", None, "4001", datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        "sim/1"))
    log: list[tuple[str, object]] = field(default_factory=list)
    hung_up: bool = False
    ops: int = 0

    def _touch(self, what: str, data: object = None) -> None:
        if self.hung_up:
            raise CallHungUp("the caller is gone")
        self.ops += 1
        if self.hang_up_after_ops and self.ops >= self.hang_up_after_ops:
            self.hung_up = True
            raise CallHungUp("the caller hung up")
        self.log.append((what, data))

    def heard(self) -> list[str]:
        return [s.text for what, sounds in self.log if what in ("play", "read")
                for s in sounds]  # type: ignore[union-attr]

    async def answer(self) -> None:
        self._touch("answer")

    async def hangup(self) -> None:
        if not self.hung_up:
            self.log.append(("hangup", None))
        self.hung_up = True

    async def play(self, sounds: Sequence[Sound], *, interrupt_keys: str = "") -> str | None:
        self._touch("play", list(sounds))
        self.clock.advance(1000)
        return None

    async def read_digits(self, sounds: Sequence[Sound], *, max_digits: int, timeout_ms: int,
                          inter_digit_ms: int, end_key: str | None,
                          interruptible: bool = True) -> Digits:
        self._touch("read", list(sounds))
        entry = self.keys.pop(0) if self.keys else None
        if entry == HANGUP:
            self.hung_up = True
            raise CallHungUp("the caller hung up")
        if not entry:
            self.clock.advance(timeout_ms)
            return Digits("", True)
        typed = entry
        if end_key and end_key in typed:
            return Digits(typed.split(end_key, 1)[0][:max_digits], False)
        return Digits(typed[:max_digits], len(typed) < max_digits)

    async def say(self, kind: str, value: str, language: str, *,
                  words: str | None = None) -> None:
        self._touch("say", (kind, value, language))

    async def wait(self, ms: int, *, music: str | None = None) -> None:
        self._touch("wait", ms)
        self.clock.advance(ms)

    async def start_recording(self, path: str) -> None:
        self._touch("record", path)

    async def stop_recording(self) -> None:
        self._touch("stop_record")

    async def dial(self, target: DialTarget, *, ring_ms: int, on_answer,
                   caller_id: str | None = None) -> DialOutcome:
        self._touch("dial", target.id)
        status = self.answering.get(target.id, "no_answer")
        if status != "answered":
            self.clock.advance(ring_ms)
            return DialOutcome(status)  # type: ignore[arg-type]
        self.clock.advance(2000)
        await on_answer(target.id)
        self.clock.advance(60_000)
        return DialOutcome("answered", Conversation(target.id, 2000, 60_000, self.ended_by,
                                                    self.wrapup))  # type: ignore[arg-type]

    async def enqueue(self, request: QueueRequest, *, on_answer, on_ring=None,
                      on_announce=None) -> QueueOutcome:
        self._touch("enqueue", request)
        agent = self.queue_agent.get(request.queue)
        if agent is None:
            waited = request.max_wait_ms or 0
            self.clock.advance(waited)
            return QueueOutcome("timeout", waited, 1)
        self.clock.advance(5000)
        await on_answer(agent)
        self.clock.advance(60_000)
        return QueueOutcome("answered", 5000, 1,
                            Conversation(agent, 1000, 60_000, self.ended_by,  # type: ignore
                                         self.wrapup))

    async def transfer(self, target: DialTarget, *, mode, ring_ms: int, caller_id=None,
                       announce=()) -> TransferOutcome:
        self._touch("transfer", (target.id, mode))
        return TransferOutcome(self.transfer_status)  # type: ignore[arg-type]

    async def three_way(self, target: DialTarget, *, ring_ms: int, on_answer) -> DialOutcome:
        self._touch("three_way", target.id)
        status = self.answering.get(target.id, "no_answer")
        if status != "answered":
            return DialOutcome(status)  # type: ignore[arg-type]
        return DialOutcome("answered", Conversation(target.id, 1000, 10_000, "agent"))

    async def voicemail(self, mailbox: str, *, greeting: Sequence[Sound],
                        max_length_ms: int) -> VoicemailOutcome:
        self._touch("voicemail", mailbox)
        self.clock.advance(20_000)
        return VoicemailOutcome(True, mailbox, f"vm/{mailbox}-1.wav", 20_000)


class History:
    """The call store's last-agent answer, as a table."""

    def __init__(self, last: dict[str, str] | None = None) -> None:
        self.last = last or {}
        self.asked: list[tuple[str, object]] = []

    def last_agent(self, phone: str, since: datetime | None = None) -> str | None:
        self.asked.append((phone, since))
        return self.last.get(phone)


# -- running small flows in tests ------------------------------------------------------


def compile_flow(tmp_path, source: str, name: str = "flow", allow: frozenset = frozenset()):
    """Compile .ccf text (a file in tmp_path) and load its IR as a Program.
    `allow`: error codes lowered past, for the runtime's answer to what the
    checker refuses (an IR from elsewhere may hold it)."""
    from ccdsl.compiler.lower import lower_program
    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.compiler.symbols import program_scopes
    from ccdsl.runtime.core.ir import load_program

    path = tmp_path / f"{name}.ccf"
    path.write_text(source, encoding="utf-8")
    result = compile_file(str(path))
    left = [d for d in result.diagnostics if d.is_error and d.code not in allow]
    if allow and result.ir is None and not left and result.program is not None:
        return load_program(lower_program(result.program, program_scopes(result.program)))
    assert result.ir is not None, [f"{d.code} {d.message}" for d in result.diagnostics]
    return load_program(result.ir)


@dataclass
class Run:
    result: object
    events: list
    channel: ScriptedChannel

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.kind == kind]

    def logs(self) -> list[str]:
        return [e.data["message"] for e in self.of("log")]


def run_flow(program, *, keys=(), crm=None, agents=(), history=None, config=None,
             start: datetime | None = None, channel_type: type = ScriptedChannel,
             also=None, **channel_options) -> Run:
    """Run a flow over a ScriptedChannel (or a subclass: channel_type);
    `also` is a second event sink (a CallStore)."""
    import asyncio

    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.core.events import EventList
    from ccdsl.runtime.core.interpreter import run_call
    from ccdsl.runtime.core.services import RuntimeConfig, Services
    from ccdsl.runtime.sim.centre import SimCentre

    clock = VirtualClock(start or datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    from ccdsl.runtime.core.events import FanOut

    channel = channel_type(clock, keys=list(keys), **channel_options)
    sink = EventList()
    services = Services(clock=clock, crm=crm if crm is not None else SqliteCRM(":memory:"),
                        centre=SimCentre([(a, None) for a in agents]),
                        history=history or History(),
                        sink=sink if also is None else FanOut(sink, also),
                        config=config or RuntimeConfig())
    result = asyncio.run(run_call(program, channel, services))
    return Run(result, sink.events, channel)
