"""Normalised words on the Asterisk side: a `say` Asterisk's SAY cannot
speak in the call's language goes to text-to-speech as words (2026年12月3日,
not 2026-12-03), cached by them; and espeak-ng, when installed, speaks them."""

from __future__ import annotations

import array
import asyncio
import shutil
import wave

import pytest

from asterisk.centre import WAIT_S
from asterisk.test_agi_channel import FakeTts, a_call
from ccdsl.runtime.asterisk.tts import DEFAULT_COMMAND, TtsRenderer
from ccdsl.runtime.core.speech import spoken


def test_a_zh_cn_date_and_time_are_spoken_as_words(tmp_path):
    tts = FakeTts(tmp_path)

    async def main():
        async with a_call(tmp_path, tts=tts) as (ch, ast, _):
            for kind, value in [("date", "2026-12-03"), ("time", "09:00")]:
                task = asyncio.create_task(
                    ch.say(kind, value, "zh-CN", words=spoken(kind, value, "zh-CN")))
                path = f"{tmp_path}/tts/t{len(tts.said) + 1}"
                await ast.expect(f'STREAM FILE "{path}" ""\n'.encode(),
                                 b"200 result=0 endpos=100\n")
                await asyncio.wait_for(task, WAIT_S)
            said = [(d["value"], d["words"]) for k, d in ch.log.entries if k == "said"]
            assert said == [("2026-12-03", "2026年12月3日"), ("09:00", "上午9点")]

    asyncio.run(main())
    assert tts.said == [("2026年12月3日", "zh-CN"), ("上午9点", "zh-CN")]


def test_the_cache_key_is_the_normalised_text(tmp_path):
    renderer = TtsRenderer(tmp_path, ("cp", "x", "{out}"))
    words = spoken("date", "2026-12-03", "zh-CN")
    assert renderer.key(words, "zh-CN") != renderer.key("2026-12-03", "zh-CN")
    assert renderer.key(words, "zh-CN") != renderer.key(words, "en-US")


def _seconds_and_loudness(path: str) -> tuple[float, float]:
    with wave.open(path + ".wav", "rb") as wav:
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / wav.getframerate()
    samples = array.array("h", frames)
    loudness = (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5
    return seconds, loudness


@pytest.mark.parametrize(("language", "kinds"), [
    ("zh-CN", [("date", "2026-12-03"), ("time", "09:30"), ("money", "99.50")]),
    ("en-US", [("date", "2026-12-03"), ("time", "09:30"), ("money", "99.50")]),
])
def test_espeak_ng_speaks_the_normalised_text(tmp_path, language, kinds):
    # the real engine, never a stand-in: `make test` installs it when missing
    assert shutil.which("espeak-ng"), "espeak-ng is missing: apt-get install -y espeak-ng"
    renderer = TtsRenderer(tmp_path, DEFAULT_COMMAND, timeout_s=30)
    text = " ".join(spoken(kind, value, language) for kind, value in kinds)
    path = asyncio.run(renderer.render(text, language))
    seconds, loudness = _seconds_and_loudness(path)
    # three short phrases: more than a blip, less than a speech
    assert 1.5 < seconds < 20, (text, seconds)
    assert loudness > 300, (text, loudness)  # speech, not silence
