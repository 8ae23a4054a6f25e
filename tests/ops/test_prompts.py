"""`ccf prompts check`: each flow's recorded prompts per language against a
sounds folder in tmp_path, found as `ccf serve`'s AGI channel finds them
(the same files, the same misses), in a table and as JSON, with the exit
status scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.runtime.asterisk.prompts import PromptCheck, check_flow, recorded_files

ROOT = Path(__file__).resolve().parents[2]

FLOW = '''\
flow desk:
  languages zh-CN, en-US

prompt welcome:
  zh-CN file "desk/welcome"
  en-US file "desk/welcome"

prompt goodbye:
  zh-CN file "goodbye"
  en-US tts "Goodbye."

prompt choices:
  zh-CN tts "请按1。"
  en-US tts "Press 1."

prompt digit(n):
  zh-CN file "digits/${n}"
  en-US tts "${n}"

on start:
  answer
  play welcome
  play choices
  play digit(n: "1")
  play goodbye
  hangup
'''


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    path = tmp_path / "desk.ccf"
    path.write_text(FLOW, encoding="utf-8")
    return path


def sound(root: Path, rel: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")


def statuses(data: dict) -> dict[tuple[str, str], str]:
    return {(p["prompt"], p["language"]): p["status"] for p in data["prompts"]}


def test_present_missing_tts_and_dynamic_prompts(tmp_path, flow) -> None:
    sounds = tmp_path / "sounds"
    sound(sounds, "zh-CN/desk/welcome.wav")
    sound(sounds, "en-US/desk/welcome.ulaw")
    sound(sounds, "en-US/desk/welcome.gsm")
    sound(sounds, "zh-CN/goodbye.mp3")  # a file Asterisk has no format for
    result = ccf("prompts", "check", str(flow), "--sounds", str(sounds), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["sounds"] == str(sounds)
    assert statuses(data) == {
        ("choices", "en-US"): "tts", ("choices", "zh-CN"): "tts",
        ("digit", "en-US"): "tts", ("digit", "zh-CN"): "dynamic",
        ("goodbye", "en-US"): "tts", ("goodbye", "zh-CN"): "unplayable",
        ("welcome", "en-US"): "present", ("welcome", "zh-CN"): "present",
    }
    by_key = {(p["prompt"], p["language"]): p for p in data["prompts"]}
    assert by_key[("welcome", "en-US")]["files"] == ["en-US/desk/welcome.gsm",
                                                     "en-US/desk/welcome.ulaw"]
    assert by_key[("digit", "zh-CN")]["name"] == "digits/${n}"
    assert by_key[("goodbye", "zh-CN")]["files"] == ["zh-CN/goodbye.mp3"]


def test_every_recorded_prompt_there_exits_0(tmp_path, flow) -> None:
    sounds = tmp_path / "sounds"
    for rel in ("zh-CN/desk/welcome.wav", "en-US/desk/welcome.sln16", "zh-CN/goodbye.g722"):
        sound(sounds, rel)
    result = ccf("prompts", "check", str(flow), "--sounds", str(sounds))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "4 recorded prompt variants in 1 files: 3 present, 0 missing or unusable" in text
    # the table lists recorded prompts; --all adds the text-to-speech ones
    assert "choices" not in result.stdout
    everything = ccf("prompts", "check", str(flow), "--sounds", str(sounds), "--all")
    assert "choices" in everything.stdout and "tts" in everything.stdout


def test_the_table_marks_what_is_missing(tmp_path, flow) -> None:
    sounds = tmp_path / "sounds"
    sound(sounds, "zh-CN/desk/welcome.wav")
    result = ccf("prompts", "check", str(flow), "--sounds", str(sounds))
    assert result.exit_code == 1
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in result.stdout.splitlines()
            if line.startswith("│")]
    assert ["desk", "welcome", "zh-CN", "desk/welcome", "present (zh-CN/desk/welcome.wav)"] \
        in rows
    assert ["desk", "welcome", "en-US", "desk/welcome", "MISSING"] in rows
    assert ["desk", "goodbye", "zh-CN", "goodbye", "MISSING"] in rows
    assert ["desk", "digit", "zh-CN", "digits/${n}",
            "not checked (name built from parameters)"] in rows
    assert "1 present, 2 missing or unusable" in " ".join(result.stdout.split())


def test_a_sounds_folder_that_does_not_exist(tmp_path, flow) -> None:
    result = ccf("prompts", "check", str(flow), "--sounds", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "(does not exist)" in result.stdout


def test_the_sounds_folder_of_the_centre_config(tmp_path, flow) -> None:
    (tmp_path / "ccf.toml").write_text('[paths]\nsounds = "prompts"\n', encoding="utf-8")
    for rel in ("zh-CN/desk/welcome.wav", "en-US/desk/welcome.wav", "zh-CN/goodbye.wav"):
        sound(tmp_path / "prompts", rel)
    result = ccf("prompts", "check", str(flow), "--config", str(tmp_path / "ccf.toml"),
                 "-f", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sounds"] == str((tmp_path / "prompts").resolve())


def test_bad_input_is_a_clear_message(tmp_path, flow) -> None:
    no_config = ccf("prompts", "check", str(flow), "--config", str(tmp_path / "none.toml"))
    assert no_config.exit_code == 2
    assert "--sounds DIR" in no_config.output and "no such file" in no_config.output
    no_flow = ccf("prompts", "check", str(tmp_path / "none.ccf"), "--sounds", str(tmp_path))
    assert no_flow.exit_code == 2 and "does not exist" in no_flow.output
    broken = tmp_path / "broken.ccf"
    broken.write_text("flow broken:\n  languages en-US\n\non start:\n  play nothing\n",
                      encoding="utf-8")
    result = ccf("prompts", "check", str(broken), "--sounds", str(tmp_path))
    assert result.exit_code == 1 and "flows with errors are not checked" in result.output


def test_the_lookup_is_the_servers(tmp_path) -> None:
    """The AGI channel's lookup (agi_media._recorded, which its index
    _SOUNDS keeps) and the check agree on every file: what the server would
    hand to Asterisk is what is found."""
    from ccdsl.runtime.asterisk.agi_media import _recorded

    sounds = tmp_path / "sounds"
    for rel in ("zh-CN/a/b.wav", "zh-CN/a/b", "zh-CN/a/bb.wav", "zh-CN/c.tar.gz",
                "en-US/a/b.gsm"):
        sound(sounds, rel)
    for language, name in (("zh-CN", "a/b"), ("zh-CN", "a/bb"), ("zh-CN", "c"),
                           ("zh-CN", "c.tar"), ("zh-CN", "x"), ("en-US", "a/b"),
                           ("fr-FR", "a/b")):
        served = _recorded(str(sounds), language, name) is not None
        assert bool(recorded_files(str(sounds), language, name)) == served, (language, name)


def test_the_stdlib_prompt_recording_flow_is_all_text_to_speech(tmp_path) -> None:
    from ccdsl.compiler.pipeline import compile_file

    result = compile_file(str(ROOT / "stdlib_flows" / "prompt_recording.ccf"))
    assert result.ok
    checks = check_flow(result.ir, str(tmp_path))
    assert checks and all(isinstance(c, PromptCheck) and c.status == "tts" for c in checks)
    assert {c.language for c in checks} == {"zh-CN", "en-US"}


def test_ccf_prompts_help() -> None:
    top = ccf("prompts", "--help")
    assert top.exit_code == 0 and "check" in top.stdout
    result = ccf("prompts", "check", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "List, for each flow, which recorded prompts exist per language and which are " \
           "missing" in text
    for option in ("--sounds", "--config", "--format", "--all"):
        assert option in text
