"""What the party a simulated call is transferred to hears: the transfer's `announce`.

As Dial()'s A() on Asterisk: played to the called party when it answers, before the
caller is connected. Notes on the channel's log only; must not decide the transfer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ccdsl.runtime.core.channel import Sound


class _Line(Protocol):
    """What of a SimChannel this needs (not imported: it imports this)."""

    def sound_ms(self, sound: Sound) -> int: ...
    def _note(self, entry: str, /, **data: Any) -> None: ...
    def _pass(self, ms: int, accept: Callable[[str], bool] | None = None) -> str | None: ...


def announce_to(ch: _Line, party: str, sounds: Sequence[Sound], *, wait: bool) -> None:
    """Note each sound the party hears (`announced`). `wait`: the caller waits
    meanwhile (an attended transfer, whose Dial() the flow holds); a blind
    transfer's announcement plays after the flow's part, taking none of its time."""
    for sound in sounds:
        ms = ch.sound_ms(sound)
        ch._note("announced", party=party, kind=sound.kind, text=sound.text,
                 language=sound.language, ms=ms)
        if wait:
            ch._pass(ms)
