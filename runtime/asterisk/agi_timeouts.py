"""How long each AGI command may take to answer: its own length plus slack, never one long timeout.

Read from the command line alone (a sound's file, SAY's value, Dial's ring time, Queue's max
wait); must not send anything (agi.py's session asks it). docs/asterisk.md "Limits" lists them.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ccdsl.runtime.asterisk.limits import PROMPT_TIMEOUT_S
from ccdsl.runtime.asterisk.names import ANSWERED_SUB

SLACK_S = 10.0  # on top of a command's own length: Asterisk's scheduling, a loaded disk
# Dial() and Queue() ring and announce on Asterisk's timers, which may run late by a ring
BRIDGE_SLACK_S = 30.0
SAY_S_PER_CHARACTER = 1.0  # SAY DIGITS "12345": a digit a second is slow speech
SAY_CLOCK_S = 10.0  # SAY DATE / TIME / DATETIME: a weekday, a date and a time
GET_DATA_DEFAULT_MS = 6000  # GET DATA without a timeout: Asterisk's default digit wait
# bytes per second of the raw formats Asterisk plays (formats/format_*.c)
_RAW_RATES = {"gsm": 1650, "ulaw": 8000, "ul": 8000, "alaw": 8000, "al": 8000, "pcm": 8000,
              "g722": 8000, "sln": 16000, "raw": 16000, "sln16": 32000}
_RIFF = ("wav", "wav16", "wav49", "WAV")


@dataclass(frozen=True)
class ReplyLimits:
    """The reply timeout of each command (module doc). `asked` is what the
    channel gave for it; a limit from the command line is never longer."""

    prompt_timeout_s: float = PROMPT_TIMEOUT_S  # a sound whose length is unknown
    slack_s: float = SLACK_S

    def limit(self, verb: str, args: Sequence[str], asked: float) -> float:
        upper = verb.upper()
        first = args[0] if args else ""
        if upper in ("STREAM FILE", "CONTROL STREAM FILE"):
            return min(asked, self._sound(first) + self.slack_s)
        if upper == "GET DATA":
            wait_ms = _number(args[1]) if len(args) > 1 else None
            digits = _number(args[2]) if len(args) > 2 else None
            waits = (wait_ms if wait_ms and wait_ms > 0 else GET_DATA_DEFAULT_MS) / 1000 \
                * min(32, int(digits) if digits and digits > 0 else 1)
            return min(asked, self._sound(first) + waits + self.slack_s)
        if upper in ("SAY DATE", "SAY TIME", "SAY DATETIME"):
            return min(asked, SAY_CLOCK_S + self.slack_s)
        if upper.startswith("SAY "):
            return min(asked, SAY_S_PER_CHARACTER * len(first) + self.slack_s)
        if upper == "EXEC DIAL" and f"{ANSWERED_SUB}^" in first:
            # the answered Gosub says when it is answered (FlowServer then
            # extends the wait); an attended transfer's Dial() has none
            ring = _number(_field(first, 1))
            return asked if ring is None else min(asked, ring + BRIDGE_SLACK_S)
        if upper == "EXEC QUEUE" and f'"{ANSWERED_SUB},' in first:
            most = _number(_field(first, 4))  # Queue(name,options,URL,announce,timeout,...)
            return asked if most is None else min(asked, most + BRIDGE_SLACK_S)
        return asked

    def _sound(self, file: str) -> float:
        length = sound_seconds(file)
        return self.prompt_timeout_s if length is None else length


def _field(data: str, index: int) -> str:
    parts = data.split(",")
    return parts[index].strip() if index < len(parts) else ""


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 else None


class _Lengths:
    """Sound lengths by file (no extension), measured once per TTL_S: a flow
    plays the same prompts on every call, and a prompt replaced while the
    server runs is measured again soon after."""

    TTL_S = 5.0
    MAX = 4096

    def __init__(self) -> None:
        self._seen: dict[str, tuple[float, float | None]] = {}

    def get(self, base: str) -> float | None:
        now = time.monotonic()
        hit = self._seen.get(base)
        if hit is not None and hit[0] > now:
            return hit[1]
        length = _measure(base)
        if len(self._seen) >= self.MAX:
            self._seen.clear()
        self._seen[base] = (now + self.TTL_S, length)
        return length


_LENGTHS = _Lengths()


def sound_seconds(file: str) -> float | None:
    """How long the sound STREAM FILE plays from `file` (a path without
    its extension) lasts, from the longest of its formats this host sees;
    None for a bare name (Asterisk's own sounds) or a file not found here."""
    if not file.startswith("/"):  # os.path.isabs on POSIX, without its checks per prompt
        return None
    return _LENGTHS.get(file)


def _measure(base: str) -> float | None:
    folder, stem = os.path.split(base)
    try:
        entries = [e for e in os.listdir(folder) if e.startswith(stem + ".")]
    except OSError:
        return None
    lengths = []
    for entry in entries:
        ext = entry[len(stem) + 1:]
        path = os.path.join(folder, entry)
        if ext in _RIFF:
            length = _wav_seconds(path)
        elif ext in _RAW_RATES:
            try:
                length = os.path.getsize(path) / _RAW_RATES[ext]
            except OSError:
                length = None
        else:
            continue
        if length is not None:
            lengths.append(length)
    return max(lengths) if lengths else None


def _wav_seconds(path: str) -> float | None:
    """A RIFF WAVE file's length: its data chunk over the fmt chunk's byte
    rate (the data chunk's size is taken from the file when a streaming
    writer left it unset)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4096)
            size = os.fstat(stream.fileno()).st_size
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    at, rate = 12, None
    while at + 8 <= len(head):
        chunk, length = head[at:at + 4], struct.unpack_from("<I", head, at + 4)[0]
        if chunk == b"fmt " and at + 20 <= len(head):
            rate = struct.unpack_from("<I", head, at + 16)[0]
        elif chunk == b"data":
            if not rate:
                return None
            data = min(length, size - at - 8)
            return max(0, data) / rate
        at += 8 + length + (length & 1)
    return None
