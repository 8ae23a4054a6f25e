"""The simulated caller: what the person on the line does, and when.

Documented in docs/runtime.md "The simulated caller". Knows neither the Channel nor the
interpreter: SimChannel asks it what happens next.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ccdsl.runtime.core.clock import ms_delta

KEYS = "0123456789*#"
DEFAULT_KEY_GAP_MS = 250
DEFAULT_MAX_CALL_MS = 2 * 3_600_000


@dataclass(frozen=True)
class Press:
    keys: str
    after_ms: int | None = None  # None: when the flow next listens

    def __post_init__(self) -> None:
        bad = [k for k in self.keys if k not in KEYS]
        if bad or not self.keys:
            raise ValueError(f"a caller presses keys among {KEYS}, not {self.keys!r}")


@dataclass(frozen=True)
class Silence:
    ms: int


@dataclass(frozen=True)
class HangUp:
    after_ms: int | None = None
    in_step: str | None = None


@dataclass(frozen=True)
class Speak:
    """Talk into voicemail for ms, then end the message with `#`. A caller
    whose next action is anything else says nothing: no message is stored."""

    ms: int


Action = Press | Silence | HangUp | Speak


class Key(NamedTuple):
    """A key the caller presses, and when. A named tuple, not a frozen
    dataclass: one is made per key of every simulated call, and a frozen
    dataclass sets each field through object.__setattr__."""

    at: datetime
    key: str


class ScriptedCaller:
    """A caller that follows a script. The channel drives it:

    - `begin(t0)` when the call starts;
    - `listen(now)` when the flow starts waiting for keys (releases an
      untimed press);
    - `peek()` / `take()` the next key the caller presses, with its time;
    - `hangup_at()` the time the caller hangs up, if it is known yet;
    - `step_entered(step, now)` when the flow enters a step;
    - `before_message(now)` after the voicemail beep, then `message_ms(now)` how
      long the caller talks into voicemail.
    """

    def __init__(self, actions: Sequence[Action] = (), *, key_gap_ms: int = DEFAULT_KEY_GAP_MS,
                 max_call_ms: int = DEFAULT_MAX_CALL_MS) -> None:
        self.actions = tuple(actions)
        self.key_gap_ms = key_gap_ms
        self.max_call_ms = max_call_ms
        self._i = 0
        self._prev: datetime | None = None  # when the previous action finished
        self._keys: deque[Key] = deque()  # the current press, materialised
        self._hangup: datetime | None = None
        self._limit: datetime | None = None
        self.describe = "keys"  # what the flow waits for, set by the channel

    # -- the channel's side --------------------------------------------

    def begin(self, t0: datetime) -> None:
        self._prev = t0
        self._limit = t0 + ms_delta(self.max_call_ms)
        self._advance()

    async def listen(self, now: datetime) -> None:
        """The flow listens for keys from now on."""
        action = self._current()
        if isinstance(action, Press) and action.after_ms is None and not self._keys:
            self._type(action.keys, max(now, self._prev))

    def peek(self) -> Key | None:
        return self._keys[0] if self._keys else None

    def take(self) -> Key:
        key = self._keys.popleft()
        if not self._keys:
            self._prev = key.at
            self._i += 1
            self._advance()
        return key

    def hangup_at(self) -> datetime | None:
        if self._hangup is not None and self._limit is not None:
            return min(self._hangup, self._limit)
        return self._hangup or self._limit

    def step_entered(self, step: str, now: datetime) -> None:
        action = self._current()
        if isinstance(action, HangUp) and action.in_step == step and self._hangup is None:
            self._hangup = now + ms_delta(action.after_ms or 0)

    async def before_message(self, now: datetime) -> None:
        """The voicemail beep has sounded: a script already says what comes next."""

    def message_ms(self, now: datetime) -> int:
        """How long the caller talks after the voicemail beep (before a
        hang-up cuts it, which the channel checks): a Speak's length, else 0,
        a caller who says nothing and so leaves no message (as on Asterisk,
        where RECORD FILE then keeps only a WAV header)."""
        action = self._current()
        if isinstance(action, Speak):
            self._prev = now + ms_delta(action.ms)
            self._i += 1
            self._advance()
            return action.ms
        return 0

    # -- the script ----------------------------------------------------

    def _current(self) -> Action | None:
        return self.actions[self._i] if self._i < len(self.actions) else None

    def _type(self, keys: str, start: datetime) -> None:
        gap, at, typed = ms_delta(self.key_gap_ms), start, self._keys
        for k in keys:
            typed.append(Key(at, k))
            at += gap

    def _advance(self) -> None:
        """Apply the actions that need no flow to happen: silences, timed
        presses (materialised), hang-ups (scheduled)."""
        while (action := self._current()) is not None:
            if isinstance(action, Silence):
                self._prev += ms_delta(action.ms)
                self._i += 1
                continue
            if isinstance(action, Press) and action.after_ms is not None and not self._keys:
                self._type(action.keys, self._prev + ms_delta(action.after_ms))
            elif isinstance(action, HangUp) and action.in_step is None:
                self._hangup = self._prev + ms_delta(action.after_ms or 0)
            return


# What the interactive caller asks: a description of what the flow waits
# for; the answer is what the caller does next, as --press reads it (a tuple
# of actions: () is silence), or the keys typed as text, or None to hang up.
Answer = Sequence[Action] | str | None
AskKeys = Callable[[str], "Answer | Awaitable[Answer]"]


# What an interactive caller is asked after the voicemail beep (`messages=True`).
LEAVING_A_MESSAGE = "a message after the beep"


class InteractiveCaller(ScriptedCaller):
    """A script written as the call goes: asked for when the flow listens
    and what was typed before is done. `describe` is set by the channel
    before `listen` (what the flow waits for). With `messages`, also asked
    after a voicemail beep (LEAVING_A_MESSAGE), where `speak:20s` talks."""

    def __init__(self, ask: AskKeys, *, key_gap_ms: int = DEFAULT_KEY_GAP_MS,
                 max_call_ms: int = DEFAULT_MAX_CALL_MS, messages: bool = False) -> None:
        super().__init__((), key_gap_ms=key_gap_ms, max_call_ms=max_call_ms)
        self.ask = ask
        self.messages = messages

    async def before_message(self, now: datetime) -> None:
        if self.messages and not self._scripted():
            self.describe = LEAVING_A_MESSAGE
            await self._ask(now)

    async def listen(self, now: datetime) -> None:
        if not self._scripted():
            await self._ask(now)
        await super().listen(now)

    def _scripted(self) -> bool:
        """Whether what was typed before still says what comes next."""
        return bool(self._keys) or self._hangup is not None or self._current() is not None

    async def _ask(self, now: datetime) -> None:
        answer = self.ask(self.describe)
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None:
            self._hangup = now
            return
        if isinstance(answer, str):
            keys = "".join(k for k in answer if k in KEYS)
            answer = (Press(keys),) if keys else ()
        # what was typed runs from now, as a --press script from the call's start
        self.actions = self.actions + tuple(answer)
        self._prev = max(now, self._prev or now)
        self._advance()
