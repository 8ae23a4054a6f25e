"""Text-to-speech rendered to sound files Asterisk plays, cached by command, language and text.

Never passes the text through a shell (docs/asterisk.md "Sounds and text-to-speech").
"""

from __future__ import annotations

import array
import asyncio
import hashlib
import io
import os
import secrets
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

from ccdsl import json_text
from ccdsl.runtime.asterisk import names

DEFAULT_COMMAND: tuple[str, ...] = ("espeak-ng", "-b", "1", "-v", "{voice}", "-w", "{out}",
                                    "--stdin")
ASTERISK_RATE = 8000
MAX_TEXT_CHARS = 4000  # a prompt, not a book: a runaway CRM value fails clearly instead
_LANGUAGE = names.LANGUAGE_TAG
# espeak-ng voices that take a region; other tags fall back to their primary subtag
_REGIONAL_VOICES = {"en-us", "en-gb", "en-029", "pt-br", "es-419", "fr-be", "fr-ch"}


class TtsError(Exception):
    """Speech could not be rendered: the command is missing, failed, hung,
    or wrote something that is no WAV file."""


def voice_for(language: str) -> str:
    """The espeak-ng voice of a BCP 47 tag: `en-US` -> `en-us`, `de-AT` -> `de`,
    Chinese -> `cmn` (Mandarin), `zh-HK` -> `yue` (Cantonese)."""
    tag = language.lower()
    if tag in _REGIONAL_VOICES:
        return tag
    if tag in ("zh-hk", "zh-hant-hk", "yue"):
        return "yue"
    primary = tag.split("-", 1)[0]
    return "cmn" if primary == "zh" else primary


class TtsRenderer:
    def __init__(self, cache_dir: str | os.PathLike, command: Sequence[str] = DEFAULT_COMMAND,
                 *, timeout_s: float = 10.0) -> None:
        if not command:
            raise ValueError("the text-to-speech command is empty")
        self.cache_dir = Path(cache_dir)
        self.command = tuple(command)
        self.timeout_s = timeout_s
        self.renders = 0  # times the command ran (cache misses)
        self._inflight: dict[str, asyncio.Future[None]] = {}

    def key(self, text: str, language: str) -> str:
        """The cache key: the command, the language and the text, hashed."""
        blob = json_text.dumps([list(self.command), language, text], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    async def render(self, text: str, language: str) -> str:
        """The path (no extension) of the .wav that speaks `text`."""
        if not _LANGUAGE.fullmatch(language):
            raise TtsError(f"text-to-speech: {language!r} is not a language tag")
        if not text.strip():
            raise TtsError("text-to-speech: there is no text to speak")
        if len(text) > MAX_TEXT_CHARS:
            raise TtsError(f"text-to-speech: the text is {len(text)} characters long; "
                           f"at most {MAX_TEXT_CHARS} are spoken")
        key = self.key(text, language)
        base = self.cache_dir / key
        if base.with_suffix(".wav").exists():
            return str(base)
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._render(text, language, base))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
            # its failure is every waiter's TtsError; with every waiter gone
            # (callers who hung up), it is read here so asyncio does not
            # report an exception never retrieved
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
        # shielded: one caller hanging up must not cancel the render others wait for
        await asyncio.shield(task)
        return str(base)

    async def _render(self, text: str, language: str, base: Path) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        token = f"{os.getpid()}.{secrets.token_hex(4)}"
        raw = base.with_name(f".{base.name}.{token}.raw.wav")
        try:
            await self._run(text, language, raw)
            self.renders += 1
            await asyncio.to_thread(_finish, raw, base, token, text, language)
        finally:
            raw.unlink(missing_ok=True)

    async def _run(self, text: str, language: str, out: Path) -> None:
        fills = {"{voice}": voice_for(language), "{language}": language, "{out}": str(out),
                 "{text}": text}
        argv = []
        for item in self.command:
            for mark, value in fills.items():
                item = item.replace(mark, value)
            argv.append(item)
        on_stdin = not any("{text}" in item for item in self.command)
        to_stdout = not any("{out}" in item for item in self.command)
        shown = " ".join(self.command)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE if to_stdout else asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE)
        except FileNotFoundError:
            raise TtsError(f"text-to-speech: the program {argv[0]!r} was not found (command: "
                           f"{shown}); install Debian package espeak-ng or set [tts] command "
                           "in ccf.toml") from None
        except PermissionError:
            raise TtsError(f"text-to-speech: {argv[0]!r} cannot be run (permission denied)"
                           ) from None
        try:
            async with asyncio.timeout(self.timeout_s):
                stdout, stderr = await proc.communicate(
                    text.encode("utf-8") if on_stdin else b"")
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise TtsError(f"text-to-speech: {shown} took longer than {self.timeout_s:g} s "
                           "and was stopped") from None
        if proc.returncode != 0:
            detail = stderr.decode("utf-8", "replace").strip().splitlines()
            raise TtsError(f"text-to-speech: {shown} failed with exit status {proc.returncode}"
                           + (f": {detail[-1][:200]}" if detail else ""))
        if to_stdout:
            out.write_bytes(stdout)


