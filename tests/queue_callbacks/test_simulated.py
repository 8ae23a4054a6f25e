"""`ccf serve --simulate` dials in-queue call-backs too: a request of the `sales`
queue is taken by its free member (ring the agent, then the customer, with
`ccf callback`'s SimOriginator on the centre's clock), the outcome stored and
linked to the call that booked it; a customer who never answers is given its
attempts, then failed."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.console.sim_serve import SimOptions, SimulatedConsole
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.callback_policy import CallbackPolicy
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.store import CallStore
from queue_callbacks.world import booked, rows
from tests.sim_live.conftest import AGENTS, HERE


def run_centre(tmp_path: Path, options: SimOptions, until) -> CallStore:
    program = load_program(compile_file(str(HERE / "flows" / "live.ccf")).ir)
    (tmp_path / "agents.toml").write_text(AGENTS, encoding="utf-8")
    store = CallStore(tmp_path / "calls.db", wait_s=0.25)
    # the call that booked it two minutes ago, hung up since
    booked(store, "c1", queue="sales", start=datetime.now(UTC) - timedelta(minutes=2))
    store.flush()

    async def go():
        crm = SqliteCRM(str(tmp_path / "crm.db"))
        console = SimulatedConsole({"live": program}, load_agents(str(tmp_path / "agents.toml")),
                                   crm, store, ConsoleSettings(users=str(tmp_path / "u.json")),
                                   options)
        await console.start()
        try:
            deadline = time.monotonic() + 15
            while not until(rows(store)):
                assert time.monotonic() < deadline, rows(store)
                await asyncio.sleep(0.05)
        finally:
            await console.stop()
            await crm.close()

    asyncio.run(go())
    return store


def test_the_simulated_centre_calls_back_with_a_free_member_of_the_queue(tmp_path: Path):
    store = run_centre(tmp_path, SimOptions(calls_per_minute=0, speed=50.0, port=0),
                       lambda found: found and found[0]["status"] == "done")
    (row,) = rows(store)
    assert (row["agent"], row["outcome"], row["attempts"]) == ("ann", "answered", 1)
    (event,) = store.query("SELECT source, call_id, data FROM centre_events "
                           "WHERE kind = 'callback'")
    data = json.loads(event["data"])
    assert (event["source"], event["call_id"]) == ("sim", "c1")  # linked to the call
    assert (data["agent"], data["number"], data["status"]) == ("ann", "+8613800000001", "done")
    store.close()


def test_a_customer_who_never_answers_is_failed_after_the_attempts(tmp_path: Path):
    options = SimOptions(calls_per_minute=0, speed=50.0, port=0, customer_answer_ms=None,
                         callbacks=CallbackPolicy(attempts=1))
    store = run_centre(tmp_path, options, lambda found: found and found[0]["status"] == "failed")
    (row,) = rows(store)
    assert (row["agent"], row["outcome"], row["attempts"]) == ("ann", "no_answer", 1)
    assert "did not answer" in row["reason_text"]
    store.close()
