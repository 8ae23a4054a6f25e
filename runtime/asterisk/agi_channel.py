"""AgiChannel: runtime.core.channel.Channel over one FastAGI session.

Each op becomes AGI commands and Asterisk applications (the op -> AGI table
of the team brief, kept in docs/asterisk.md): prompts are STREAM FILE,
keys WAIT FOR DIGIT, values SAY * (or text-to-speech), waits Wait() or
MusicOnHold(), recordings MixMonitor(), agents Dial() and Queue(),
voicemail RECORD FILE. Replies are read as the captures show them.

Safety: every argument is quoted by agi.quote; every value put inside an
application's data (`EXEC Dial <data>`) is first checked by
runtime/asterisk/names.py, so a caller number, a CRM value or a mailbox
cannot add an application argument, a Dial option or a path. A value that
cannot be made safe fails the op with ExternalError (the flow's error
path runs), and nothing is sent.

Hang-ups: `result=-1` on a prompt, a key wait, an application or RECORD
FILE, a 511, the async `HANGUP` line or the socket closing raise
CallHungUp, from this op or (after a voicemail that keeps its message)
the next one.

`on answered by agent`: Dial's U() and Queue's gosub run the dialplan's
`ccf-answered` Gosub on the agent's channel, which connects back to the
server; the server fires this call's AnswerHooks entry and the flow's
handler runs while the agent's line is being connected. Meanwhile this
call's AGI is blocked in Dial()/Queue(): a channel op from the handler
cannot run, and fails with ExternalError (the interpreter reports it and
the conversation goes on).
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ccdsl.runtime.asterisk import names
from ccdsl.runtime.asterisk.agi import (
    AgiArgumentError,
    AgiConnectionClosed,
    AgiEnvironment,
    AgiProtocolError,
    AgiReply,
    AgiSession,
)
from ccdsl.runtime.asterisk.tts import TtsError, TtsRenderer
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.core.channel import (
    CallInfo,
    ChannelLog,
    Conversation,
    DialOutcome,
    DialTarget,
    Digits,
    OnAnswer,
    QueueOutcome,
    QueueRequest,
    Sound,
    TransferOutcome,
    VoicemailOutcome,
)
from ccdsl.runtime.core.clock import Clock
from ccdsl.runtime.core.errors import CallHungUp, ExternalError
from ccdsl.runtime.core.ops.media import RECORDING_FORMATS

log = logging.getLogger("ccdsl.agi")

ALL_KEYS = "0123456789*#"
QUICK_S = 10.0  # a command that answers at once (ANSWER, SET/GET VARIABLE, CHANNEL STATUS)
SLACK_S = 10.0  # on top of a command's own length (a wait, a key wait, a recording)
SAMPLES_PER_MS = 8  # endpos counts 8 kHz samples
_SOUND_NAME = names.SOUND_NAME
_LANGUAGE = names.LANGUAGE_TAG
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./-]+")  # what may go into MixMonitor's data
_CALL_ID = names.CALL_ID
_INT32 = re.compile(r"-?\d{1,9}")
_DIALSTATUS: dict[str, Literal["no_answer", "busy", "unavailable", "failed"]] = {
    "NOANSWER": "no_answer", "BUSY": "busy", "CHANUNAVAIL": "unavailable",
    "CONGESTION": "failed", "DONTCALL": "failed", "TORTURE": "failed", "INVALIDARGS": "failed",
}
_QUEUESTATUS: dict[str, Literal["timeout", "full", "empty"]] = {
    "TIMEOUT": "timeout", "WITHDRAW": "timeout", "FULL": "full", "JOINEMPTY": "empty",
    "LEAVEEMPTY": "empty", "JOINUNAVAIL": "empty", "LEAVEUNAVAIL": "empty",
}


@dataclass(frozen=True)
class AgiSettings:
    sounds_dir: str  # recorded prompts: <sounds_dir>/<language>/<name>.<ext>
    recordings_dir: str
    agent_interface: str = "PJSIP/{extension}"
    say_languages: tuple[str, ...] = ("en",)  # SAY * for these primary subtags, else TTS
    # how an outside number is rung: through the transfer context, whose
    # dialplan knows the trunks (runtime/asterisk/dialplan.py)
    number_interface: str = "Local/{number}@" + names.TRANSFER_CONTEXT
    prompt_timeout_s: float = 600.0  # one STREAM FILE or SAY: its reply comes when it ends
    bridge_timeout_s: float = 8 * 3600.0  # Dial()/Queue() return when the conversation ends


class AnswerHooks:
    """The `on answer` callbacks of calls now ringing an agent, by call id
    (one per server): the `ccf-answered` connection fires them."""

    def __init__(self) -> None:
        self._hooks: dict[str, OnAnswer] = {}

    def register(self, call_id: str, on_answer: OnAnswer) -> None:
        self._hooks[call_id] = on_answer

    def unregister(self, call_id: str) -> None:
        self._hooks.pop(call_id, None)

    async def fire(self, call_id: str, agent: str) -> bool:
        """Run the call's hook (to its end); False when no call waits for one."""
        hook = self._hooks.get(call_id)
        if hook is None:
            return False
        await hook(agent)
        return True

    def __len__(self) -> int:
        return len(self._hooks)


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