def _finish(raw: Path, base: Path, token: str, text: str, language: str) -> None:
    """Convert the command's WAV for Asterisk and put it and its sidecar in
    place, each by an atomic rename (a reader never sees half a file)."""
    try:
        audio = convert_wav(raw.read_bytes() if raw.exists() else b"")
    except (wave.Error, EOFError, ValueError) as exc:
        raise TtsError(f"text-to-speech: the command wrote no usable WAV file ({exc})") from None
    sidecar = base.with_name(f".{base.name}.{token}.json")
    sidecar.write_text(json_text.dumps({"text": text, "language": language}, ensure_ascii=False),
                       encoding="utf-8")
    os.replace(sidecar, base.with_suffix(".json"))
    tmp = base.with_name(f".{base.name}.{token}.wav")
    tmp.write_bytes(audio)
    os.replace(tmp, base.with_suffix(".wav"))


# -- WAV to Asterisk's 8 kHz 16-bit mono --------------------------------------------------


def convert_wav(data: bytes, rate: int = ASTERISK_RATE) -> bytes:
    """Any PCM WAV (8/16/24/32-bit, any channels, any rate) as 16-bit mono
    at `rate`."""
    if not data:
        raise ValueError("the file is empty")
    with wave.open(io.BytesIO(data), "rb") as src:
        channels, width, src_rate = src.getnchannels(), src.getsampwidth(), src.getframerate()
        frames = src.readframes(src.getnframes())
    samples = resample(to_mono16(frames, channels, width), src_rate, rate)
    out = io.BytesIO()
    with wave.open(out, "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(rate)
        pcm = array.array("h", samples)
        if sys.byteorder == "big":
            pcm.byteswap()
        dst.writeframes(pcm.tobytes())
    return out.getvalue()


def to_mono16(frames: bytes, channels: int, width: int) -> list[int]:
    """Little-endian PCM frames as 16-bit samples, channels averaged."""
    if width == 1:
        values = [(b - 128) << 8 for b in frames]  # 8-bit WAV is unsigned
    elif width == 2:
        pcm = array.array("h")
        pcm.frombytes(frames[:len(frames) - len(frames) % 2])
        if sys.byteorder == "big":
            pcm.byteswap()
        values = pcm.tolist()
    elif width in (3, 4):
        values = [int.from_bytes(frames[i:i + width], "little", signed=True) >> (8 * (width - 2))
                  for i in range(0, len(frames) - width + 1, width)]
    else:
        raise ValueError(f"{8 * width}-bit samples are not supported")
    if channels <= 1:
        return values
    return [sum(values[i:i + channels]) // channels
            for i in range(0, len(values) - channels + 1, channels)]


def resample(samples: list[int], src_rate: int, dst_rate: int) -> list[int]:
    """Linear interpolation; going down, a moving average over one output
    sample's span first, so what is above the new Nyquist rate is damped
    rather than folded back as noise."""
    if src_rate == dst_rate or not samples:
        return samples
    if src_rate > dst_rate:
        span = max(1, round(src_rate / dst_rate))
        prefix = [0]
        for s in samples:
            prefix.append(prefix[-1] + s)
        n = len(samples)
        half = span // 2
        samples = [(prefix[min(n, i + span - half)] - prefix[max(0, i - half)])
                   // (min(n, i + span - half) - max(0, i - half)) for i in range(n)]
    step = src_rate / dst_rate
    count = int(len(samples) / step)
    last = len(samples) - 1
    out = []
    for j in range(count):
        pos = j * step
        i = int(pos)
        frac = pos - i
        a = samples[i]
        b = samples[i + 1] if i < last else a
        out.append(max(-32768, min(32767, round(a + (b - a) * frac))))
    return out
