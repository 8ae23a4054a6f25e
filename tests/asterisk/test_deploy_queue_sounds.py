"""`ccf deploy` puts the queue messages' sound files where app_queue's periodic-announce finds
them: one per language of the prompt and one without a language (the flow's default), text
rendered by the [tts] command, a recorded prompt copied; `--dry-run` lists them."""

from __future__ import annotations

import sys
import wave
from pathlib import Path

from ccf_cli import ccf

from asterisk.sounds_centre import sounds_centre
from ccdsl.runtime.asterisk import in_queue, names
from ccdsl.runtime.asterisk.dialplan import QUEUES_FILE

FLOW = """\
flow hotline:
  languages zh-CN, en-US

prompt still_waiting:
  zh-CN tts "请稍候"
  en-US tts "Thank you for waiting."

prompt 稍候:
  zh-CN file "iws/hold"
  en-US file "iws/hold"

queue service:
  skills [general]
  messages [still_waiting, 稍候] every 30s
  press 1 -> hangup

on start:
  answer
  queue service
  hangup
"""


def centre_folder(tmp_path: Path, *, recorded: bool = True) -> tuple[Path, Path]:
    flows, config = sounds_centre(tmp_path, FLOW)
    if recorded:
        for language in ("zh-CN", "en-US"):
            hold = tmp_path / "sounds" / language / "iws"
            hold.mkdir(parents=True)
            (hold / "hold.gsm").write_bytes(f"{language} gsm-frames".encode())
    return flows, config


def samples(path: Path) -> int:
    with wave.open(str(path), "rb") as audio:
        return audio.getnframes()


def test_deploy_renders_each_language_of_each_message(tmp_path):
    flows, config = centre_folder(tmp_path)
    result = ccf("deploy", str(flows), "-c", str(config), "--no-apply")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "sounds" / "ccf-queue"
    assert samples(folder / "zh-CN" / "still_waiting.wav") == len("请稍候")
    assert samples(folder / "en-US" / "still_waiting.wav") == len("Thank you for waiting.")
    # without a language: the flow's default (zh-CN), as a prompt falls back in a call
    assert samples(folder / "still_waiting.wav") == len("请稍候")
    unicode = names.sound_part("稍候")
    assert unicode.startswith("xn--") and unicode.isascii()
    assert (folder / "zh-CN" / f"{unicode}.gsm").read_bytes() == b"zh-CN gsm-frames"
    assert (folder / "en-US" / f"{unicode}.gsm").read_bytes() == b"en-US gsm-frames"
    assert (folder / f"{unicode}.gsm").read_bytes() == b"zh-CN gsm-frames"
    assert "Queue messages:" in result.output


def test_periodic_announce_names_the_files_without_language_or_extension(tmp_path):
    flows, config = centre_folder(tmp_path)
    result = ccf("deploy", str(flows), "-c", str(config), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"+++ {QUEUES_FILE} (new)" in result.output
    folder = tmp_path / "sounds" / "ccf-queue"
    line = f"periodic-announce = {folder}/still_waiting,{folder}/{names.sound_part('稍候')}"
    assert f"+{line}\n" in result.output
    assert in_queue.message_file("orders.still_busy", str(tmp_path / "sounds")) == \
        f"{folder}/orders_still_busy"


def test_dry_run_lists_the_files_and_writes_none(tmp_path):
    flows, config = centre_folder(tmp_path)
    result = ccf("deploy", str(flows), "-c", str(config), "--dry-run")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "sounds" / "ccf-queue"
    assert "Queue messages (to render or copy):" in result.output
    assert f"{folder}/en-US/still_waiting.wav  <- still_waiting: text-to-speech (en-US)" \
        in result.output
    assert f"{folder}/still_waiting.wav  <- still_waiting: text-to-speech (zh-CN)" \
        in result.output
    hold = tmp_path / "sounds" / "zh-CN" / "iws" / "hold.gsm"
    assert f"<- 稍候: copy of {hold}" in result.output
    assert not folder.exists()
    assert not (tmp_path / "tts-cache").exists()


def test_a_missing_recorded_message_refuses_the_deploy(tmp_path):
    flows, config = centre_folder(tmp_path, recorded=False)
    result = ccf("deploy", str(flows), "-c", str(config), "--no-apply")
    assert result.exit_code == 1
    assert "the queue message 稍候 (en-US) is the recorded prompt iws/hold, missing" \
        in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "store").exists()


def test_a_tts_command_that_fails_refuses_the_deploy(tmp_path):
    flows, config = centre_folder(tmp_path)
    text = config.read_text(encoding="utf-8").replace(f'"{sys.executable}"', '"false"')
    config.write_text(text, encoding="utf-8")
    result = ccf("deploy", str(flows), "-c", str(config), "--no-apply")
    assert result.exit_code == 1
    assert "the queue message still_waiting" in result.output
    assert "nothing was deployed" in result.output
    assert not (tmp_path / "store" / "current").exists()


def test_a_sounds_folder_queues_conf_cannot_hold_is_refused(tmp_path):
    flows, config = centre_folder(tmp_path)
    text = config.read_text(encoding="utf-8").replace('sounds = "sounds"',
                                                      'sounds = "my sounds,1"')
    config.write_text(text, encoding="utf-8")
    result = ccf("deploy", str(flows), "-c", str(config), "--dry-run")
    assert result.exit_code == 1
    assert "characters queues.conf cannot take in periodic-announce" in result.output
