"""An in-queue call-back from the key to the dial in `ccf serve --simulate` (issue 13): the
simulated centre's waiting callers hear the queue's messages and position on the
simulator's schedule and may press its keys; a caller who presses 2 after the offer books
a call-back (one pending row, its place in line), which the dialler makes once the
queue's member is free (ring the agent, then the customer), linked to the call and shown
by `ccf calls callbacks` and `ccf report`. Generated callers press the call-back key now
and then, the same way under the same seed."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from ccf_cli import ccf

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.console.sim_serve import SimOptions, SimulatedConsole
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.sim.caller import Press, ScriptedCaller
from ccdsl.runtime.sim.live_in_queue import (
    CALLBACK_SHARE,
    OTHER_KEY_SHARE,
    InQueueChoices,
    caller_rng,
    queue_keys,
)
from queue_callbacks.world import rows
from tests.sim_live.conftest import AGENTS

CALLER = "+8613800000001"
FLOW = """\
flow wait:
  languages en-US

prompt offer:
  en-US tts "Press 2 to be called back."

prompt booked:
  en-US tts "We will call you back."

queue service:
  skills [general]
  max_wait 10m
  announce_position every 30s
  messages [offer] every 60s
  press 1 -> log "pressed 1"
  press 2:
    callback reason "asked in the queue"
    play booked
    hangup

on start:
  answer
  queue service
  hangup
