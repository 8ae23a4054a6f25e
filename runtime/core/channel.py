"""The Channel: everything a call does to the phone line; one per call, driven by the interpreter.

Must not import the simulator or Asterisk, which implement it (runtime/sim/, runtime/asterisk/)
with the same observable behaviour; docs/runtime.md "What a channel must honour" says what.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Sound:
    """One thing the caller hears: a recorded file, or text to speak."""

    kind: Literal["file", "tts"]
    text: str  # the file name (no extension) or the words
    language: str  # BCP 47 tag the prompt was chosen for


@dataclass(frozen=True)
class CallInfo:
    """What the line tells us when the call arrives."""

    call_id: str
    caller_number: str
    caller_name: str | None
    dialled: str
    started: datetime  # aware
    channel: str = ""  # Asterisk channel name, "sim/1" in the simulator
    language: str | None = None  # the caller's language when the line knows it (a test's
    # `call language "en-US"`); None: the flow's default language


@dataclass(frozen=True)
class Digits:
    keys: str  # what the caller pressed, without the end key
    timed_out: bool  # the caller stopped before max digits or end key


@dataclass(frozen=True)
class DialTarget:
    kind: Literal["agent", "number"]
    id: str  # agent id, or the number to ring
    extension: str | None = None  # the agent's extension when kind == "agent"


@dataclass(frozen=True)
class Conversation:
    """How a bridged conversation with an agent (or number) went."""

    agent: str | None
    ring_ms: int  # from offering the call to the answer
    talk_ms: int
    ended_by: Literal["caller", "agent", "transfer"]
    # what the agent entered on the flow's wrap-up form during the
    # conversation, when the line reports it (an agent desktop); None: nothing yet
    wrapup: dict[str, Any] | None = None


@dataclass(frozen=True)
class DialOutcome:
    status: Literal["answered", "no_answer", "busy", "unavailable", "failed"]
    conversation: Conversation | None = None
    reason: str = ""


@dataclass(frozen=True)
class QueueRequest:
    queue: str  # qualified queue name in the IR
    priority: int
    skills: dict[str, int]  # skill -> minimum level (0: any level)
    max_wait_ms: int | None  # None: no limit
    music: str | None
    announce_position_ms: int | None  # announce every N ms, None: never
    strategy: str  # app_queue strategy: ringall, leastrecent, fewestcalls, random, rrmemory, linear
    ring_ms: int | None  # how long each member is rung
    # app_queue autopause: a member who lets the call ring out is paused in this
    # queue (yes), in every queue (all), or not (no: what an IR before 1.3 ran)
    autopause: str = "no"
    # the skills the queue's members were chosen by where the phone system keeps
    # them (Asterisk: the declared literal skills); None: not known
    member_skills: dict[str, int] | None = None
    # the caller's time in queue (docs/runtime.md "The wait in a queue"): the
    # messages played in turn every message_every_ms, the expected wait said
    # with the position, the keys that leave the queue (app_queue's `context`)
    messages: tuple[QueueMessage, ...] = ()
    message_every_ms: int | None = None
    announce_wait: bool = False
    keys: str = ""


@dataclass(frozen=True)
class QueueMessage:
    """One of a queue's periodic messages: its prompt and what it sounds like
    in the call's language."""

    prompt: str
    sounds: tuple[Sound, ...]


@dataclass(frozen=True)
class QueueAnnouncement:
    """What the line played to a waiting caller: a message (`prompt`), or the
    position and expected wait (`position`, `wait_minutes`); `at` when it began."""

    sounds: tuple[Sound, ...]
    at: datetime
    prompt: str | None = None
    position: int | None = None
    wait_minutes: int | None = None
    interrupted_by: str | None = None


# Called for each announcement the line plays to a waiting caller: the
# interpreter turns them into prompt_played events.
OnAnnounce = Callable[[QueueAnnouncement], None]


@dataclass(frozen=True)
class QueueOutcome:
    status: Literal["answered", "timeout", "empty", "full", "key"]
    wait_ms: int
    position: int  # position on entry, 1 = first
    conversation: Conversation | None = None
    reason: str = ""
    key: str | None = None  # status "key": the key the caller left the queue with
    left_position: int | None = None  # status "key": their place when they pressed it


# A WAV file's header: a file this long holds no audio. Asterisk's RECORD
# FILE leaves one for a caller who says nothing, then presses # or hangs up.
WAV_HEADER_BYTES = 44
# the file extensions of a recorded prompt Asterisk can play (its format
# modules format_wav, format_wav_gsm, format_gsm, format_pcm, format_sln,
# format_g722): what `ccf prompts check` calls present and the simulator plays
PLAYABLE = ("wav", "wav16", "WAV", "wav49", "gsm", "ulaw", "alaw", "sln", "sln16", "g722")


