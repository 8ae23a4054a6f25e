"""The stdlib prompt recording flow (stdlib_flows/prompt_recording.ccf,
through tests/scenarios/prompt_line.ccf) over the Asterisk test peer
(`ccf serve` on FastAGI) and in the simulator: the administrator hears
back the take the voicemail stored, a second take replaces the first, and
the CRM's prompt_take names the mailbox and the call, which is where the
take is kept (recordings/voicemail/<mailbox>/<call>.wav). Its test blocks
also run over FastAGI in tests/asterisk/test_scenarios_agi.py."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from functools import cache
from pathlib import Path

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.sim.caller import Press, Speak
from ccdsl.runtime.sim.scenario import run_scenario
from ccdsl.runtime.testing.blocks import scenario_from_test
from ccdsl.runtime.testing.via_asterisk import run_scenario_over_agi, run_test_over_agi

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "tests" / "scenarios" / "prompt_line.ccf"


@cache
def compiled() -> dict:
    result = compile_file(str(FLOW))
    assert result.ok and result.ir is not None
    return result.ir


def scenario(*keys: str | Speak):
    """The caller's actions: keys to press, and the administrator speaking a take."""
    ir = compiled()
    keep = scenario_from_test(ir, ir["tests"][0])
    return dataclasses.replace(keep, actions=tuple(Press(k) if isinstance(k, str) else k
                                                   for k in keys))


TAKE = Speak(5_000)  # the administrator says the prompt's words


def over_agi(tmp_path: Path, *keys: str | Speak):
    ir = compiled()
    program = load_program(ir, validate=False)
    return asyncio.run(run_scenario_over_agi(program, ir, scenario(*keys),
                                             workdir=str(tmp_path)))


def of_kind(run, kind: str) -> list[dict]:
    return [e.data for e in run.events if e.kind == kind]


def played_files(run) -> list[str]:
    return [s["text"] for e in of_kind(run, "prompt_played") for s in e["sounds"]
            if s["kind"] == "file" and s["text"] != "beep"]


def test_over_fastagi_the_take_played_back_is_the_file_the_voicemail_stored(tmp_path) -> None:
    run = over_agi(tmp_path, "4321#", "12#", TAKE, "1")
    call_id = run.result.call_id
    (message,) = of_kind(run, "voicemail")
    recordings = tmp_path / "recordings"
    assert message["stored"] and message["mailbox"] == "prompt-12"
    assert message["file"] == str(recordings / "voicemail" / "prompt-12" / f"{call_id}.wav")
    # what the flow plays is that file, named from the recordings folder
    # without its extension, as STREAM FILE takes sound names
    take = os.path.splitext(os.path.relpath(message["file"], recordings))[0]
    assert played_files(run) == [take] == [f"voicemail/prompt-12/{call_id}"]
    (created,) = [e for e in of_kind(run, "crm_query") if e["operation"] == "create"]
    assert created["error"] is None
    assert {k: created["args"][k] for k in ("type", "prompt", "mailbox", "call",
                                           "recorded_by")} == {
        "type": "prompt_take", "prompt": "12", "mailbox": "prompt-12", "call": call_id,
        "recorded_by": "+8613800000009"}
    assert run.created == ["prompt_take"]


def test_a_second_take_replaces_the_first(tmp_path) -> None:
    run = over_agi(tmp_path, "4321#", "7#", TAKE, "2", TAKE, "1")
    call_id = run.result.call_id
    messages = of_kind(run, "voicemail")
    assert len(messages) == 2
    assert messages[0]["file"] == messages[1]["file"]
    assert played_files(run) == [f"voicemail/prompt-7/{call_id}"] * 2
    assert run.created == ["prompt_take"]


def test_in_the_simulator_the_take_has_the_same_name(tmp_path) -> None:
    ir = compiled()
    program = load_program(ir, validate=False)
    run = asyncio.run(run_scenario(program, ir, scenario("4321#", "12#", TAKE, "1"),
                                   workdir=str(tmp_path)))
    call_id = run.result.call_id
    (message,) = of_kind(run, "voicemail")
    assert message["file"] == f"voicemail/prompt-12/{call_id}"
    assert played_files(run) == [message["file"]]


def test_every_test_block_of_the_flow_passes_over_fastagi() -> None:
    ir = compiled()
    assert len(ir["tests"]) == 4
    for test in ir["tests"]:
        result = run_test_over_agi(ir, test)
        assert result.passed, (test["name"], result.error,
                               [o.happened for o in result.outcomes if not o.passed])
