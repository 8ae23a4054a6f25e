"""How in-queue call-backs are retried: ccf.toml's `[callbacks]` read into a CallbackPolicy.

Plain data and its checks: must not dial, read the store or know the runtimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError

UNITS = ("s", "m", "h", "d")


@dataclass(frozen=True)
class CallbackPolicy:
    """attempts: how often the customer's line is dialled at most (an agent
    who does not answer costs none); retry_after: between two of them;
    give_up_after: from the request, after which it is not dialled again."""

    attempts: int = 3
    retry_after_ms: int = 10 * 60_000
    give_up_after_ms: int = 24 * 3_600_000
    enabled: bool = True  # `dial = false`: requests are kept, and dialled by hand


DEFAULT_POLICY = CallbackPolicy()


def read_policy(table: Any, where: str = "ccf.toml") -> tuple[CallbackPolicy, list[str]]:
    """The policy of a `[callbacks]` table (None: the defaults), and the
    problems found, each "where: callbacks.KEY: what; how to fix it"."""
    if table is None:
        return DEFAULT_POLICY, []
    if not isinstance(table, Mapping):
        return DEFAULT_POLICY, [f"{where}: callbacks: expected a table such as "
                                '[callbacks] attempts = 3, retry_after = "10m"']
    problems: list[str] = []
    known = {"attempts", "retry_after", "give_up_after", "dial"}
    for key in sorted(set(table) - known):
        problems.append(f"{where}: callbacks.{key}: unknown setting; the settings are "
                        f"{', '.join(sorted(known))}")
    attempts = table.get("attempts", DEFAULT_POLICY.attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
        problems.append(f"{where}: callbacks.attempts: {attempts!r} is not valid; expected a "
                        "whole number from 1 to 100, such as 3")
        attempts = DEFAULT_POLICY.attempts
    retry = _duration(table, "retry_after", DEFAULT_POLICY.retry_after_ms, where, problems)
    give_up = _duration(table, "give_up_after", DEFAULT_POLICY.give_up_after_ms, where,
                        problems)
    dial = table.get("dial", True)
    if not isinstance(dial, bool):
        problems.append(f"{where}: callbacks.dial: {dial!r} is not valid; expected true or "
                        "false")
        dial = True
    return CallbackPolicy(attempts, retry, give_up, dial), problems


def _duration(table: Mapping, key: str, default: int, where: str,
              problems: list[str]) -> int:
    if key not in table:
        return default
    value = table[key]
    try:
        if not isinstance(value, str):
            raise InputError("not text")
        ms = parse_duration_ms(value, key, units=UNITS)
    except InputError:
        problems.append(f"{where}: callbacks.{key}: {value!r} is not valid; expected a "
                        'duration above zero such as "30s", "10m", "2h" or "1d"')
        return default
    if ms <= 0:
        problems.append(f"{where}: callbacks.{key}: {value!r} is not valid; expected a "
                        "duration above zero")
        return default
    return ms