class _AnsweredHook:
    """What AnswerHooks runs for one Dial()/Queue(): the flow's on_answer,
    once, with the agent the Gosub named. Its failures are kept for the
    call's own task, which raises them when the application returns (the
    Gosub's connection must not carry a hang-up of the caller)."""

    def __init__(self, channel: AgiChannel, on_answer: OnAnswer, default: str | None) -> None:
        self.channel = channel
        self.on_answer = on_answer
        self.default = default
        self.agent: str | None = None
        self.at: datetime | None = None
        self.error: BaseException | None = None

    @property
    def fired(self) -> bool:
        return self.at is not None

    async def __call__(self, agent: str) -> None:
        if self.fired:
            return  # one answer per Dial()/Queue()
        self.at = self.channel.clock.now()
        self.agent = agent if agent and agent != "-" else self.default
        self.channel._note("answered", agent=self.agent)
        try:
            await self.on_answer(self.agent or "")
        except Exception as err:  # noqa: BLE001 - raised in the call's own task instead
            self.error = err


class AgiChannel:
    """One call on Asterisk (module doc)."""

    def __init__(self, session: AgiSession, info: CallInfo, *, clock: Clock,
                 tts: TtsRenderer, settings: AgiSettings, hooks: AnswerHooks,
                 agents: Callable[[str], Agent | None]) -> None:
        self.session = session
        self.info = info
        self.clock = clock
        self.tts = tts
        self.settings = settings
        self.hooks = hooks
        self.agents = agents
        self.log = ChannelLog()
        self.answered = False
        self.ended_by: str | None = None  # caller | flow | transfer, once the call is over
        self._bridged: str | None = None  # the application holding the line (Dial, Queue)
        self._t0 = clock.now()

    # -- what happened ----------------------------------------------------------

    def heard(self) -> list[Sound]:
        """Every sound the caller heard (wholly or in part), in order."""
        return [Sound(d["kind"], d["text"], d["language"])
                for kind, d in self.log.entries if kind == "heard"]

    # -- the line ------------------------------------------------------------------

    async def answer(self) -> None:
        self._enter("answer")
        if self.answered:
            return
        reply = await self._cmd("ANSWER", timeout=QUICK_S)
        if reply.value == -1:
            self._hung_up("answer")
        self.answered = True
        self._note("answer")

    async def hangup(self) -> None:
        if self.ended_by is not None:
            return
        session = self.session
        if not session.hung_up and not session.closed and not session.busy:
            try:
                await session.command("HANGUP", timeout=QUICK_S)
            except AgiProtocolError as exc:
                log.info("call %s: HANGUP got no reply (%s)", self.info.call_id, exc)
        self._end("caller" if session.hung_up else "flow")

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
            reply = await self._cmd(f"WAIT FOR DIGIT {ms}", timeout=ms / 1000 + SLACK_S)
            value = reply.value
            if value is None or value < 0:
                self._hung_up("a key wait")
            if value == 0:
                return self._digits(keys, True)
            key = chr(value)
            if key == end_key:
                return self._digits(keys, False)
            keys += key
            limit = inter_digit_ms
        return self._digits(keys, False)

    async def say(self, kind: str, value: str, language: str) -> None:
        self._enter("say")
        command = self._say_command(kind, value, language)
        start = self.clock.now()
        if command is None:
            self._note("said", kind=kind, value=value, language=language, via="tts")
            await self._stream(Sound("tts", value, language), "")
            return
        reply = await self._cmd(command[0], command[1], "", timeout=self.settings.prompt_timeout_s)
        self._note("said", kind=kind, value=value, language=language, via="say",
                   ms=self._ms_since(start))
        if reply.value is not None and reply.value < 0:
            self._hung_up("say")

    def _say_command(self, kind: str, value: str, language: str) -> tuple[str, str] | None:
        """Asterisk's own SAY for the languages it has sounds for, when the
        value is one SAY takes; None: text-to-speech instead."""
        if language.split("-", 1)[0].lower() not in self.settings.say_languages:
            return None
        if kind == "digits" and re.fullmatch(r"\+?[0-9][0-9*#]*", value):
            return "SAY DIGITS", value  # res_agi wants a number first (sscanf %d)
        if kind == "number" and _INT32.fullmatch(value):
            return "SAY NUMBER", value
        if kind == "alpha" and value and value.isprintable():
            return "SAY ALPHA", value
        zone = self.clock.now().tzinfo
        try:
            if kind == "date":
                # noon: the same day in any zone within 12 hours of the clock's
                day = datetime.fromisoformat(value).replace(hour=12, tzinfo=zone)
                return "SAY DATE", str(int(day.timestamp()))
            if kind == "time":
                hour, minute = (int(p) for p in value.split(":")[:2])
                moment = self.clock.now().replace(hour=hour, minute=minute, second=0,
                                                  microsecond=0)
                return "SAY TIME", str(int(moment.timestamp()))
        except ValueError:
            return None
        return None

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
        target = self._recording_file(path)
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

    def _recording_file(self, path: str) -> str:
        """Where MixMonitor writes: under recordings_dir, each part of the
        flow's path made plain by names.file_part, with an audio format
        Asterisk writes."""
        root = os.path.abspath(self.settings.recordings_dir)
        stem, ext = os.path.splitext(path)
        fmt = ext[1:].lower() if ext[1:].lower() in RECORDING_FORMATS else "wav"
        full = os.path.abspath(stem)
        if full.startswith(root + os.sep):
            parts = os.path.relpath(full, root).split(os.sep)
        else:
            parts = [os.path.basename(stem)]  # elsewhere: only its name, under the root
        target = os.path.join(root, *(names.file_part(p) for p in parts)) + "." + fmt
        if not _SAFE_PATH.fullmatch(target):
            raise ExternalError(f"the recordings folder {root!r} has characters MixMonitor "
                                "cannot take (use letters, digits, _, -, . and /)",
                                service="asterisk")
        return target

    # -- agents ----------------------------------------------------------------------------

    async def dial(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                   caller_id: str | None = None) -> DialOutcome:
        self._enter("dial")
        interface, agent_id = self._interface(target)
        if caller_id:
            number = self._safe(names.diallable, caller_id)
            await self._cmd("SET VARIABLE CALLERID(num)", number, timeout=QUICK_S)
        return await self._bridge(target, interface, agent_id, ring_ms, on_answer, "dial")

    async def three_way(self, target: DialTarget, *, ring_ms: int,
                        on_answer: OnAnswer) -> DialOutcome:
        self._enter("three_way")
        interface, agent_id = self._interface(target)
        return await self._bridge(target, interface, agent_id, ring_ms, on_answer, "three_way")

    async def _bridge(self, target: DialTarget, interface: str, agent_id: str | None,
                      ring_ms: int, on_answer: OnAnswer, via: str) -> DialOutcome:
        call_id = self._gosub_call_id()
        data = (f"{interface},{_seconds(ring_ms)},"
                f"gU({names.ANSWERED_SUB}^{call_id}^{agent_id or '-'})")
        hook = _AnsweredHook(self, on_answer, agent_id or target.id)
        self._note("ring", targets=[target.id], via=via)
        start = self.clock.now()
        reply = await self._blocked("Dial", data, hook, self.settings.bridge_timeout_s)
        if hook.error is not None:
            raise hook.error
        if reply.value == -1 or (self.session.hung_up and not hook.fired):
            # (a caller gone before Dial() started: a dead channel runs EXEC
            # and answers 200, the HANGUP line already read)
            self._note(via, target=target.id, status="hangup", answered=hook.fired)
            self._hung_up("the conversation" if hook.fired else "the ring")
        status = (await self._variable("DIALSTATUS")).upper()
        if status == "CANCEL":
            self._hung_up("the ring")
        if status != "ANSWER":
            outcome = _DIALSTATUS.get(status, "failed")
            ring = self._ms_since(start)
            self._note(via, target=target.id, status=outcome, dialstatus=status, ring_ms=ring)
            return DialOutcome(outcome, reason=f"{target.id}: Dial() ended with DIALSTATUS="
                                               f"{status or '(none)'}")
        # The times come from the answered hook, not from Dial()'s variables:
        # on Asterisk 22 ANSWEREDTIME_MS and DIALEDTIME_MS measure the caller's
        # channel (app_dial.c end_bridge_callback: its up time and duration),
        # so after an IVR they include the whole call before the Dial()
        # (seen on a real Asterisk: 39.9 s of "talk" for a 25.5 s conversation)
        if hook.fired:
            ring_ms_taken = round((hook.at - start) / timedelta(milliseconds=1))
            talk_ms = self._ms_since(hook.at)
        else:
            # no ccf-answered Gosub in the dialplan: the handler runs now, late,
            # and the ring cannot be told from the talk
            ring_ms_taken, talk_ms = 0, self._ms_since(start)
            await hook(agent_id or "")
            if hook.error is not None:
                raise hook.error
        party = agent_id if target.kind == "agent" else None
        self._note("conversation", party=target.id, talk_ms=talk_ms, ended_by="agent")
        self._note(via, target=target.id, status="answered", ring_ms=max(0, ring_ms_taken))
        return DialOutcome("answered", Conversation(party, max(0, ring_ms_taken), talk_ms,
                                                    "agent"))

    async def enqueue(self, request: QueueRequest, *, on_answer: OnAnswer) -> QueueOutcome:
        self._enter("enqueue")
        queue = names.queue_name(request.queue)
        music = self._safe(names.music_class, request.music) if request.music else None
        call_id = self._gosub_call_id()
        await self._cmd("SET VARIABLE QUEUE_PRIO", str(int(request.priority)), timeout=QUICK_S)
        if music:
            await self._cmd("SET VARIABLE CHANNEL(musicclass)", music, timeout=QUICK_S)
        limit = "" if request.max_wait_ms is None else str(math.ceil(request.max_wait_ms / 1000))
        # Queue(name,options,URL,announceoverride,timeout,AGI,gosub): Asterisk 21+ has
        # no macro argument, the gosub is the 7th. Its form is `context,args`
        # (app_queue.c splits it at the first comma into Gosub(context,s,1(args))),
        # so it is quoted to stay one argument of Queue() (ast_app_separate_args)
        data = f'{queue},c,,,{limit},,"{names.ANSWERED_SUB},{call_id}"'
        hook = _AnsweredHook(self, on_answer, None)
        self._note("queue_joined", queue=request.queue, priority=request.priority,
                   music=music)
        start = self.clock.now()
        reply = await self._blocked("Queue", data, hook, self.settings.bridge_timeout_s)
        if hook.error is not None:
            raise hook.error
        if reply.value == -1 or (self.session.hung_up and not hook.fired):
            # as in dial: the caller may be gone before Queue() started
            self._note("queue_left", queue=request.queue, outcome="hangup",
                       wait_ms=self._ms_since(start))
            self._hung_up("the queue")
        status = (await self._variable("QUEUESTATUS")).upper()
        position = _int(await self._variable("QUEUEPOSITION")) or 0
        if status in _QUEUESTATUS:
            wait = self._ms_since(start)
            self._note("queue_left", queue=request.queue, outcome=_QUEUESTATUS[status],
                       wait_ms=wait)
            return QueueOutcome(_QUEUESTATUS[status], wait, position,
                                reason=f"QUEUESTATUS={status}")
        if not hook.fired and status in ("", "CONTINUE"):
            await self._answered_late(hook, start)
        if not hook.fired and status != "CONTINUE":
            raise ExternalError(f"Asterisk's queue {queue} did not take the call (Queue() "
                                f"returned with QUEUESTATUS={status or '(none)'}; is the queue "
                                "in queues.conf?)", service="asterisk")
        answered_at = hook.at or start
        wait = round((answered_at - start) / timedelta(milliseconds=1))
        talk = max(0, self._ms_since(answered_at))
        self._note("queue_left", queue=request.queue, outcome="answered", wait_ms=wait,
                   agent=hook.agent)
        self._note("conversation", party=hook.agent, talk_ms=talk, ended_by="agent")
        return QueueOutcome("answered", wait, position,
                            Conversation(hook.agent, 0, talk, "agent"))

    async def transfer(self, target: DialTarget, *, mode: Literal["blind", "attended"],
                       ring_ms: int) -> TransferOutcome:
        self._enter("transfer")
        if mode == "blind":
            extension = self._extension(target)
            for verb, arg in (("SET CONTEXT", names.TRANSFER_CONTEXT),
                              ("SET EXTENSION", extension), ("SET PRIORITY", "1")):
                reply = await self._cmd(verb, arg, timeout=QUICK_S)
                if reply.value == -1:
                    self._hung_up("the transfer")
            self._note("transfer", target=target.id, mode=mode, status="transferred",
                       extension=extension)
            self._end("transfer")  # the dialplan carries on there when the AGI ends
            return TransferOutcome("transferred")
        interface, _ = self._interface(target)
        self._note("ring", targets=[target.id], via="transfer")
        reply = await self._blocked("Dial", f"{interface},{_seconds(ring_ms)}", None,
                                    self.settings.bridge_timeout_s)
        status = (await self._variable("DIALSTATUS")).upper()
        if status == "ANSWER":
            self._note("transfer", target=target.id, mode=mode, status="transferred")
            self._end("transfer")
            return TransferOutcome("transferred")
        if reply.value == -1 or status == "CANCEL":
            self._hung_up("the transfer")
        outcome: Literal["no_answer", "failed"] = "no_answer" if status == "NOANSWER" \
            else "failed"
        self._note("transfer", target=target.id, mode=mode, status=outcome, dialstatus=status)
        return TransferOutcome(outcome, f"Dial() ended with DIALSTATUS={status or '(none)'}")

    # -- voicemail --------------------------------------------------------------------------

    async def voicemail(self, mailbox: str, *, greeting: Sequence[Sound],
                        max_length_ms: int) -> VoicemailOutcome:
        self._enter("voicemail")
        root = os.path.abspath(self.settings.recordings_dir)
        folder = os.path.join(root, "voicemail", names.file_part(mailbox))
        base = os.path.join(folder, names.file_part(self.info.call_id))
        if not _SAFE_PATH.fullmatch(base):
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
                                timeout=limit / 1000 + SLACK_S)
        if reply.data == "writefile":
            raise ExternalError(f"Asterisk could not write the voicemail file {base}.wav",
                                service="asterisk")
        duration = max(0, reply.endpos or 0) // SAMPLES_PER_MS
        stored = duration > 0
        file = base + ".wav" if stored else None
        self._note("voicemail", mailbox=mailbox, stored=stored, file=file, duration_ms=duration)
        if reply.value == -1 or reply.data == "hangup":
            # the message is kept; the next operation reports the hang-up
            self._end("caller")
        return VoicemailOutcome(stored, mailbox, file, duration)

    # -- sounds ------------------------------------------------------------------------------

    async def _stream(self, sound: Sound, keys: str) -> str | None:
        """One STREAM FILE; the key that stopped it, if one did."""
        file = await self._file_of(sound)
        start = self.clock.now()
        at = self._ms_since(self._t0)
        key: str | None = None
        try:
            reply = await self._cmd("STREAM FILE", file, keys,
                                    timeout=self.settings.prompt_timeout_s)
            value = reply.value
            if value is None or value < 0:
                await self._missing_or_gone(sound, file)
            elif value > 0:
                key = chr(value)
        except CallHungUp:
            key = "hangup"
            raise
        finally:
            self._note("heard", kind=sound.kind, text=sound.text, language=sound.language,
                       ms=self._ms_since(start), interrupted_by=key, at=at, file=file)
        return key

    async def _missing_or_gone(self, sound: Sound, file: str) -> None:
        """STREAM FILE said -1: a hang-up (CHANNEL STATUS is refused with
        511) or a sound file Asterisk does not have (logged, skipped)."""
        if self.session.hung_up:
            self._hung_up("a prompt")
        await self._cmd("CHANNEL STATUS", timeout=QUICK_S)  # 511 raises CallHungUp
        if self.session.hung_up:
            self._hung_up("a prompt")
        log.warning("call %s: Asterisk could not play %s (%s %r): missing sound file",
                    self.info.call_id, file, sound.kind, sound.text)
        self._note("sound_missing", kind=sound.kind, text=sound.text, file=file)

    async def _file_of(self, sound: Sound) -> str:
        """What STREAM FILE gets: a rendered TTS file, a recorded prompt
        under sounds_dir/<language>/, else the bare name (Asterisk's own)."""
        if sound.kind == "tts":
            language = sound.language or self.info.language or "en"
            try:
                return await self.tts.render(sound.text, language)
            except TtsError as err:
                raise ExternalError(str(err), service="tts") from None
        name = sound.text
        if not _SOUND_NAME.fullmatch(name) or len(name) > 200:
            raise ExternalError(f"the sound file name {name!r} may only use letters, digits, "
                                "_, - and . in parts separated by /", service="asterisk")
        if name.startswith("voicemail/") and self.settings.recordings_dir:
            # a message or a prompt take recorded on this centre (RECORD FILE
            # wrote it under recordings_dir/voicemail/), played back by name
            recorded = _SOUNDS.lookup(os.path.abspath(self.settings.recordings_dir),
                                      "voicemail", name[len("voicemail/"):])
            if recorded is not None:
                return recorded
        language = sound.language or self.info.language or ""
        if self.settings.sounds_dir and _LANGUAGE.fullmatch(language):
            found = _SOUNDS.lookup(os.path.abspath(self.settings.sounds_dir), language, name)
            if found is not None:
                return found
        return name

    # -- commands -----------------------------------------------------------------------------

    def _enter(self, op: str) -> None:
        if self._bridged is not None:
            raise ExternalError(
                f"the line is bridged to the agent; `{op}` cannot run while {self._bridged}() "
                "holds the caller (on Asterisk `on answered by agent` may not use the line)",
                service="asterisk")
        if self.ended_by is not None:
            raise CallHungUp(f"the call has ended ({self.ended_by})")
        if self.session.hung_up:
            self._hung_up(op)

    async def _cmd(self, verb: str, *args: str, timeout: float) -> AgiReply:
        """One command; a hang-up in any of its forms raises CallHungUp, a
        command Asterisk refuses (510, 520) ExternalError."""
        try:
            reply = await self.session.command(verb, *args, timeout=timeout)
        except AgiConnectionClosed as exc:
            self._end("caller")
            raise CallHungUp(f"the caller hung up ({exc})") from None
        except AgiArgumentError as exc:
            raise ExternalError(str(exc), service="asterisk") from None
        if reply.code == 511:
            self._hung_up(verb)
        if reply.code in (510, 520):
            first = reply.text.split("\n", 1)[0]
            raise ExternalError(f"Asterisk refused `{verb}`: {first}", service="asterisk")
        return reply

    async def _blocked(self, app: str, data: str, hook: _AnsweredHook | None,
                       timeout: float) -> AgiReply:
        """EXEC an application that holds the line until a conversation
        ends, with this call's answered hook registered meanwhile."""
        call_id = self.info.call_id
        if hook is not None:
            self.hooks.register(call_id, hook)
        self._bridged = app
        try:
            reply = await self._cmd(f"EXEC {app}", data, timeout=timeout)
        finally:
            self._bridged = None
            if hook is not None:
                self.hooks.unregister(call_id)
        if reply.value == -2:
            raise ExternalError(f"Asterisk has no {app} application", service="asterisk")
        return reply

    async def _variable(self, name: str) -> str:
        reply = await self._cmd(f"GET VARIABLE {name}", timeout=QUICK_S)
        if reply.value == -1:
            # Asterisk 22 answers GET VARIABLE even on a dead channel (0 or 1),
            # so -1 is a line in trouble: taken as the caller gone, like the
            # other commands' -1, rather than as an empty variable
            self._hung_up(f"reading {name}")
        return (reply.data or "") if reply.value == 1 else ""

    def _interface(self, target: DialTarget) -> tuple[str, str | None]:
        """The Dial() interface of a target, and the agent's id."""
        if target.kind == "agent":
            extension = self._extension(target)
            return self._safe(names.agent_interface, self.settings.agent_interface, target.id,
                              extension), target.id
        number = self._safe(names.diallable, target.id)
        return self.settings.number_interface.format(number=number), None

    def _extension(self, target: DialTarget) -> str:
        if target.kind != "agent":
            return self._safe(names.diallable, target.id)
        extension = target.extension
        if not extension:
            agent = self.agents(target.id)
            extension = agent.extension if agent is not None else ""
        if not extension:
            raise ExternalError(f"agent {target.id!r} has no extension to ring",
                                service="asterisk")
        return self._safe(names.diallable, extension)

    async def _answered_late(self, hook: _AnsweredHook, start: datetime) -> None:
        """Queue() connected an agent but the `ccf-answered` Gosub did not run
        (a dialplan without it): the member app_queue connected is in
        MEMBERNAME and the caller's wait in QEHOLDTIME (queues.conf
        `setinterfacevar` and `setqueueentryvar`, which the deployment
        writes). on_answer then runs after the conversation rather than
        before it, and the log says so."""
        member = await self._variable("MEMBERNAME")
        if not member:
            return
        held = _int(await self._variable("QEHOLDTIME"))
        log.warning("call %s: the ccf-answered Gosub did not run on %s's channel; "
                    "`on answered by agent` runs after the conversation (is the deployed "
                    "dialplan loaded?)", self.info.call_id, member)
        await hook(member)
        if held is not None:
            hook.at = start + timedelta(seconds=held)
        if hook.error is not None:
            raise hook.error

    def _gosub_call_id(self) -> str:
        call_id = self.info.call_id
        if not _CALL_ID.fullmatch(call_id):
            raise ExternalError(f"the call id {call_id!r} cannot be passed to the answered "
                                "Gosub", service="asterisk")
        return call_id

    @staticmethod
    def _safe(check: Callable[..., str], *args: str) -> str:
        try:
            return check(*args)
        except names.UnsafeValue as exc:
            raise ExternalError(str(exc), service="asterisk") from None

    # -- state ---------------------------------------------------------------------------------

    def _hung_up(self, during: str) -> None:
        self._end("caller")
        raise CallHungUp(f"the caller hung up during {during}")

    def _end(self, by: str) -> None:
        if self.ended_by is None:
            self.ended_by = by
            self._note("hangup", by=by)

    def _digits(self, keys: str, timed_out: bool) -> Digits:
        self._note("keys", keys=keys, timed_out=timed_out)
        return Digits(keys, timed_out)

    def _ms_since(self, t: datetime) -> int:
        return max(0, round((self.clock.now() - t) / timedelta(milliseconds=1)))

    def _note(self, entry: str, /, **data) -> None:
        data.setdefault("at", self._ms_since(self._t0))
        self.log.entries.append((entry, data))


def _seconds(ms: int) -> str:
    """Seconds as Dial() reads them (sscanf %lf)."""
    return f"{max(ms, 0) / 1000:.3f}"


def _int(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d+", text.strip()) else None


class _SoundIndex:
    """Which recorded prompts exist under sounds_dir, looked up once per
    name for a few seconds (a flow plays the same prompts on every call;
    a prompt added while the server runs is found soon after)."""

    TTL_S = 5.0
    MAX = 4096

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], tuple[float, str | None]] = {}

    def lookup(self, root: str, language: str, name: str) -> str | None:
        key = (root, language, name)
        now = time.monotonic()
        hit = self._seen.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        base = os.path.join(root, language, *name.split("/"))
        folder, stem = os.path.split(base)
        try:
            found = any(os.path.splitext(entry)[0] == stem for entry in os.listdir(folder)
                        if entry != stem)
        except OSError:
            found = False
        if len(self._seen) >= self.MAX:
            self._seen.clear()
        self._seen[key] = (now + self.TTL_S, base if found else None)
        return base if found else None


_SOUNDS = _SoundIndex()
