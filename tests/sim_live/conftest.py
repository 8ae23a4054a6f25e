"""The real-time simulated centre's world for tests: a small flow, agents, a CRM, a call store."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from asterisk.centre import WAIT_S

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.events import EventList, FanOut
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.live_calls import StatusTracker
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim.live_centre import SimLiveCentre

HERE = Path(__file__).parent
SPEED = 400.0  # a minute of the centre's time in 0.15 s

AGENTS = """# the test centre's agents
[[agents]]
id = "ann"
name = "Ann"
skills = { general = 5 }
answer_after = "2s"
wrapup = { reason = "sale" }

[[agents]]
id = "bob"
name = "Bob"
skills = { tech = 5 }
state = "offline"
answer_after = "2s"
"""


class World:
    def __init__(self, tmp: Path, humans: set[str]) -> None:
        result = compile_file(str(HERE / "flows" / "live.ccf"))
        assert result.ok, result.diagnostics
        self.program = load_program(result.ir, validate=False)
        self.agents_path = tmp / "agents.toml"
        self.agents_path.write_text(AGENTS, encoding="utf-8")
        self.crm = SqliteCRM(str(tmp / "crm.db"))
        self.crm.upsert("customer", [{"id": "C1", "name": "Chen", "phone": "+8613800000001"}])
        self.store = CallStore(str(tmp / "calls.db"))
        self.tracker = StatusTracker()
        self.events = EventList()
        self.humans = humans
        self.centre = SimLiveCentre(
            {"live": self.program}, load_agents(str(self.agents_path)), crm=self.crm,
            sink=FanOut(self.store, self.tracker, self.events), calls_per_minute=0, seed=1,
            human=lambda agent: agent in self.humans, speed=SPEED,
            agents_path=str(self.agents_path), history=self.store, tracker=self.tracker,
            new_call_id=lambda: self.store.reserve_call_id("live-"), talk_s=(20, 20),
            patience_s=(600, 600))

    def kinds(self, call_id: str) -> list[str]:
        return [e.kind for e in self.events.events if e.call_id == call_id]

    def of(self, call_id: str, kind: str) -> list[dict]:
        return [e.data for e in self.events.events if e.call_id == call_id and e.kind == kind]

    async def until(self, test, timeout: float = WAIT_S) -> None:
        """Wait (real seconds) until test() is true."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not test():
            if loop.time() > end:
                raise AssertionError("timed out waiting")
            await asyncio.sleep(0.005)

    def close(self) -> None:
        self.store.close()
        self.crm.close_now()


@pytest.fixture
def world(tmp_path):
    made: list[World] = []

    def make(humans=()) -> World:
        w = World(tmp_path, set(humans))
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()
    assert os.path.exists(tmp_path / "calls.db") or not made
