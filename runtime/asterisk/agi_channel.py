"""AgiChannel: the runtime's Channel over one FastAGI session (prompts, keys, recordings...).

Must not run the server or read AMI. docs/asterisk.md "How each op runs on Asterisk"
has the op -> AGI table, the safety rules and how hang-ups are read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime

from ccdsl.runtime.asterisk import agi_results, names
from ccdsl.runtime.asterisk.agi import AgiEnvironment
from ccdsl.runtime.asterisk.agi_agents import AgiAgents
from ccdsl.runtime.asterisk.agi_line import ALL_KEYS, ONE_MS, QUICK_S, SAMPLES_PER_MS
from ccdsl.runtime.asterisk.agi_media import (
    SAFE_PATH,
    prompt_file,
    recording_file,
    say_command,
    sound_file,
)
from ccdsl.runtime.asterisk.agi_mute import SwitchAction, mute_mixmonitor
from ccdsl.runtime.asterisk.agi_timeouts import SLACK_S
from ccdsl.runtime.core.channel import CallInfo, Digits, Sound, VoicemailOutcome, message_stored
from ccdsl.runtime.core.errors import CallHungUp, ExternalError

log = logging.getLogger("ccdsl.agi")


def call_info(env: AgiEnvironment, started: datetime) -> CallInfo:
    """What the agi_ block tells about the call."""
    number = env.get("agi_callerid")
    name = env.get("agi_calleridname")
    dnid = env.get("agi_dnid")
    # no DNID (a Local channel, an internal call): the extension the dialplan
    # ran AGI() at is the number dialled, unless it is the catch-all `s`
    extension = env.get("agi_extension")
    return CallInfo(
        call_id=env.get("agi_uniqueid"),
        caller_number="" if number == "unknown" else number,
        caller_name=None if name in ("unknown", "") else name,
        dialled=dnid if dnid and dnid != "unknown" else ("" if extension == "s" else extension),
        started=started,
        channel=env.get("agi_channel"),
        language=env.query.get("lang") or None,
    )


def _file_bytes(path: str) -> int | None:
    """The size of a file Asterisk wrote, or None when this host cannot see it
    (Asterisk elsewhere, its folder not shared)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return None


