"""What can stop or divert a call. Hang-up is an exception raised by the
channel and caught once, by the interpreter (adhearsion's rule).
Imports nothing of the runtime: every floor raises these.
"""

from __future__ import annotations


class CallHungUp(Exception):
    """The caller hung up (or the channel died). Raised by the channel from
    whatever it was doing; the interpreter catches it once, runs the
    `on hangup` handler and ends the call."""


class CallHandedBack(CallHungUp):
    """The server gave the call back to the telephony system's dialplan
    (`ccf serve` stopping after its grace period): the flow's line is gone
    but the caller did not hang up, Asterisk carries on with them. A
    CallHungUp, so whatever ends quietly on a hang-up ends quietly here;
    the interpreter records the call as `handed_back`. When it came during
    a conversation with an agent, `talk_ms` is the talk until then and
    `wait_ms` the wait before the answer (None otherwise)."""

    def __init__(self, message: str, *, talk_ms: int | None = None,
                 wait_ms: int | None = None) -> None:
        super().__init__(message)
        self.talk_ms = talk_ms
        self.wait_ms = wait_ms


class ExternalError(Exception):
    """A CRM or HTTP call failed or timed out. An op with `on_error` runs
    that path; one without runs the flow's `on error` handler."""

    def __init__(self, message: str, *, service: str = "", timed_out: bool = False) -> None:
        super().__init__(message)
        self.service = service
        self.timed_out = timed_out


class FlowError(Exception):
    """The flow did something the compiler could not rule out: a value of
    the wrong kind at run time, a division by zero, a step budget spent.
    Carries the .ccf location of the op."""

    def __init__(self, message: str, loc: dict | None = None) -> None:
        super().__init__(message)
        self.loc = loc or {}


class StepBudgetExceeded(FlowError):
    """A call ran more ops than its budget: a runaway flow the compiler's
    loop check did not catch. The call ends with an error event."""


class IRError(Exception):
    """An IR document the runtime cannot run: wrong major version, or it
    fails the IR schema."""


class InputError(Exception):
    """Something a person wrote cannot be used: an option (`--at`, `--press`,
    a duration), an agents file, CRM fixtures, a test block's statement.
    Carries the .ccf location when a test statement is at fault."""

    def __init__(self, message: str, loc: dict | None = None) -> None:
        super().__init__(message)
        self.loc = loc or {}
