"""The contact centre's people and queues as the routing engine sees them.

The simulator keeps this state itself; on Asterisk it is mirrored from AMI
(QueueMember, DeviceState events). The routing engine reads it through
this module's types only, so a decision is the same on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AgentState(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"  # on a call, or in wrap-up
    RINGING = "ringing"
    PAUSED = "paused"
    LOGGED_OFF = "logged_off"


@dataclass
class Agent:
    id: str
    name: str = ""
    extension: str = ""
    skills: dict[str, int] = field(default_factory=dict)  # skill -> level 1..10
    state: AgentState = AgentState.AVAILABLE
    idle_since: datetime | None = None  # when the agent last became available
    calls_taken: int = 0
    queues: tuple[str, ...] = ()  # queues the agent is a member of

    def has_skills(self, wanted: dict[str, int]) -> bool:
        return all(self.skills.get(s, -1) >= level for s, level in wanted.items())


# test and CLI words for agent states (`agent li state "offline"`)
STATE_WORDS = {
    "available": AgentState.AVAILABLE,
    "busy": AgentState.BUSY,
    "ringing": AgentState.RINGING,
    "paused": AgentState.PAUSED,
    "offline": AgentState.LOGGED_OFF,
    "logged_off": AgentState.LOGGED_OFF,
    "logged off": AgentState.LOGGED_OFF,
}


def parse_state(word: str) -> AgentState:
    try:
        return STATE_WORDS[word.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown agent state {word!r}; one of {', '.join(STATE_WORDS)}") \
            from None