class AgiChannel(AgiAgents):
    """One call on Asterisk (module doc)."""

    # AMI actions for what AGI cannot do (muting a MixMonitor); FlowServer sets it
    switch: SwitchAction | None = None

    # -- prompts and keys ------------------------------------------------------------

    async def play(self, sounds: Sequence[Sound], *, interrupt_keys: str = "") -> str | None:
        self._enter("play")
        for sound in sounds:
            key = await self._stream(sound, interrupt_keys)
            if key is not None:
                return key
        return None

    async def read_digits(self, sounds: Sequence[Sound], *, max_digits: int, timeout_ms: int,
                          inter_digit_ms: int, end_key: str | None,
                          interruptible: bool = True) -> Digits:
        self._enter("read_digits")
        keys = ""
        # a key during the prompt stops it and is the first digit (as GET DATA does)
        first = await self.play(sounds, interrupt_keys=ALL_KEYS if interruptible else "")
        if first is not None:
            if first == end_key:
                return self._digits("", False)
            keys = first
        limit = inter_digit_ms if keys else timeout_ms
        while len(keys) < max_digits:
            ms = max(0, limit)
            reply = await self._cmd(f"WAIT FOR DIGIT {ms}", timeout=ms / 1000 + SLACK_S,
                                    results=agi_results.ANY_KEY)
            value = reply.value or 0  # never None: the results hold numbers only
            if value < 0:
                self._hung_up("a key wait")
            if value == 0:
                return self._digits(keys, True)
            key = chr(value)
            if key == end_key:
                return self._digits(keys, False)
            keys += key
            limit = inter_digit_ms
        return self._digits(keys, False)

    async def say(self, kind: str, value: str, language: str, *,
                  words: str | None = None) -> None:
        self._enter("say")
        command = say_command(kind, value, language, self.settings.say_languages,
                              self.clock.now())
        start = self.clock.now()
        if command is None:
            # no SAY of Asterisk's in this language: the words, normalised
            # for it (2026年12月3日, not 2026-12-03), by text-to-speech
            words = words or value
            self._note("said", kind=kind, value=value, language=language, via="tts",
                       words=words)
            await self._stream(Sound("tts", words, language), "")
            return
        reply = await self._cmd(command[0], command[1], "", timeout=self.settings.prompt_timeout_s,
                                results=agi_results.DONE)  # no escape digits given
        self._note("said", kind=kind, value=value, language=language, via="say",
                   ms=self._ms_since(start))
        if (reply.value or 0) < 0:
            self._hung_up("say")

    async def wait(self, ms: int, *, music: str | None = None) -> None:
        self._enter("wait")
        if music is not None:
            music = self._safe(names.music_class, music)
        self._note("wait", ms=ms, music=music)
        if ms <= 0:
            return
        if music:
            # MusicOnHold reads whole seconds (sscanf %d); 0 would mean for ever
            verb, data = "EXEC MusicOnHold", f"{music},{max(1, round(ms / 1000))}"
        else:
            verb, data = "EXEC Wait", f"{ms / 1000:.3f}"
        reply = await self._cmd(verb, data, timeout=ms / 1000 + SLACK_S)
        # EXEC answers 200 on a dead channel too (the captures): the HANGUP
        # line read before the reply is what says the caller is gone
        if reply.value == -1 or self.session.hung_up:
            self._hung_up("a wait")

    # -- recording ---------------------------------------------------------------------

    async def start_recording(self, path: str) -> None:
        self._enter("start_recording")
        target = recording_file(path, self.settings.recordings_dir)
        reply = await self._cmd("EXEC MixMonitor", target, timeout=QUICK_S)
        # EXEC answers 200 on a dead channel too (the captures): the HANGUP
        # line read before the reply is what says the caller is gone
        if reply.value == -1 or self.session.hung_up:
            self._hung_up("start recording")
        if reply.value == -2:
            raise ExternalError("Asterisk has no MixMonitor application (load app_mixmonitor)",
                                service="asterisk")
        self._note("recording_started", file=path, target=target)

    async def stop_recording(self) -> None:
        self._enter("stop_recording")
        reply = await self._cmd("EXEC StopMixMonitor", timeout=QUICK_S)
        # EXEC answers 200 on a dead channel too (the captures): the HANGUP
        # line read before the reply is what says the caller is gone
        if reply.value == -1 or self.session.hung_up:
            self._hung_up("stop recording")
        self._note("recording_stopped")

    async def pause_recording(self) -> None:
        self._enter("pause_recording")
        await mute_mixmonitor(self.switch, self.info.channel, True)
        self._note("recording_paused")

    async def resume_recording(self) -> None:
        self._enter("resume_recording")
        await mute_mixmonitor(self.switch, self.info.channel, False)
        self._note("recording_resumed")

    # -- voicemail --------------------------------------------------------------------------

    async def voicemail(self, mailbox: str, *, greeting: Sequence[Sound],
                        max_length_ms: int) -> VoicemailOutcome:
        self._enter("voicemail")
        root = os.path.abspath(self.settings.recordings_dir)
        folder = os.path.join(root, "voicemail", names.file_part(mailbox))
        base = os.path.join(folder, names.file_part(self.info.call_id))
        if not SAFE_PATH.fullmatch(base):
            raise ExternalError(f"the recordings folder {root!r} has characters Asterisk "
                                "cannot take in a file name", service="asterisk")
        for sound in greeting:  # the beep, when the flow wants one, is in the greeting
            await self._stream(sound, "")
        try:
            os.makedirs(folder, exist_ok=True)  # res_agi's RECORD FILE makes no folders
        except OSError as exc:
            log.warning("call %s: cannot make %s (%s); Asterisk may not store the message",
                        self.info.call_id, folder, exc)
        limit = max(0, max_length_ms)
        # no BEEP argument: the flow's greeting carries the beep it asked for
        reply = await self._cmd("RECORD FILE", base, "wav", "#", str(limit),
                                timeout=limit / 1000 + SLACK_S,
                                results=agi_results.record_file("#", limit))
        if reply.data == "writefile":
            raise ExternalError(f"Asterisk could not write the voicemail file {base}.wav",
                                service="asterisk")
        duration = max(0, reply.endpos or 0) // SAMPLES_PER_MS
        # a caller who said nothing leaves a header-only WAV: no message;
        # the file is looked at when this host sees Asterisk's folder
        stored = message_stored(duration, _file_bytes(base + ".wav"))
        file = base + ".wav" if stored else None
        self._note("voicemail", mailbox=mailbox, stored=stored, file=file, duration_ms=duration)
        if reply.value == -1 or reply.data == "hangup":
            # the message is kept; the next operation reports the hang-up
            self._end("caller")
        return VoicemailOutcome(stored, mailbox, file, duration)

    # -- sounds ------------------------------------------------------------------------------

    async def _stream(self, sound: Sound, keys: str) -> str | None:
        """One STREAM FILE; the key that stopped it, if one did."""
        if sound.kind == "tts":
            file = await sound_file(sound, self.settings, self.tts, self.info.language)
        else:
            file = prompt_file(sound, self.settings, self.info.language)
        start = self.clock.now()
        at = max(0, round((start - self._t0) / ONE_MS))
        key: str | None = None
        try:
            reply = await self._cmd("STREAM FILE", file, keys,
                                    timeout=self.settings.prompt_timeout_s,
                                    results=agi_results.keys(keys))
            value = reply.value or 0  # never None: the results hold numbers only
            if value < 0:
                await self._missing_or_gone(sound, file)
            elif value > 0:
                key = chr(value)
        except CallHungUp:
            key = "hangup"
            raise
        finally:
            # _note's entry, made in place: two calls fewer on every prompt
            self.log.entries.append(("heard", {
                "kind": sound.kind, "text": sound.text, "language": sound.language,
                "ms": max(0, round((self.clock.now() - start) / ONE_MS)),
                "interrupted_by": key, "at": at, "file": file}))
        return key

    async def _missing_or_gone(self, sound: Sound, file: str) -> None:
        """STREAM FILE said -1: a hang-up (CHANNEL STATUS is refused with
        511) or a sound file Asterisk does not have (logged, skipped)."""
        if self.session.hung_up:
            self._hung_up("a prompt")
        await self._cmd("CHANNEL STATUS", timeout=QUICK_S,  # 511 raises CallHungUp
                        results=agi_results.CHANNEL_STATE)
        if self.session.hung_up:
            self._hung_up("a prompt")
        log.warning("call %s: Asterisk could not play %s (%s %r): missing sound file",
                    self.info.call_id, file, sound.kind, sound.text)
        self._note("sound_missing", kind=sound.kind, text=sound.text, file=file)
