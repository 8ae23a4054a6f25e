"""SimChannel: the Channel over a scripted caller, a virtual clock and the simulated centre.

Never reads the wall clock: every prompt, wait and ring moves the virtual one
(docs/runtime.md "The simulated line").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Literal

from ccdsl.runtime.core.centre import AgentState
from ccdsl.runtime.core.channel import (
    CallInfo,
    ChannelLog,
    Conversation,
    DialOutcome,
    DialTarget,
    Digits,
    OnAnnounce,
    OnAnswer,
    OnRing,
    QueueOutcome,
    QueueRequest,
    Sound,
    TransferOutcome,
    VoicemailOutcome,
    message_stored,
)
from ccdsl.runtime.core.clock import VirtualClock, ms_delta
from ccdsl.runtime.core.errors import CallHungUp
from ccdsl.runtime.core.events import Event, EventSink
from ccdsl.runtime.core.speech import switch_says
from ccdsl.runtime.sim.caller import KEYS, ScriptedCaller
from ccdsl.runtime.sim.centre import AgentScript, SimCentre
from ccdsl.runtime.sim.queue_wait import QueueWait
from ccdsl.runtime.sim.recording_mute import RecordingMutes
from ccdsl.runtime.sim.sounds import SoundsFolder
from ccdsl.runtime.sim.transfer_party import announce_to

FILE_MS = 2_000
BEEP_MS = 300
TTS_MS_PER_CHAR = 65  # about 15 characters a second
TTS_MS_PER_CJK = 250  # about 4 characters a second
TTS_MIN_MS = 400
SAY_MS_PER_SYMBOL = 500  # say digits / alpha: one symbol each


@lru_cache(maxsize=4096)
def tts_ms(text: str) -> int:
    """How long text-to-speech takes to speak the text. Cached: a flow
    speaks the same prompts on every call."""
    cjk = sum(1 for ch in text if ord(ch) >= 0x2E80)
    latin = sum(1 for ch in text if not ch.isspace()) - cjk
    return max(TTS_MIN_MS, cjk * TTS_MS_PER_CJK + latin * TTS_MS_PER_CHAR)


@dataclass(frozen=True)
class RecordingEntry:
    """The index entry of a simulated recording: no audio, just its facts."""

    file: str
    started_ms: int  # since the call's start
    duration_ms: int
    paused: tuple[tuple[int, int], ...] = ()  # silent spans, ms from its start


class SimChannel:
    """One simulated call. `centre` is needed for dial, enqueue, transfer
    and three_way to agents; outside numbers follow centre.number().
    `sounds`: the centre's sounds folder; a recorded prompt it lacks is
    skipped as Asterisk skips it. Without it every recorded file plays."""

    def __init__(self, info: CallInfo, clock: VirtualClock, caller: ScriptedCaller,
                 centre: SimCentre | None = None, *, file_ms: int = FILE_MS,
                 file_durations: dict[str, int] | None = None,
                 sounds: SoundsFolder | None = None) -> None:
        self.info = info
        self.clock = clock
        self.caller = caller
        self.centre = centre or SimCentre()
        if self.centre.clock is None:
            self.centre.clock = clock  # its CentreView answers follow the call's time
        self.file_ms = file_ms
        self.file_durations = {"beep": BEEP_MS, **(file_durations or {})}
        self.sounds = sounds
        self.log = ChannelLog()
        self.recordings: list[RecordingEntry] = []
        self.answered = False
        self.ended_by: str | None = None  # caller | flow | transfer, once the call is over
        self._t0 = clock.now()
        # the clock's ticks at the start, when it keeps them (see _elapsed)
        self._t0_ticks = clock.ticks if type(clock) is VirtualClock else None
        self._recording: tuple[str, datetime] | None = None
        self.mutes = RecordingMutes()  # `pause recording`: its silent spans
        caller.begin(self._t0)

    # -- what happened ---------------------------------------------------

    def heard(self) -> list[Sound]:
        """Every sound the caller heard (wholly or in part), in order."""
        return [Sound(d["kind"], d["text"], d["language"])
                for kind, d in self.log.entries if kind == "heard"]

    def notify_step(self, step: str) -> None:
        """The flow entered a step (see StepWatch)."""
        self.caller.step_entered(step, self.clock.now())

    # -- the protocol ------------------------------------------------------

    async def answer(self) -> None:
        self._check()
        if not self.answered:
            self.answered = True
            self._note("answer")

    async def hangup(self) -> None:
        if self.ended_by is None:
            self._end("flow")

    async def play(self, sounds: Sequence[Sound], *, interrupt_keys: str = "") -> str | None:
        self._check()
        for sound in sounds:
            key = self._hear(sound, interrupt_keys)
            if key is not None:
                return key
        return None

    async def read_digits(self, sounds: Sequence[Sound], *, max_digits: int, timeout_ms: int,
                          inter_digit_ms: int, end_key: str | None,
                          interruptible: bool = True) -> Digits:
        self._check()
        keys = ""
        # a key during the prompt stops it and is the first digit (GET DATA)
        first = await self.play(sounds, interrupt_keys=KEYS if interruptible else "")
        if first is not None:
            if first == end_key:
                return self._digits("", False)
            keys = first
        if len(keys) >= max_digits:
            return self._digits(keys, False)
        self.caller.describe = _describe(max_digits, end_key)
        await self.caller.listen(self.clock.now())
        limit = inter_digit_ms if keys else timeout_ms
        while True:
            key = self._pass(limit, accept=_any_key)
            if key is None:
                return self._digits(keys, True)
            if key == end_key:
                return self._digits(keys, False)
            keys += key
            if len(keys) >= max_digits:
                return self._digits(keys, False)
            limit = inter_digit_ms

    async def say(self, kind: str, value: str, language: str, *,
                  words: str | None = None) -> None:
        self._check()
        # as long as the switch takes: its own SAY, or the words by text-to-speech
        if not switch_says(kind, value, language):
            ms = tts_ms(words or value)
        elif kind in ("digits", "alpha"):
            ms = SAY_MS_PER_SYMBOL * max(1, len(value))
        else:
            ms = tts_ms(value)
        self._note("said", kind=kind, value=value, language=language, ms=ms,
                   words=words or value)
        self._pass(ms)

    async def wait(self, ms: int, *, music: str | None = None) -> None:
        self._check()
        self._note("wait", ms=ms, music=music)
        self._pass(ms)

    async def start_recording(self, path: str) -> None:
        self._check()
        self._close_recording()
        self._recording = (path, self.clock.now())
        self._note("recording_started", file=path)

    async def stop_recording(self) -> None:
        self._check()
        self._close_recording()

    async def pause_recording(self, on: bool = True) -> None:
        self._check()
        if self._recording is not None and self.mutes.mute(self.clock.now(), on):
            self._note(f"recording_{'paused' if on else 'resumed'}", file=self._recording[0])

    async def resume_recording(self) -> None:
        await self.pause_recording(False)

    async def dial(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                   caller_id: str | None = None) -> DialOutcome:
        self._check()
        return await self._dial(target, ring_ms, on_answer, "dial", caller_id)

    async def three_way(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                        caller_id: str | None = None) -> DialOutcome:
        self._check()
        return await self._dial(target, ring_ms, on_answer, "three_way", caller_id)

    async def enqueue(self, request: QueueRequest, *, on_answer: OnAnswer,
                      on_ring: OnRing | None = None,
                      on_announce: OnAnnounce | None = None) -> QueueOutcome:
        self._check()
        return await QueueWait(self, request, on_answer, on_ring, on_announce).run()

    async def transfer(self, target: DialTarget, *, mode: Literal["blind", "attended"],
                       ring_ms: int, caller_id: str | None = None,
                       announce: Sequence[Sound] = ()) -> TransferOutcome:
        self._check()
        refusal = self._refusal(target)
        if refusal is not None:
            self._note("transfer", target=target.id, mode=mode, status="failed", reason=refusal,
                       caller_id=caller_id)
            return TransferOutcome("failed", refusal)
        script = self._script(target)
        answers = script.answer_after_ms is not None and script.answer_after_ms <= ring_ms
        if mode == "attended":
            self._ring([target.id] if target.kind == "agent" else [], target.id)
            ring = script.answer_after_ms if answers else ring_ms
            try:
                self._pass(ring)
            finally:
                if target.kind == "agent":
                    self.centre.ring_out([target.id])
            if not answers:
                self._note("transfer", target=target.id, mode=mode, status="no_answer",
                           caller_id=caller_id)
                return TransferOutcome("no_answer", f"{target.id} did not answer in {ring_ms} ms")
            # Dial's A(): the party hears it on answering while the caller waits
            announce_to(self, target.id, announce, wait=True)
        elif answers:
            announce_to(self, target.id, announce, wait=False)  # after the flow's part
        if target.kind == "agent" and answers:
            # the agent takes the call from here on, out of this simulation's sight
            delay = 0 if mode == "attended" else script.answer_after_ms
            self.centre.connect(target.id)
            self.centre.release(target.id, self.clock.now()
                                + ms_delta(delay + script.talk_ms))
        self._note("transfer", target=target.id, mode=mode, status="transferred",
                   caller_id=caller_id)
        self._end("transfer")
        return TransferOutcome("transferred")

    async def voicemail(self, mailbox: str, *, greeting: Sequence[Sound],
                        max_length_ms: int) -> VoicemailOutcome:
        self._check()
        for sound in greeting:  # the beep, when the flow wants one, is in the greeting
            self._hear(sound, "")
        await self.caller.before_message(self.clock.now())
        talk = min(self.caller.message_ms(self.clock.now()), max_length_ms)
        start = self.clock.now()
        try:
            self._pass(talk)
        except CallHungUp:
            # the message is kept; the next operation reports the hang-up,
            # as the next AGI command does after VoiceMail() returns
            pass
        duration = self._ms_since(start)
        stored = message_stored(duration, None)  # a silent caller said nothing: 0 ms
        file = f"voicemail/{mailbox}/{self.info.call_id}" if stored else None
        self._note("voicemail", mailbox=mailbox, stored=file is not None, file=file,
                   duration_ms=duration)
        return VoicemailOutcome(file is not None, mailbox, file, duration)

    # -- ringing and talking ------------------------------------------------

    def _refusal(self, target: DialTarget) -> str | None:
        """Why a target cannot be rung at all, or None."""
        if target.kind != "agent":
            return None
        self.centre.settle(self.clock.now())
        agent = self.centre.agent(target.id)
        if agent is None:
            return f"no agent {target.id}"
        if agent.state in (AgentState.LOGGED_OFF, AgentState.PAUSED):
            return f"{target.id} is {agent.state.value}"
        if agent.state in (AgentState.BUSY, AgentState.RINGING):
            return f"{target.id} is {agent.state.value}"
        return None

    def _script(self, target: DialTarget) -> AgentScript:
        if target.kind == "agent":
            return self.centre.scripts[target.id]
        return self.centre.number(target.id)

    async def _dial(self, target: DialTarget, ring_ms: int, on_answer: OnAnswer,
                    via: str, caller_id: str | None = None) -> DialOutcome:
        refusal = self._refusal(target)
        shown = {"caller_id": caller_id} if caller_id else {}  # what the party is shown
        if refusal is not None:
            agent = self.centre.agent(target.id)
            status = "busy" if agent is not None and agent.state in (
                AgentState.BUSY, AgentState.RINGING) else "unavailable"
            self._note(via, target=target.id, status=status, reason=refusal, **shown)
            return DialOutcome(status, reason=refusal)
        script = self._script(target)
        is_agent = target.kind == "agent"
        ids = [target.id] if is_agent else []
        answers = script.answer_after_ms is not None and script.answer_after_ms <= ring_ms
        ring = script.answer_after_ms if answers else ring_ms
        self._ring(ids, target.id)
        try:
            self._pass(ring)
        except CallHungUp:
            self.centre.ring_out(ids)
            raise
        if not answers:
            self.centre.ring_out(ids)
            self._note(via, target=target.id, status="no_answer", ring_ms=ring, **shown)
            return DialOutcome("no_answer", reason=f"{target.id} did not answer in {ring_ms} ms")
        self._note(via, target=target.id, status="answered", ring_ms=ring, **shown)
        conversation = await self._talk(target.id if is_agent else None, script, ring, on_answer,
                                        party=target.id)
        return DialOutcome("answered", conversation)

    def _ring(self, agent_ids: list[str], label: str) -> None:
        self.centre.offer(agent_ids)
        self._note("ring", targets=agent_ids or [label])

    async def _talk(self, agent_id: str | None, script: AgentScript, ring_ms: int,
                    on_answer: OnAnswer, party: str) -> Conversation:
        """Bridge the caller with whoever answered until one side ends it."""
        if agent_id is not None:
            self.centre.connect(agent_id)
        start = self.clock.now()
        ended_by = "caller"
        try:
            await on_answer(party)
            start = self.clock.now()
            self._pass(script.talk_ms)
            ended_by = script.ends
        except CallHungUp:
            # the caller hung up on the agent: the conversation is returned,
            # so its talk is recorded, and the interpreter then ends the call
            pass
        finally:
            talk = self._ms_since(start)
            if agent_id is not None:
                self.centre.release(agent_id, self.clock.now())
            self._note("conversation", party=party, talk_ms=talk, ended_by=ended_by)
        wrapup = dict(script.wrapup) if script.wrapup else None
        if ended_by == "caller":
            self._end("caller")
            return Conversation(agent_id, ring_ms, talk, "caller", wrapup=wrapup)
        return Conversation(agent_id, ring_ms, talk, "agent", wrapup=wrapup)

    # -- time, keys and hang-ups ---------------------------------------------

    def _check(self) -> None:
        if self.ended_by is not None:
            raise CallHungUp(f"the call has ended ({self.ended_by})")
        hang = self.caller.hangup_at()
        if hang is not None and hang <= self.clock.now():
            self._end("caller")
            raise CallHungUp("the caller hung up")

    def _pass(self, ms: int, accept: Callable[[str], bool] | None = None) -> str | None:
        """Let ms pass on the clock. A key the caller presses meanwhile that
        `accept` takes ends the pass early and is returned; other keys are
        lost. The caller's hang-up ends it with CallHungUp."""
        clock, caller = self.clock, self.caller
        left: int | None = max(ms, 0)  # ms from now to the end; None: work it out
        now = clock.now()
        end = now + ms_delta(left)
        while True:
            hang = caller.hangup_at()
            key = caller.peek()
            key_at = max(key.at, now) if key is not None and key.at < end else None
            if hang is not None and hang <= end and (key_at is None or hang < key_at):
                self._advance_to(hang)
                self._end("caller")
                raise CallHungUp("the caller hung up")
            if key_at is None:
                # _advance_to(end), inlined; most passes (no key, no hang-up)
                # get here first time round, with the ms they were given
                if left is None:
                    left = round((end - now).total_seconds() * 1000)
                if left > 0:
                    clock.advance(left)
                return None
            self._advance_to(key_at)
            pressed = caller.take().key
            if accept is not None and accept(pressed):
                return pressed
            self._note("key_lost", key=pressed)
            now, left = clock.now(), None

    def _advance_to(self, t: datetime) -> None:
        ms = round((t - self.clock.now()).total_seconds() * 1000)
        if ms > 0:
            self.clock.advance(ms)

    def _ms_since(self, t: datetime) -> int:
        return round((self.clock.now() - t).total_seconds() * 1000)

    def _elapsed(self) -> int:
        """_ms_since(self._t0): from the clock's ticks, the same whole ms
        without a datetime subtraction, while it keeps them."""
        if self._t0_ticks is not None:
            ticks = self.clock.ticks
            if ticks is not None:
                return ticks - self._t0_ticks
        return self._ms_since(self._t0)

    def _hear(self, sound: Sound, interrupt_keys: str) -> str | None:
        if self.sounds is not None and self.sounds.lacks(sound):
            # Asterisk answers STREAM FILE with -1 at once and ccf serve goes
            # on: nothing is heard and no time passes (noted as AgiChannel does)
            self._note("sound_missing", kind=sound.kind, text=sound.text,
                       language=sound.language, file=self.sounds.path(sound))
            return None
        # _elapsed inlined (twice per sound heard, the channel's commonest step)
        clock = self.clock
        start = clock.now()
        start_ticks = clock.ticks if self._t0_ticks is not None else None
        at = start_ticks - self._t0_ticks if start_ticks is not None \
            else round((start - self._t0).total_seconds() * 1000)
        key = None
        try:
            key = self._pass(self.sound_ms(sound),
                             accept=interrupt_keys.__contains__ if interrupt_keys else None)
        except CallHungUp:
            key = "hangup"  # as the AGI channel notes it: the sound was cut off
            raise
        finally:
            end_ticks = clock.ticks if start_ticks is not None else None
            self._note("heard", kind=sound.kind, text=sound.text, language=sound.language,
                       ms=end_ticks - start_ticks if end_ticks is not None
                       else round((clock.now() - start).total_seconds() * 1000),
                       interrupted_by=key, at=at)
        return key

    def sound_ms(self, sound: Sound) -> int:
        if sound.kind == "tts":
            return tts_ms(sound.text)
        return self.file_durations.get(sound.text, self.file_ms)

    def _digits(self, keys: str, timed_out: bool) -> Digits:
        self._note("keys", keys=keys, timed_out=timed_out)
        return Digits(keys, timed_out)

    def _end(self, by: str) -> None:
        if self.ended_by is None:
            self._close_recording()
            self.ended_by = by
            self._note("hangup", by=by)

    def _close_recording(self) -> None:
        if self._recording is None:
            return
        path, start = self._recording
        self._recording = None
        entry = RecordingEntry(path, self._ms_since(self._t0) - self._ms_since(start),
                               self._ms_since(start), self.mutes.close(start, self.clock.now()))
        self.recordings.append(entry)
        self._note("recording_stopped", file=path, duration_ms=entry.duration_ms,
                   paused=[list(span) for span in entry.paused])

    def _note(self, entry: str, /, **data) -> None:
        if "at" not in data:  # not setdefault: it would work out the time every time
            data["at"] = self._elapsed()
        self.log.entries.append((entry, data))


class StepWatch:
    """An event sink wrapper that tells the channel when the flow enters a
    step, so a caller scripted to hang up there does."""

    def __init__(self, sink: EventSink, channel: SimChannel) -> None:
        self.sink = sink
        self.channel = channel
        self._pass_on = sink.emit  # every event goes through: found once
        # what CallRuntime unwraps (see its `watching`): it then tells the
        # channel of each step itself and gives events straight to `sink`
        self.watching = (channel.notify_step, sink)

    def emit(self, event: Event) -> None:
        if event.kind == "step_entered":
            self.channel.notify_step(str(event.data.get("step", "")))
        self._pass_on(event)


def _any_key(key: str) -> bool:
    return True


def _describe(max_digits: int, end_key: str | None) -> str:
    what = "a key" if max_digits == 1 else f"up to {max_digits} keys"
    return what + (f", then {end_key}" if end_key else "")
