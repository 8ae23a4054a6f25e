"""Sound files for AGI: which file STREAM FILE plays, where MixMonitor records, SAY or TTS.

Pure look-ups and names: must not send AGI commands.
"""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.agi_line import AgiSettings
from ccdsl.runtime.asterisk.tts import TtsError, TtsRenderer
from ccdsl.runtime.core.channel import Sound
from ccdsl.runtime.core.errors import ExternalError
from ccdsl.runtime.core.ops.media import RECORDING_FORMATS
from ccdsl.runtime.core.speech import switch_says

_SOUND_NAME = names.SOUND_NAME
_LANGUAGE = names.LANGUAGE_TAG
SAFE_PATH = re.compile(r"[A-Za-z0-9_./-]+")  # what may go into MixMonitor's data


class _SoundIndex:
    """Which file STREAM FILE plays for a prompt's name and language, found
    once per name for a few seconds (a flow plays the same prompts on every
    call; a prompt added while the server runs is found soon after)."""

    TTL_S = 5.0
    MAX = 4096

    def __init__(self) -> None:
        self._files: dict[tuple[str, str, str, str], tuple[float, str]] = {}

    def file(self, name: str, language: str, settings: AgiSettings) -> str:
        """sound_file's answer for a recorded prompt (or Asterisk's own sound)."""
        key = (name, language, settings.sounds_dir, settings.recordings_dir)
        now = time.monotonic()
        hit = self._files.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        file = _choose(name, language, settings)  # a name it refuses is not kept
        if len(self._files) >= self.MAX:
            self._files.clear()
        self._files[key] = (now + self.TTL_S, file)
        return file


_SOUNDS = _SoundIndex()


async def sound_file(sound: Sound, settings: AgiSettings, tts: TtsRenderer,
                     call_language: str | None) -> str:
    """What STREAM FILE gets: a rendered TTS file, a recorded prompt
    under sounds_dir/<language>/, else the bare name (Asterisk's own)."""
    if sound.kind == "tts":
        language = sound.language or call_language or "en"
        try:
            return await tts.render(sound.text, language)
        except TtsError as err:
            raise ExternalError(str(err), service="tts") from None
    return prompt_file(sound, settings, call_language)


def prompt_file(sound: Sound, settings: AgiSettings, call_language: str | None) -> str:
    """sound_file's answer for a sound that is not text-to-speech, without
    a coroutine of its own (a prompt is looked up on every play)."""
    return _SOUNDS.file(sound.text, sound.language or call_language or "", settings)


def _choose(name: str, language: str, settings: AgiSettings) -> str:
    """Looked up afresh: the index keeps what this returns for TTL_S."""
    if not _SOUND_NAME.fullmatch(name) or len(name) > 200:
        raise ExternalError(f"the sound file name {name!r} may only use letters, digits, "
                            "_, - and . in parts separated by /", service="asterisk")
    if name.startswith("voicemail/") and settings.recordings_dir:
        # a message or a prompt take recorded on this centre (RECORD FILE
        # wrote it under recordings_dir/voicemail/), played back by name
        recorded = _recorded(os.path.abspath(settings.recordings_dir), "voicemail",
                             name[len("voicemail/"):])
        if recorded is not None:
            return recorded
    if settings.sounds_dir and _LANGUAGE.fullmatch(language):
        found = _recorded(os.path.abspath(settings.sounds_dir), language, name)
        if found is not None:
            return found
    return name


def _recorded(root: str, language: str, name: str) -> str | None:
    """<root>/<language>/<name> (no extension) when a file of that name is there."""
    base = os.path.join(root, language, *name.split("/"))
    folder, stem = os.path.split(base)
    try:
        found = any(os.path.splitext(entry)[0] == stem for entry in os.listdir(folder)
                    if entry != stem)
    except OSError:
        found = False
    return base if found else None


def recording_file(path: str, recordings_dir: str) -> str:
    """Where MixMonitor writes: under recordings_dir, each part of the
    flow's path made plain by names.file_part, with an audio format
    Asterisk writes."""
    root = os.path.abspath(recordings_dir)
    stem, ext = os.path.splitext(path)
    fmt = ext[1:].lower() if ext[1:].lower() in RECORDING_FORMATS else "wav"
    full = os.path.abspath(stem)
    if full.startswith(root + os.sep):
        parts = os.path.relpath(full, root).split(os.sep)
    else:
        parts = [os.path.basename(stem)]  # elsewhere: only its name, under the root
    target = os.path.join(root, *(names.file_part(p) for p in parts)) + "." + fmt
    if not SAFE_PATH.fullmatch(target):
        raise ExternalError(f"the recordings folder {root!r} has characters MixMonitor "
                            "cannot take (use letters, digits, _, -, . and /)",
                            service="asterisk")
    return target


def say_command(kind: str, value: str, language: str, say_languages: tuple[str, ...],
                now: datetime) -> tuple[str, str] | None:
    """Asterisk's own SAY for the languages it has sounds for, when the
    value is one SAY takes (speech.switch_says); None: text-to-speech instead."""
    if not switch_says(kind, value, language, say_languages):
        return None
    if kind in ("digits", "number", "alpha"):
        return f"SAY {kind.upper()}", value
    zone = now.tzinfo
    if kind == "date":
        # noon: the same day in any zone within 12 hours of the clock's
        day = datetime.fromisoformat(value).replace(hour=12, tzinfo=zone)
        return "SAY DATE", str(int(day.timestamp()))
    hour, minute = (int(p) for p in value.split(":")[:2])
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return "SAY TIME", str(int(moment.timestamp()))
    return None
