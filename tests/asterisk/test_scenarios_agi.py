"""The scenarios pass through `ccf serve` as they pass in the simulator:
every test block of examples/iws/hotline.test.ccf and tests/scenarios/*.ccf
runs over FastAGI (a FlowServer on 127.0.0.1, the test peer as Asterisk)
and its judged outcomes are the simulator's, expectation by expectation.
And the caller hangs up in every step of the hotline: each call ends with
a call record in the store, and the same server takes the next call."""

from __future__ import annotations

import asyncio
import dataclasses
from functools import cache
from pathlib import Path

import pytest
from scenario_runs import compiled, explain

from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.agents_file import AgentSpec
from ccdsl.runtime.sim.caller import HangUp, Press
from ccdsl.runtime.sim.scenario import Scenario
from ccdsl.runtime.sim.script import parse_at
from ccdsl.runtime.testing.runner import run_test
from ccdsl.runtime.testing.via_asterisk import AgiTestbed, run_test_over_agi

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = ROOT / "examples" / "iws" / "hotline.ccf"
FILES = [HOTLINE, *sorted((ROOT / "tests" / "scenarios").glob("*.ccf"))]
HANG_S = 60.0  # real seconds before a test gives up on what takes well under one: a hang


@cache
def program(path: str):
    return load_program(compiled(path), validate=False)


def all_tests() -> list:
    params = []
    for path in FILES:
        for index, test in enumerate(compiled(str(path))["tests"]):
            rel = path.relative_to(ROOT)
            params.append(pytest.param(str(path), index, id=f"{rel}::{test['name']}"))
    return params


def judged(result) -> list[tuple[str, int | None, bool]]:
    return [(o.expectation.describe(), o.expectation.loc.get("line"), o.passed)
            for o in result.outcomes]


def test_every_scenario_file_has_tests() -> None:
    assert len(all_tests()) >= 30
    assert any("hotline.ccf" in p.id for p in all_tests())


@pytest.mark.parametrize(("path", "index"), all_tests())
def test_the_scenario_passes_over_agi_as_in_the_simulator(path: str, index: int) -> None:
    ir = compiled(path)
    test = ir["tests"][index]
    simulated = run_test(ir, test, program=program(path))
    over_agi = run_test_over_agi(ir, test, program=program(path))
    assert simulated.passed
    assert over_agi.passed, explain(over_agi, "over AGI")
    assert judged(over_agi) == judged(simulated)
    assert judged(over_agi), "a test block with nothing to judge proves nothing"
    # the same call, event by event and to the millisecond of the virtual clock
    assert [(e.kind, e.at) for e in over_agi.events] == \
        [(e.kind, e.at) for e in simulated.events]


# ---- call control: transfers, three-way calls, SAY, music, recording ------------------

DESK = '''\
flow desk:
  languages en-US

prompt choices:
  en-US tts "For a transfer press 1, for an agent press 2, for a specialist press 3."

on start:
  answer
  record call
  say digits caller.number
  say number 42
  wait 1s music "default"
  wait 500ms
  stop recording
  menu retries 1 timeout 3s:
    prompt choices
    1 -> goto blind
    2 -> goto attended
    3 -> goto three
    timeout, invalid -> play tts "No choice."
    exhausted -> hangup

step blind:
  transfer number "+862150001234"

step attended:
  transfer agent "zhang" attended timeout 30s on error -> goto sorry

step three:
  three_way number "+8613800000009" timeout 20s on error -> goto sorry
  play tts "Goodbye."
  hangup

step sorry:
  play tts "Sorry, nobody can take your call."
  hangup

test "a blind transfer to the front desk":
  call from "+8613800000001"
  press "1"
  expect transfer to "+862150001234"
  expect not hangup

test "an attended transfer the agent takes":
  agent zhang extension "8001" state "available"
  call from "+8613800000001"
  press "2"
  expect transfer to "zhang"
  expect not heard "Sorry"

test "an attended transfer nobody answers":
  agent zhang state "ringing-no-answer"
  call from "+8613800000001"
  press "2"
  expect not transfer
  expect heard "Sorry"
  expect hangup

test "an attended transfer to an agent who is offline":
  agent zhang state "offline"
  call from "+8613800000001"
  press "2"
  expect heard "Sorry"

test "a specialist joins":
  call from "+8613800000001"
  press "3"
  expect heard "Goodbye"
  expect not heard "Sorry"

test "nothing pressed":
  call from "+8613800000001"
  silence 10s
  expect heard "No choice"
  expect hangup

test "the caller hangs up while the numbers are said":
  call from "+8613800000001"
  hangup after 1s
  expect not hangup
  expect not transfer
'''


