"""Text-to-speech (runtime/asterisk/tts.py). espeak-ng is not needed: the
configured command is a small Python script written here, run with this
interpreter, that writes a WAV the way a speech engine would."""

from __future__ import annotations

import asyncio
import io
import json
import math
import sys
import wave
from pathlib import Path

import pytest

from ccdsl.runtime.asterisk.tts import (
    DEFAULT_COMMAND,
    TtsError,
    TtsRenderer,
    convert_wav,
    resample,
    voice_for,
)

FAKE_ENGINE = r'''
import math, sys, time, wave, json
args = sys.argv[1:]
log, mode, voice, out = args[0], args[1], args[2], args[3]
text = args[4] if len(args) > 4 else sys.stdin.read()
with open(log, "a", encoding="utf-8") as f:
    f.write(json.dumps({"voice": voice, "text": text, "argv": args}) + "\n")
if mode == "fail":
    sys.stderr.write("engine: voice not found\n")
    sys.exit(3)
if mode == "hang":
    time.sleep(30)
if mode == "slow":
    time.sleep(0.3)
if mode == "garbage":
    open(out, "wb").write(b"this is not audio")
    sys.exit(0)
rate, seconds = 22050, 0.05 * len(text)
frames = bytearray()
for i in range(int(rate * seconds)):
    v = int(12000 * math.sin(2 * math.pi * 440 * i / rate))
    frames += v.to_bytes(2, "little", signed=True) * 2  # stereo
target = sys.stdout.buffer if out == "-" else open(out, "wb")
with wave.open(target, "wb") as w:
    w.setnchannels(2); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(bytes(frames))
'''


def engine(tmp_path: Path, mode: str = "ok", *, text_arg: bool = False,
           to_stdout: bool = False) -> tuple[list[str], Path]:
    script = tmp_path / "engine.py"
    script.write_text(FAKE_ENGINE, encoding="utf-8")
    log = tmp_path / "engine.log"
    command = [sys.executable, str(script), str(log), mode, "{voice}",
               "-" if to_stdout else "{out}"]
    if text_arg:
        command.append("{text}")
    return command, log


def runs(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def wav_facts(path: str) -> tuple[int, int, int, int]:
    with wave.open(path + ".wav", "rb") as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


def test_renders_once_per_text_and_language(tmp_path):
    command, log = engine(tmp_path)
    tts = TtsRenderer(tmp_path / "cache", command)

    async def main():
        first = await tts.render("hello there", "en-US")
        again = await tts.render("hello there", "en-US")
        french = await tts.render("hello there", "fr")
        other = await tts.render("goodbye", "en-US")
        return first, again, french, other

    first, again, french, other = asyncio.run(main())
    assert first == again and len({first, french, other}) == 3
    assert tts.renders == 3 and len(runs(log)) == 3
    assert [r["voice"] for r in runs(log)] == ["en-us", "fr", "en-us"]
    assert Path(first).parent == tmp_path / "cache" and Path(first).suffix == ""
    # Asterisk's .wav: 8 kHz, 16-bit, mono, as long as the engine's output
    channels, width, rate, frames = wav_facts(first)
    assert (channels, width, rate) == (1, 2, 8000)
    assert abs(frames - round(0.05 * len("hello there") * 8000)) <= 2
    sidecar = json.loads(Path(first + ".json").read_text(encoding="utf-8"))
    assert sidecar == {"text": "hello there", "language": "en-US"}
    # a new renderer over the same cache renders nothing again
    tts2 = TtsRenderer(tmp_path / "cache", command)
    assert asyncio.run(tts2.render("hello there", "en-US")) == first and tts2.renders == 0
    # no temporary file is left behind
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".json"] * 3 + [".wav"] * 3


def test_the_cache_key_covers_the_command(tmp_path):
    command, _ = engine(tmp_path)
    a = TtsRenderer(tmp_path, command).key("hi", "en")
    b = TtsRenderer(tmp_path, [*command, "--speed=2"]).key("hi", "en")
    assert a != b and a == TtsRenderer(tmp_path, command).key("hi", "en")


def test_concurrent_renders_of_the_same_text_run_the_command_once(tmp_path):
    command, log = engine(tmp_path, "slow")
    tts = TtsRenderer(tmp_path / "cache", command)

    async def main():
        return await asyncio.gather(*(tts.render("one moment please", "en") for _ in range(6)))

    paths = asyncio.run(main())
    assert len(set(paths)) == 1
    assert tts.renders == 1 and len(runs(log)) == 1


def test_text_never_goes_through_a_shell(tmp_path):
    nasty = 'it\'s "$(touch pwned)"; rm -rf / `id` \n $HOME & | > x'
    for text_arg in (False, True):
        command, log = engine(tmp_path, text_arg=text_arg)
        tts = TtsRenderer(tmp_path / f"cache{text_arg}", command)
        asyncio.run(tts.render(nasty, "en"))
        assert runs(log)[-1]["text"] == nasty
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def test_a_command_that_writes_the_wav_to_stdout(tmp_path):
    command, _ = engine(tmp_path, to_stdout=True)
    command = [c for c in command if c != "{out}"]
    tts = TtsRenderer(tmp_path / "cache", command)
    path = asyncio.run(tts.render("stdout", "en"))
    assert wav_facts(path)[:3] == (1, 2, 8000)