"""


def program(tmp_path: Path):
    (tmp_path / "wait.ccf").write_text(FLOW, encoding="utf-8")
    result = compile_file(str(tmp_path / "wait.ccf"))
    assert result.ok, result.diagnostics
    return load_program(result.ir)


def console(tmp_path: Path, options: SimOptions) -> tuple[SimulatedConsole, CallStore]:
    (tmp_path / "agents.toml").write_text(AGENTS, encoding="utf-8")
    store = CallStore(tmp_path / "calls.db", wait_s=0.25)
    crm = SqliteCRM(str(tmp_path / "crm.db"))
    return SimulatedConsole({"wait": program(tmp_path)}, load_agents(str(tmp_path / "agents.toml")),
                            crm, store, ConsoleSettings(users=str(tmp_path / "u.json")),
                            options), store


async def until(test, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (found := test()):
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        await asyncio.sleep(0.02)
    return found


def test_a_caller_who_presses_2_in_the_simulated_queue_is_called_back(tmp_path: Path) -> None:
    sim, store = console(tmp_path, SimOptions(calls_per_minute=0, speed=50.0, port=0))

    async def go():
        await sim.start()
        try:
            centre = sim.centre
            await centre.agent_pause("ann", True, "break")  # nobody free: the caller waits
            call_id = centre.place_call("wait", CALLER,
                                        keys=ScriptedCaller([Press("2", after_ms=65_000)]))
            (pending,) = await until(lambda: rows(store), "the call-back's row")
            listed = ccf("calls", "callbacks", "--store", str(store.path), "--format", "json")
            await centre.agent_pause("ann", False, None)  # ann free: the dialler's turn
            await until(lambda: (r := rows(store)) and r[0]["status"] == "done",
                        "the call-back made")
            return call_id, pending, listed
        finally:
            await sim.stop()
            await sim.crm.close()

    call_id, pending, listed = asyncio.run(go())
    store.flush()
    events = [(e["kind"], json.loads(e["data"])) for e in store.query(
        "SELECT kind, data FROM events WHERE call_id = ? ORDER BY seq", (call_id,))]
    # the caller heard the position at 30 s and 60 s, and the offer at 60 s
    queued = [d for k, d in events if k == "prompt_played" and d.get("queue") == "service"]
    assert [("position" in d, d.get("prompt")) for d in queued] == [
        (True, None), (True, None), (False, "offer")]
    (key,) = [d for k, d in events if k == "queue_key"]
    assert (key["queue"], key["key"]) == ("service", "2")
    assert 64_000 <= key["waited_ms"] <= 67_000
    (requested,) = [d for k, d in events if k == "callback_requested"]
    joined = next(e for e in store.query("SELECT at FROM events WHERE call_id = ? AND kind = "
                                         "'queue_joined'", (call_id,)))
    assert requested["joined_at"] == joined["at"]
    # one pending row with the caller's place, listed while pending
    assert (pending["call_id"], pending["queue"], pending["number"], pending["status"],
            pending["priority"], pending["joined"]) == (
        call_id, "service", CALLER, "pending", 0, requested["joined_at"])
    assert listed.exit_code == 0, listed.output
    assert [(r["call_id"], r["status"]) for r in json.loads(listed.stdout)] == \
        [(call_id, "pending")]
    # made by ann once free: stored and linked to the call
    (row,) = rows(store)
    assert (row["agent"], row["outcome"], row["attempts"]) == ("ann", "answered", 1)
    (made,) = store.query("SELECT call_id, data FROM centre_events WHERE kind = 'callback'")
    assert made["call_id"] == call_id
    assert json.loads(made["data"])["status"] == "done"
    report = ccf("report", "--store", str(store.path), "--format", "json")
    assert report.exit_code == 0, report.output
    sections = json.loads(report.stdout)["sections"]
    assert [(c["queue"], c["key"], c["times"]) for c in sections["queue_choices"]] == \
        [("service", "2", 1)]
    assert [(c["queue"], c["requested"], c["completed"]) for c in sections["callbacks"]] == \
        [("service", 1, 1)]
    store.close()


def test_generated_callers_press_the_callback_key_and_are_called_back(tmp_path: Path) -> None:
    # one agent for many callers: they wait past the offer; some press 2
    sim, store = console(tmp_path, SimOptions(calls_per_minute=20, speed=150.0, port=0,
                                              seed=7))

    def done():
        store.flush()
        return store.query("SELECT * FROM queue_callbacks WHERE status = 'done'")

    async def go():
        await sim.start()
        try:
            await until(done, "a generated caller's call-back made", timeout=30)
        finally:
            await sim.stop()
            await sim.crm.close()

    asyncio.run(go())
    store.flush()
    keys = [json.loads(r["data"]) for r in store.query(
        "SELECT data FROM events WHERE kind = 'queue_key'")]
    assert keys and {k["key"] for k in keys} <= {"1", "2"}
    messages = store.query("SELECT data FROM events WHERE kind = 'prompt_played' "
                           "AND data LIKE '%\"prompt\":\"offer\"%'")
    assert messages
    (made, *_) = done()
    assert made["agent"] == "ann" and made["outcome"] == "answered"
    store.close()


def test_a_generated_callers_choices_in_queue_follow_the_seed(tmp_path: Path) -> None:
    keys = queue_keys(program(tmp_path).doc)
    assert {q: (k.keys, k.callback) for q, k in keys.items()} == {"service": (("1", "2"), ("2",))}

    def choices(seed: int, call: int) -> list:
        picks = InQueueChoices(keys, caller_rng(seed, call))
        return [picks.after_message("service") for _ in range(20)]

    assert choices(7, 3) == choices(7, 3)
    assert choices(7, 3) != choices(7, 4) and choices(7, 3) != choices(8, 3)
    many = [c for call in range(400) for c in choices(1, call)]
    pressed = [c[0] for c in many if c is not None]
    assert abs(pressed.count("2") / len(many) - CALLBACK_SHARE) < 0.02
    assert abs(pressed.count("1") / len(many) - OTHER_KEY_SHARE) < 0.01
    assert all(1.0 <= c[1] <= 4.0 for c in many if c is not None)
    assert InQueueChoices(keys, caller_rng(1, 1)).after_message("other") is None


def test_the_simulated_dialler_looks_once_a_second_of_the_centres_time(tmp_path: Path) -> None:
    # at 20 times the speed, a look a real second apart let the waiting callers take
    # every agent freed meanwhile: the demo's call-backs were never made
    sim, store = console(tmp_path, SimOptions(calls_per_minute=0, speed=20.0, port=0))

    async def go():
        await sim.start()
        try:
            return sim.dialler.poll_s
        finally:
            await sim.stop()
            await sim.crm.close()

    assert asyncio.run(go()) == 0.05
    store.close()
