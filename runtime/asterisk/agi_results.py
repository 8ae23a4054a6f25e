"""What each AGI command the runtime sends may answer in `200 result=`; anything else is
a protocol error. Pure look-ups: must not send commands or know the call."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ccdsl.runtime.asterisk.agi import C_INT, AgiReply

# DTMF has sixteen keys; A-D exist on some phones and in SendDTMF, and
# ast_waitfordigit returns any of them as its character code
DTMF_KEYS = "0123456789*#ABCD"


@dataclass(frozen=True)
class Results:
    """The results one command may answer: numbers within `spans`, and the
    character codes of `keys`. `what` says so in an error message."""

    spans: tuple[range, ...]
    keys: str = ""
    what: str = ""

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        for span in self.spans:  # a loop, not any(): asked of every reply
            if value in span:
                return True
        return 0 < value < 0x110000 and chr(value) in self.keys


# -1: failure or hang-up, 0: done (ANSWER; SAY * given no escape digits)
DONE = Results((range(-1, 1),), what="-1 or 0")
# any number: EXEC passes on the application's return value (Dial's, Queue's: 0
# or -1; -2 is no such application), SET * and others are never read beyond -1
ANY = Results((C_INT,), what="a number")
# GET VARIABLE: 1 with the value in parentheses, 0 not set (-1: a line in trouble)
VARIABLE = Results((range(-1, 2),), what="-1, 0 or 1")
# CHANNEL STATUS: the channel's state (ast_channel_state: 0 down ... 7 busy and
# beyond), -1 no such channel
CHANNEL_STATE = Results((range(-1, C_INT.stop),), what="-1 or a channel state (0 or more)")


@lru_cache(maxsize=256)  # asked per STREAM FILE; the flows use a handful of key sets
def keys(escape: str) -> Results:
    """STREAM FILE, SAY *, WAIT FOR DIGIT (escape: every key): -1, 0 (the end,
    or a key wait's timeout), or the code of a key among `escape`, the only
    keys that can end it."""
    allowed = "".join(k for k in escape if k in DTMF_KEYS)
    what = f"-1, 0 or the code of a key of {allowed}" if allowed else "-1 or 0"
    return Results((range(-1, 1),), allowed, what)


def record_file(escape: str, limit_ms: int) -> Results:
    """RECORD FILE: -1 (hang-up, a file it cannot write), the code of the
    escape key that ended it (dtmf), or the milliseconds left when it ended
    (timeout: 0 at the limit, more when silence ended it first)."""
    allowed = "".join(k for k in escape if k in DTMF_KEYS)
    return Results((range(-1, max(0, limit_ms) + 1),), allowed,
                   f"-1, the milliseconds left (0 to {max(0, limit_ms)}) or the code of "
                   f"a key of {allowed}")


ANY_KEY = keys(DTMF_KEYS)  # WAIT FOR DIGIT: whatever key the caller pressed


def problem(reply: AgiReply, results: Results) -> str | None:
    """Why a 200 reply is no answer to its command, or None when it is one."""
    if reply.code != 200 or reply.value in results:
        return None
    return f"its result is not {results.what}"
