"""ccf.toml's `[console]`: where the console's users are, how long a session lasts, pause reasons.

Read by ccf serve on Asterisk and by the simulated centre alike; must not read the file itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.operations.agent_desk import DEFAULT_REASONS

DEFAULT_USERS = "console-users.json"
DEFAULT_IDLE_S = 30 * 60.0  # a session unused this long ends (OWASP: 15-30 min)
DEFAULT_MAX_S = 12 * 3600.0  # and none outlives a long shift


@dataclass(frozen=True)
class ConsoleSettings:
    users: str = DEFAULT_USERS  # made absolute beside the ccf.toml when read from one
    session_idle_s: float = DEFAULT_IDLE_S
    session_max_s: float = DEFAULT_MAX_S
    pause_reasons: tuple[str, ...] = DEFAULT_REASONS
    supervisor_devices: Mapping[str, str] | None = None  # user id -> extension to ring


def console_settings(section: Mapping[str, Any], resolve: Callable[[str], str]) -> ConsoleSettings:
    """The section as ccf.schema.json has already checked it."""
    def seconds(key: str, default: float) -> float:
        return parse_duration_ms(section[key]) / 1000 if key in section else default

    reasons = tuple(section.get("pause_reasons", DEFAULT_REASONS))
    return ConsoleSettings(
        users=resolve(section.get("users", DEFAULT_USERS)),
        session_idle_s=seconds("session_idle", DEFAULT_IDLE_S),
        session_max_s=seconds("session_max", DEFAULT_MAX_S),
        pause_reasons=reasons,
        supervisor_devices=dict(section.get("supervisor_devices", {})) or None)
