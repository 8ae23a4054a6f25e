"""`ccf serve --simulate`: an in-queue call-back keeps its place in a queue that never
empties. Its turn comes while callers who joined later wait and the queue's one member is
on a call: the member is held (paused in that queue for the call-back, not shown as the
agent's pause), so when the call ends the call-back is made before any later caller is
served. A later caller of higher priority goes first; nobody stays held afterwards."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.console.sim_serve import SimOptions, SimulatedConsole
from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.callback_policy import CallbackPolicy
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim.caller import ScriptedCaller
from queue_callbacks.test_simulated_end_to_end import until
from queue_callbacks.world import booked, rows
from tests.sim_live.conftest import AGENTS

FLOW = """\
flow {name}:
  languages en-US

queue service:
  skills [general]
  max_wait 10m

on start:
  answer
  queue service priority {priority}
  hangup
"""


def program(tmp_path: Path, name: str, priority: int):
    path = tmp_path / f"{name}.ccf"
    path.write_text(FLOW.format(name=name, priority=priority), encoding="utf-8")
    result = compile_file(str(path))
    assert result.ok, result.diagnostics
    return load_program(result.ir)


def run(tmp_path: Path, *, urgent: bool = False, options: SimOptions | None = None,
        ended: str = "done"):
    """ann on a call with an early caller; the request booked (joined two
    minutes ago); two later callers waiting (the second of priority 5 when
    `urgent`) until the request is `ended`. The store, the later calls' ids,
    and ann's states and the holds seen meanwhile."""
    (tmp_path / "agents.toml").write_text(AGENTS, encoding="utf-8")
    store = CallStore(tmp_path / "calls.db", wait_s=0.25)
    crm = SqliteCRM(str(tmp_path / "crm.db"))
    flows = {"wait": program(tmp_path, "wait", 0), "urgent": program(tmp_path, "urgent", 5)}
    sim = SimulatedConsole(flows, load_agents(str(tmp_path / "agents.toml")), crm, store,
                           ConsoleSettings(users=str(tmp_path / "u.json")),
                           options or SimOptions(calls_per_minute=0, speed=50.0, port=0))
    seen: dict[str, set] = {"states": set(), "held": set()}

    async def go():
        await sim.start()
        try:
            centre = sim.centre
            centre.place_call("wait", "+8613900000001", keys=ScriptedCaller([]))
            await until(lambda: centre.centre.pool.get("ann").state == AgentState.BUSY,
                        "ann on the early call")
            booked(store, "c1", queue="service", start=centre.clock.now() - timedelta(minutes=2))
            store.flush()
            later = [centre.place_call("wait", "+8613900000002", keys=ScriptedCaller([])),
                     centre.place_call("urgent" if urgent else "wait", "+8613900000003",
                                       keys=ScriptedCaller([]))]

            def held() -> dict:  # (getattr: the test ran before the holds too)
                return getattr(centre.centre, "held", {})

            def watch():
                seen["states"].add(centre.centre.pool.get("ann").state)
                seen["held"].add(frozenset(a for q in held().values() for a in q))
                return (r := rows(store)) and r[0]["status"] == ended

            await until(watch, f"the call-back {ended}", timeout=30)
            await asyncio.sleep(0.1)  # the hold released as the dial ends
            seen["after"] = {q: set(a) for q, a in held().items() if a}
            return later
        finally:
            await sim.stop()
            await crm.close()

    later = asyncio.run(go())
    store.flush()
    return store, later, seen


def answered_ms(store: CallStore, call_id: str) -> list[int]:
    return [int(datetime.fromisoformat(e["at"]).timestamp() * 1000) for e in store.query(
        "SELECT at FROM events WHERE call_id = ? AND kind = 'agent_answered'", (call_id,))]


def made_ms(store: CallStore) -> int:
    (event,) = store.query("SELECT at, data FROM centre_events WHERE kind = 'callback'")
    assert json.loads(event["data"])["agent"] == "ann"
    return int(datetime.fromisoformat(event["at"]).timestamp() * 1000)


def test_the_call_back_is_made_before_later_callers_are_served(tmp_path: Path) -> None:
    store, later, seen = run(tmp_path)
    (row,) = rows(store)
    assert (row["agent"], row["outcome"]) == ("ann", "answered")
    made = made_ms(store)
    for call_id in later:  # nobody who joined later was served before it
        assert all(at >= made - 1000 for at in answered_ms(store, call_id)), call_id
    # ann was held for it, and never shown paused (the hold is not her pause)
    assert frozenset({"ann"}) in seen["held"]
    assert AgentState.PAUSED not in seen["states"]
    assert seen["after"] == {}
    store.close()


def test_a_later_caller_of_higher_priority_goes_first(tmp_path: Path) -> None:
    store, later, seen = run(tmp_path, urgent=True)
    made = made_ms(store)
    (urgent_answered, *_) = answered_ms(store, later[1])
    assert urgent_answered < made  # served first, as the queue serves them
    assert seen["after"] == {}
    store.close()


def test_a_failed_call_back_leaves_nobody_held(tmp_path: Path) -> None:
    options = SimOptions(calls_per_minute=0, speed=50.0, port=0, customer_answer_ms=None,
                         callbacks=CallbackPolicy(attempts=1))
    store, _, seen = run(tmp_path, options=options, ended="failed")
    (row,) = rows(store)
    assert (row["agent"], row["outcome"]) == ("ann", "no_answer")
    assert frozenset({"ann"}) in seen["held"] and seen["after"] == {}
    store.close()
