"""`call.queue_wait` in `on answered by agent` counts the wait that the answer ends: the
screen pop an agent sees for a queue call says how long the caller waited, not 0:00."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from scripted_channel import History

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import CallInfo
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import EventList
from ccdsl.runtime.core.interpreter import run_call
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.core.queues import queue_configs
from ccdsl.runtime.core.services import RuntimeConfig, Services
from ccdsl.runtime.sim import AgentScript, HangUp, Press, ScriptedCaller, SimCentre, SimChannel
from ccdsl.runtime.sim.channel import StepWatch

HOTLINE = Path(__file__).resolve().parents[2] / "examples" / "iws" / "hotline.ccf"
T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: the office is open


def test_the_pop_of_a_queue_call_carries_the_wait_it_ended(tmp_path: Path) -> None:
    result = compile_file(str(HOTLINE))
    assert result.ok and result.ir is not None
    clock = VirtualClock(T0)
    centre = SimCentre([(Agent(id="zhang", extension="8001", skills={"general": 8}),
                         AgentScript(answer_after_ms=4_000))],
                       queues=queue_configs(result.ir).values(), now=T0)
    info = CallInfo("c1", "+8613900000001", None, "4008001234", T0, "sim/1")
    channel = SimChannel(info, clock, ScriptedCaller((Press("0"), HangUp(after_ms=30_000))),
                         centre)
    events = EventList()
    crm = SqliteCRM(":memory:")
    services = Services(clock=clock, crm=crm, centre=centre, history=History(),
                        sink=StepWatch(events, channel),
                        config=RuntimeConfig(recordings_dir=str(tmp_path)))
    try:
        asyncio.run(run_call(load_program(result.ir), channel, services))
    finally:
        crm.close_now()
    joined = next(e for e in events.events if e.kind == "queue_joined")
    answered = next(e for e in events.events if e.kind == "agent_answered")
    pop = next(e for e in events.events if e.kind == "screen_pop")
    waited_ms = int((answered.at - joined.at).total_seconds() * 1000)
    assert waited_ms >= 4_000  # the agent let it ring 4 s
    call = next(item for item in pop.data["data"] if item and item.get("kind") == "call")
    assert call["queue_wait"] == {"duration_ms": waited_ms}
    # and the call's total is still the one wait, counted once
    ended = next(e for e in events.events if e.kind == "call_ended")
    left = next(e for e in events.events if e.kind == "queue_left")
    assert ended.data["queue_wait_ms"] == left.data["wait_ms"]
