"""A recorded prompt whose sound file is missing: Asterisk skips it (STREAM
FILE answers -1, ccf serve logs it and goes on), and so does the simulator
when it knows the centre's sounds folder: no time passes, and the trace
says which file was missing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.core.channel import CallInfo, Sound
from ccdsl.runtime.core.clock import VirtualClock
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.trace import render_trace
from ccdsl.runtime.sim import ScriptedCaller, SimChannel
from ccdsl.runtime.sim.channel import FILE_MS
from ccdsl.runtime.sim.scenario import Scenario, run_scenario
from ccdsl.runtime.sim.sounds import SoundsFolder

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
FLOW = """\
flow greeter:
  languages en-US

prompt welcome:
  en-US file "greetings/welcome"

on start:
  answer
  play welcome
  play tts "Goodbye."
  hangup
"""


MENU = """\
flow asker:
  languages en-US

prompt choices:
  en-US file "menus/choices"

on start:
  answer
  menu retries 0 timeout 3s:
    prompt choices
    1 -> hangup
    timeout, invalid -> hangup
    exhausted -> hangup
"""


def simulate(tmp_path: Path, sounds_dir: str | None, flow: str = FLOW):
    source = tmp_path / "greeter.ccf"
    source.write_text(flow, encoding="utf-8")
    result = compile_file(str(source))
    assert result.ok and result.ir is not None
    ir = result.ir
    scenario = Scenario(name="a call", loc={}, start=T0, caller="+8613800000001")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return asyncio.run(run_scenario(load_program(ir, validate=False), ir, scenario,
                                    workdir=str(work), sounds_dir=sounds_dir))


def played(run) -> list:
    return [e for e in run.events if e.kind == "prompt_played"]


def test_a_missing_recorded_prompt_takes_no_time_and_the_trace_names_it(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    run = simulate(tmp_path, str(sounds))
    welcome, goodbye = played(run)
    assert welcome.data["prompt"] == "welcome" and welcome.data["ms"] == 0
    assert goodbye.at == welcome.at  # the simulated clock did not move for it
    (note,) = [e for e in run.events if e.kind == "log" and "missing" in e.data["message"]]
    assert "greetings/welcome" in note.data["message"]
    assert note.at == welcome.at and note.loc == welcome.loc
    trace = render_trace(run.events)
    (line,) = [t for t in trace.splitlines() if " log: " in t]
    assert "greeter.ccf:9 " in line  # at the `play` that met it
    assert line.endswith("log: sound file greetings/welcome [en-US] is missing: skipped")


def test_a_menu_whose_prompt_is_missing_listens_at_once(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    sounds.mkdir()
    run = simulate(tmp_path, str(sounds), MENU)
    (choices,) = played(run)
    (keys,) = [e for e in run.events if e.kind == "keys"]
    assert (keys.at - choices.at).total_seconds() == 3  # the timeout alone
    assert [e.data["message"] for e in run.events if e.kind == "log"] == [
        "sound file menus/choices [en-US] is missing: skipped"]


def test_the_agi_channels_note_reads_the_same_in_the_trace() -> None:
    """AgiChannel notes `sound_missing` with the file it asked Asterisk for
    and no language: the log line names the file all the same."""
    from types import SimpleNamespace

    from ccdsl.runtime.core.channel import ChannelLog
    from ccdsl.runtime.core.ops.media import emit_played

    log = ChannelLog()
    emitted: list[tuple[str, dict]] = []
    rt = SimpleNamespace(channel=SimpleNamespace(log=log),
                         services=SimpleNamespace(clock=VirtualClock(T0)),
                         emit=lambda kind, data, loc=None, at=None: emitted.append((kind, data)))
    log.entries.append(("heard", {"text": "before"}))
    mark = len(log.entries)
    log.entries.append(("sound_missing", {"kind": "file", "text": "iws/welcome",
                                          "file": "iws/welcome"}))
    emit_played(rt, [Sound("file", "iws/welcome", "zh-CN")], "welcome", T0, None, None,
                mark=mark)
    assert [kind for kind, _ in emitted] == ["prompt_played", "log"]
    assert emitted[1][1] == {"message": "sound file iws/welcome is missing: skipped"}


def test_a_recorded_prompt_in_the_sounds_folder_plays(tmp_path: Path) -> None:
    sounds = tmp_path / "sounds"
    (sounds / "en-US" / "greetings").mkdir(parents=True)
    (sounds / "en-US" / "greetings" / "welcome.wav").write_bytes(b"RIFF")
    run = simulate(tmp_path, str(sounds))
    welcome, goodbye = played(run)
    assert welcome.data["ms"] == FILE_MS
    assert (goodbye.at - welcome.at).total_seconds() * 1000 == FILE_MS
    assert not [e for e in run.events if e.kind == "log" and "missing" in e.data["message"]]


def test_without_a_sounds_folder_the_simulator_cannot_tell_and_plays_it(tmp_path: Path) -> None:
    welcome, _ = played(simulate(tmp_path, None))
    assert welcome.data["ms"] == FILE_MS


@pytest.mark.parametrize(("files", "sound", "missing"), [
    ((), Sound("file", "greetings/welcome", "en-US"), True),
    (("en-US/greetings/welcome.gsm",), Sound("file", "greetings/welcome", "en-US"), False),
    (("zh-CN/greetings/welcome.wav",), Sound("file", "greetings/welcome", "en-US"), True),
    # Asterisk reads no mp3: ccf serve hands it the name and STREAM FILE fails
    (("en-US/greetings/welcome.mp3",), Sound("file", "greetings/welcome", "en-US"), True),
    # Asterisk's own sounds, which ccf serve asks for by their bare name
    ((), Sound("file", "beep", "en-US"), False),
    ((), Sound("file", "queue-youarenext", ""), False),
    # a take recorded on this call (RECORD FILE), not a prompt of the sounds folder
    ((), Sound("file", "voicemail/prompt-7/sim-1", "en-US"), False),
    ((), Sound("tts", "Hello.", "en-US"), False),
])
def test_which_sounds_the_folder_lacks(tmp_path: Path, files, sound: Sound,
                                       missing: bool) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert SoundsFolder(str(tmp_path)).lacks(sound) is missing


def test_the_channel_skips_it_and_notes_it_as_the_agi_channel_does(tmp_path: Path) -> None:
    clock = VirtualClock(T0)
    info = CallInfo("c1", "+8613800000001", None, "", T0, "sim/1")
    channel = SimChannel(info, clock, ScriptedCaller(()), sounds=SoundsFolder(str(tmp_path)))
    key = asyncio.run(channel.play([Sound("file", "greetings/welcome", "en-US"),
                                    Sound("file", "beep", "en-US")]))
    assert key is None
    assert (clock.now() - T0).total_seconds() * 1000 == 300  # the beep only
    kinds = [kind for kind, _ in channel.log.entries]
    assert kinds == ["sound_missing", "heard"]
    assert channel.heard() == [Sound("file", "beep", "en-US")]


def test_ccf_simulate_checks_recorded_prompts_in_the_sounds_folder(tmp_path: Path) -> None:
    """`--sounds DIR`, or `sounds/` beside the flow: the missing welcome is
    skipped and named; without either, every recorded prompt plays."""
    from typer.testing import CliRunner

    from ccdsl.cli.main import app

    hotline = Path(__file__).resolve().parents[1] / "examples" / "iws" / "hotline.ccf"
    args = ["simulate", str(hotline), "--at", "2026-12-07 10:00", "--press", "1"]
    empty = tmp_path / "sounds"
    empty.mkdir()
    skipped = CliRunner().invoke(app, [*args, "--sounds", str(empty)])
    assert skipped.exit_code == 0, skipped.output
    assert "sound file iws/welcome [zh-CN] is missing: skipped" in skipped.stdout
    assert f"recorded prompts: {empty}" in skipped.stderr
    played = CliRunner().invoke(app, args)
    assert played.exit_code == 0, played.output
    assert "is missing" not in played.stdout
    assert "plays welcome: file iws/welcome [zh-CN] (2s)" in played.stdout
    bad = CliRunner().invoke(app, [*args, "--sounds", str(tmp_path / "nowhere")])
    assert bad.exit_code == 2 and "is not a folder" in bad.stderr
