"""What a running centre lets its console do: agents in and out of the queues, call control.

ccf serve on Asterisk (runtime/asterisk/console_control.py) and the simulated centre
(runtime/sim/live_centre.py) each provide one; the console calls nothing else to act on
the phones. Must not import a web framework, the simulator or Asterisk code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

TARGET_KINDS = ("agent", "queue", "number")
TRANSFER_MODES = ("blind", "attended")
MONITOR_MODES = ("listen", "whisper", "barge")


class ControlError(Exception):
    """An action that cannot be done now; the message is for the person who
    asked (it is shown on their page). `status` is the HTTP status the
    console answers with: 404 an unknown call or agent, 409 a call or agent
    in the wrong state, 400 bad input, 503 the phone system not reachable."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def one_of(value: str, choices: tuple[str, ...], what: str) -> str:
    """`value` when it is one of `choices`; else ControlError 400 saying so
    (one check for the console's pages and every centre's control)."""
    if value not in choices:
        raise ControlError(f"{what} {str(value)[:20]!r}: one of {', '.join(choices)}", 400)
    return value


@dataclass(frozen=True)
class Target:
    """Where a call goes: an agent's id, a flow's queue name, or a number as
    the centre's outbound context dials it."""

    kind: Literal["agent", "queue", "number"]
    value: str


class CentreControl(Protocol):
    """The actions (module doc). Every method raises ControlError when the
    action cannot be done; none blocks the event loop. `call_id` is the
    call store's id of a call this centre runs now."""

    mode: str  # "asterisk" or "simulated": shown on the pages

    async def agent_login(self, agent: str) -> None:
        """Make the agent a member of the queues its skills fit (Asterisk:
        QueueAdd with MemberName = the agent id), unpaused."""

    async def agent_logout(self, agent: str) -> None:
        """Take the agent out of every queue (Asterisk: QueueRemove)."""

    async def agent_pause(self, agent: str, paused: bool, reason: str | None) -> None:
        """Stop or resume offering the agent calls, in every queue, with the
        reason (Asterisk: QueuePause with Reason)."""

    async def set_skills(self, agent: str, skills: dict[str, int]) -> None:
        """Save the agent's skills and levels (the agents file the simulator
        and ccf serve read at start) and apply them now: the queues the agent
        is a member of follow (Asterisk: QueueAdd/QueueRemove)."""

    async def hangup(self, call_id: str) -> None:
        """End the call (caller and agent)."""

    async def hold(self, call_id: str, on: bool) -> None:
        """Put the caller on hold (music) or take them off it, back to the agent."""

    async def transfer(self, call_id: str, target: Target, mode: str) -> None:
        """Blind: the caller goes to the target and the agent is free.
        Attended: the agent is connected to the target first; the caller
        joins when the agent hangs up (Asterisk: Atxfer)."""

    async def add_party(self, call_id: str, target: Target) -> None:
        """Ring the target and join it to the conversation: three on the line."""

    async def read_to_caller(self, call_id: str, text: str, language: str) -> None:
        """Speak the text into the call with the centre's TTS (caller and
        agent both hear it)."""

    async def monitor(self, call_id: str, supervisor: str, mode: str) -> dict[str, Any]:
        """Ring the supervisor's device (an extension) and connect it to the
        agent's leg of the call: listen, whisper (the agent hears) or barge
        (both hear). What `ccf monitor` does; returns what was started."""

    async def callback(self, voicemail_call_id: str, agent: str,
                       number: str | None = None) -> dict[str, Any]:
        """Call the caller who left the voicemail back: the agent's device
        first, then the caller. What `ccf callback` does; returns its outcome."""