def test_call_control_passes_over_agi_as_in_the_simulator(tmp_path) -> None:
    path = tmp_path / "desk.ccf"
    path.write_text(DESK, encoding="utf-8")
    ir = compiled(str(path))
    assert len(ir["tests"]) == 7
    for test in ir["tests"]:
        simulated = run_test(ir, test)
        over_agi = run_test_over_agi(ir, test)
        assert simulated.passed, test["name"]
        assert over_agi.passed, explain(over_agi, "over AGI")
        assert judged(over_agi) == judged(simulated)
        # the same call, step by step and to the millisecond
        assert [(e.kind, e.at) for e in over_agi.events] == \
            [(e.kind, e.at) for e in simulated.events], test["name"]


# ---- the caller hangs up in every step of the hotline --------------------------------

SHANGHAI_DAY = "2026-11-30 10:00 Asia/Shanghai"
SHANGHAI_NIGHT = "2026-11-28 22:00 Asia/Shanghai"
# how a caller reaches each step: when, who is there, what they press first
ROUTES = {
    "main_menu": (SHANGHAI_DAY, (), ()),
    "order_lookup": (SHANGHAI_DAY, (), (Press("1"),)),
    "tech_support": (SHANGHAI_DAY, (("wang", "available", ("tech",)),), (Press("2"),)),
    "agent": (SHANGHAI_DAY, (("li", "available", ("general",)),), (Press("0"),)),
    "after_agent": (SHANGHAI_DAY, (("li", "busy", ("general",)),), (Press("0"),)),
    "offer_callback": (SHANGHAI_DAY, (("li", "busy", ("general",)),),
                       (Press("0"), Press("2"))),
    "after_hours": (SHANGHAI_NIGHT, (), ()),
    "owner_voicemail": (SHANGHAI_NIGHT, (), ()),
}


def hang_up_in(step: str, after_ms: int | None) -> Scenario:
    at, agents, presses = ROUTES[step]
    return Scenario(
        name=f"hang up in {step}", loc={}, start=parse_at(at), caller="+8613900000000",
        agents=tuple(AgentSpec(id=a, name=a, state=s, skills=dict.fromkeys(sk, 1))
                     for a, s, sk in agents),
        actions=(*presses, HangUp(after_ms=after_ms, in_step=step)))


def test_the_caller_hangs_up_in_every_step_and_the_server_serves_on(tmp_path) -> None:
    ir = compiled(str(HOTLINE))
    assert set(ROUTES) == set(ir["steps"]), "a new step of the hotline needs a route here"

    async def main():
        bed = AgiTestbed(program(str(HOTLINE)), ir, workdir=str(tmp_path))
        await bed.start()
        runs = []
        try:
            for step in ROUTES:
                for after_ms in (None, 1_500):
                    runs.append((step, after_ms, await bed.call(hang_up_in(step, after_ms))))
            # and an ordinary call after all that: the same server takes it
            last = dataclasses.replace(hang_up_in("main_menu", None), actions=(Press("9"),))
            runs.append(("-", None, await bed.call(last)))
            records = [bed.store.call(run.result.call_id) for _, _, run in runs]
            served = bed.server.served
        finally:
            await bed.stop()
        return runs, records, served

    runs, records, served = asyncio.run(main())
    assert served == len(runs) == 2 * len(ROUTES) + 1
    for (step, after_ms, run), record in zip(runs, records, strict=True):
        kinds = [e.kind for e in run.events]
        assert kinds[0] == "call_started" and kinds[-1] == "call_ended", step
        assert record is not None and record["outcome"], (step, record)
        if step == "-":
            assert run.result.hung_up_by != "caller"
            continue
        entered = [e.data["step"] for e in run.events if e.kind == "step_entered"]
        assert step in entered, (step, entered)
        hangup = [e for e in run.events if e.kind == "hangup"][-1]
        assert run.result.hung_up_by == "caller", (step, after_ms, run.result)
        assert run.result.outcome in ("hangup", "abandoned", "voicemail"), (step, run.result)
        if after_ms is None:
            assert hangup.data["step"] == step, (step, hangup.data)


def test_a_call_the_server_does_not_run_fails_clearly_and_the_next_one_runs(tmp_path) -> None:
    """Whether the server ran a call the testbed learns from the server (it took the call's
    services), never from how soon a result comes: a call turned away fails as its connection
    ends, though the result of a call the server runs would be awaited for an hour."""
    from ccdsl.runtime.core.errors import InputError

    ir = compiled(str(HOTLINE))

    async def main():
        bed = AgiTestbed(program(str(HOTLINE)), ir, workdir=str(tmp_path), result_wait_s=3600)
        await bed.start()
        try:
            bed.flow = "no_such_flow"  # the FastAGI path the peer asks for
            with pytest.raises(InputError, match="without running flow 'no_such_flow'"):
                async with asyncio.timeout(HANG_S):
                    await bed.call(hang_up_in("main_menu", None))
            bed.flow = "hotline"
            return await bed.call(hang_up_in("main_menu", None))
        finally:
            await bed.stop()

    run = asyncio.run(main())
    assert run.result.hung_up_by == "caller"