def message_stored(duration_ms: int, file_bytes: int | None) -> bool:
    """The rule for a voicemail message: stored when it holds audio, that is
    some length and, when the file can be looked at (file_bytes not None),
    more than a WAV header. A caller who says nothing leaves no message."""
    return duration_ms > 0 and (file_bytes is None or file_bytes > WAV_HEADER_BYTES)


@dataclass(frozen=True)
class VoicemailOutcome:
    """What a `voicemail` left: `stored` by message_stored; `file` and the
    mailbox's message only when stored."""

    stored: bool
    mailbox: str
    file: str | None
    duration_ms: int


@dataclass(frozen=True)
class TransferOutcome:
    status: Literal["transferred", "failed", "no_answer"]
    reason: str = ""


# Called when an agent answers (before the conversation): the interpreter
# runs `on answered by agent` (screen pop, wrap-up form) in it.
OnAnswer = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class QueueRing:
    """One ring of a queue member, as the line sees it: it starts to ring
    (`ringing`: app_queue's AgentCalled) or rings out (`no_answer`:
    AgentRingNoAnswer, after ring_ms). An answer is OnAnswer's; a ring
    that ends because another member answered or the caller left has no
    report of its own (Asterisk sends none)."""

    agent: str
    status: Literal["ringing", "no_answer"]
    ring_ms: int | None = None


# Called for each QueueRing while the caller waits: the interpreter turns
# them into the call's agent_offered / agent_no_answer events. It may
# return an awaitable, which the line awaits before going on.
OnRing = Callable[[QueueRing], Awaitable[None] | None]


class Channel(Protocol):
    info: CallInfo

    async def answer(self) -> None: ...

    async def hangup(self) -> None:
        """End the call from our side. Idempotent."""

    async def play(self, sounds: Sequence[Sound], *, interrupt_keys: str = "") -> str | None:
        """Play in order. With interrupt_keys, a key among them stops the
        playback (barge-in) and is returned; otherwise None."""

    async def read_digits(self, sounds: Sequence[Sound], *, max_digits: int, timeout_ms: int,
                          inter_digit_ms: int, end_key: str | None,
                          interruptible: bool = True) -> Digits:
        """Play the prompt, then read up to max_digits keys: the first
        within timeout_ms of the prompt's end, each next within
        inter_digit_ms; end_key ends input early and is not returned."""

    async def say(self, kind: str, value: str, language: str, *,
                  words: str | None = None) -> None:
        """Speak a value: kind is digits, number, money, date, time or alpha;
        value is already formatted as text (an ISO date for dates). words:
        the value normalised for text-to-speech in that language
        (runtime/core/speech.py), what a channel speaks when it speaks by
        TTS rather than by a SAY of its own; None: the value."""

    async def wait(self, ms: int, *, music: str | None = None) -> None: ...

    async def start_recording(self, path: str) -> None:
        """Record both directions of the rest of the call to path."""

    async def stop_recording(self) -> None: ...

    async def pause_recording(self) -> None:
        """Silence the recording running (both directions) until resumed:
        the same file goes on, silent meanwhile."""

    async def resume_recording(self) -> None: ...

    async def dial(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                   caller_id: str | None = None) -> DialOutcome:
        """Ring one agent or number; if answered, bridge the caller and
        return when the conversation ends (CallHungUp if the caller hangs up)."""

    async def enqueue(self, request: QueueRequest, *, on_answer: OnAnswer,
                      on_ring: OnRing | None = None,
                      on_announce: OnAnnounce | None = None) -> QueueOutcome:
        """Wait in a queue (app_queue semantics) until an agent answers, the
        wait limit passes, the queue has no one to take the call, or the
        caller presses one of request.keys (status "key"); each member's ring
        is reported to on_ring as it starts and if it rings out, each message
        or position announcement to on_announce."""

    async def transfer(self, target: DialTarget, *, mode: Literal["blind", "attended"],
                       ring_ms: int, caller_id: str | None = None,
                       announce: Sequence[Sound] = ()) -> TransferOutcome:
        """Hand the call over. A blind transfer that succeeds ends our part
        of the call. caller_id: the number the called party is shown (None:
        the caller's); announce: what the called party hears when it
        answers, before the caller is connected (Dial's f() and A())."""

    async def three_way(self, target: DialTarget, *, ring_ms: int, on_answer: OnAnswer,
                        caller_id: str | None = None) -> DialOutcome:
        """Add a third party to the caller's current conversation; caller_id:
        the number that party is shown (None: the caller's)."""

    async def voicemail(self, mailbox: str, *, greeting: Sequence[Sound],
                        max_length_ms: int) -> VoicemailOutcome: ...


@dataclass
class ChannelLog:
    """What a channel did, in order: lets a test or trace show what the
    caller heard without knowing the channel's kind."""

    entries: list[tuple[str, dict]] = field(default_factory=list)