def test_a_failing_command_is_a_clear_error(tmp_path):
    command, _ = engine(tmp_path, "fail")
    tts = TtsRenderer(tmp_path / "cache", command)
    with pytest.raises(TtsError) as err:
        asyncio.run(tts.render("hello", "en"))
    message = str(err.value)
    assert "failed with exit status 3" in message and "engine: voice not found" in message
    assert not list((tmp_path / "cache").glob("*.wav"))


def test_a_command_that_hangs_is_stopped(tmp_path):
    command, _ = engine(tmp_path, "hang")
    tts = TtsRenderer(tmp_path / "cache", command, timeout_s=0.3)
    with pytest.raises(TtsError, match=r"took longer than 0.3 s and was stopped"):
        asyncio.run(tts.render("hello", "en"))


def test_a_missing_program_says_what_to_install(tmp_path):
    tts = TtsRenderer(tmp_path / "cache", ["no-such-tts-program-ccf", "-w", "{out}"])
    with pytest.raises(TtsError) as err:
        asyncio.run(tts.render("hello", "en"))
    message = str(err.value)
    assert "'no-such-tts-program-ccf' was not found" in message
    assert "install Debian package espeak-ng or set [tts] command" in message


def test_output_that_is_no_wav(tmp_path):
    command, _ = engine(tmp_path, "garbage")
    with pytest.raises(TtsError, match="no usable WAV"):
        asyncio.run(TtsRenderer(tmp_path / "cache", command).render("hello", "en"))


@pytest.mark.parametrize("text,language,message", [
    ("hi", "en; rm -rf", "not a language tag"),
    ("hi", "--output=/etc/x", "not a language tag"),
    ("   ", "en", "no text"),
    ("x" * 5000, "en", "at most 4000"),
])
def test_refused_before_running_anything(tmp_path, text, language, message):
    command, log = engine(tmp_path)
    with pytest.raises(TtsError, match=message):
        asyncio.run(TtsRenderer(tmp_path / "cache", command).render(text, language))
    assert runs(log) == []


def test_default_command_is_espeak_ng_reading_stdin():
    assert DEFAULT_COMMAND[0] == "espeak-ng"
    assert "{voice}" in DEFAULT_COMMAND and "{out}" in DEFAULT_COMMAND
    assert not any("{text}" in item for item in DEFAULT_COMMAND)


@pytest.mark.parametrize("tag,voice", [("en", "en"), ("en-US", "en-us"), ("en-GB", "en-gb"),
                                       ("de-AT", "de"), ("zh-CN", "cmn"), ("zh", "cmn"),
                                       ("zh-HK", "yue"), ("pt-BR", "pt-br"), ("fr-CA", "fr")])
def test_voice_for(tag, voice):
    assert voice_for(tag) == voice


# -- the conversion ------------------------------------------------------------------------


def make_wav(rate: int, width: int, channels: int, seconds: float, freq: float,
             amplitude: float = 0.5) -> bytes:
    out = io.BytesIO()
    peak = (1 << (8 * width - 1)) - 1
    frames = bytearray()
    for i in range(int(rate * seconds)):
        v = int(amplitude * peak * math.sin(2 * math.pi * freq * i / rate))
        sample = (v + 128).to_bytes(1, "little") if width == 1 else \
            v.to_bytes(width, "little", signed=True)
        frames += sample * channels
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


def read_back(data: bytes) -> tuple[int, int, int, list[int]]:
    with wave.open(io.BytesIO(data), "rb") as w:
        raw = w.readframes(w.getnframes())
        samples = [int.from_bytes(raw[i:i + 2], "little", signed=True)
                   for i in range(0, len(raw), 2)]
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), samples


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples))


@pytest.mark.parametrize("rate,width,channels", [(22050, 2, 1), (16000, 2, 2), (44100, 3, 1),
                                                 (11025, 1, 2), (48000, 4, 1), (8000, 2, 1)])
def test_conversion_keeps_length_and_loudness(rate, width, channels):
    data = make_wav(rate, width, channels, 0.5, 400)
    ch, w, r, samples = read_back(convert_wav(data))
    assert (ch, w, r) == (1, 2, 8000)
    assert abs(len(samples) - 4000) <= 2
    # a 400 Hz tone at half scale: RMS 0.5 * 32767 / sqrt(2)
    assert rms(samples) == pytest.approx(0.5 * 32767 / math.sqrt(2), rel=0.1)


def test_downsampling_damps_what_8_khz_cannot_carry():
    """A 7 kHz tone folds back to 1 kHz at 8 kHz without filtering; the
    moving average takes most of it away."""
    ch, w, r, samples = read_back(convert_wav(make_wav(44100, 2, 1, 0.5, 7000)))
    assert rms(samples) < 0.25 * (0.5 * 32767 / math.sqrt(2))


def test_resample_edges():
    assert resample([], 22050, 8000) == []
    assert resample([1, 2, 3], 8000, 8000) == [1, 2, 3]
    up = resample([0, 100], 4000, 8000)
    assert up[:3] == [0, 50, 100]
