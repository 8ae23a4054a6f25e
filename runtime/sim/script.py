"""What a simulated caller does and when: `--at` and `--press`, and a test's `at`.

Must not import the Channel: it only builds a caller's actions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccdsl.runtime.core.durations import parse_duration_ms
from ccdsl.runtime.core.errors import InputError
from ccdsl.runtime.core.moments import parse_moment
from ccdsl.runtime.sim.caller import HangUp, Press, Silence, Speak

DEFAULT_AT = "2026-11-30 10:00"  # a Monday morning: office hours in most flows


# what the caller does: the simulator's own script actions
CallerAction = Press | Silence | HangUp | Speak


def hours_zone(ir: dict) -> str | None:
    """The zone all the flow's `hours` agree on (its centre's zone), if any."""
    zones = {h.get("tz") for h in ir.get("hours", {}).values() if h.get("tz")}
    return zones.pop() if len(zones) == 1 else None


def flow_zone(ir: dict) -> tuple[tzinfo, str]:
    """The zone a time without one is read in: the flow's business-hours
    zone when all its `hours` agree on one, else UTC."""
    return centre_zone([ir])


def centre_zone(irs, configured: str | None = None) -> tuple[tzinfo, str]:
    """The zone a simulated centre reads a time without one in (`ccf simulate
    --at`, `ccf serve --simulate --at`, a test's `at`): ccf.toml's [centre]
    timezone when given, else the zone all the flows' `hours` agree on, else UTC."""
    names = {configured} if configured else {hours_zone(ir) for ir in irs} - {None}
    name = names.pop() if len(names) == 1 else None
    if name is not None:
        try:
            return ZoneInfo(name), name
        except (ZoneInfoNotFoundError, ValueError):
            return UTC, "UTC"
    return UTC, "UTC"


def parse_at(text: str, default_zone: tzinfo | None = UTC,
             loc: dict | None = None) -> datetime:
    """`2026-11-30 10:00 Asia/Shanghai` or ISO 8601 (`2026-11-30T10:00+08:00`,
    `Z`, seconds) as a datetime (runtime.core.moments reads it), aware unless
    it names no zone and `default_zone` is None; a simulated call's years only."""
    moment = parse_moment(text, default_zone, loc)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        # a call's clock runs on from here, in time zones and for hours
        raise InputError(f'"{text}": a simulated call starts between the years {FIRST_YEAR} '
                         f"and {LAST_YEAR}", loc)
    return moment


_KEYS = re.compile(r"^[0-9*#]+$")
FIRST_YEAR, LAST_YEAR = 1900, 9000
LONGEST_MS = 86_400_000  # a scripted silence or speech: a call is shorter than a day
_NOT_AN_ACTION = ("`{word}` is not something a caller can do: write keys (0-9, * and #), a "
                  "silence such as 5s, speak:20s (talking into voicemail), or hangup")


def _span(word: str, duration: str) -> int:
    try:
        ms = parse_duration_ms(duration)
    except InputError:
        raise InputError(_NOT_AN_ACTION.format(word=word)) from None
    if ms > LONGEST_MS:
        raise InputError(f"`{word}` is longer than a day, which no call lasts")
    return ms


def parse_press(text: str) -> tuple[CallerAction, ...]:
    """What a caller does, from `--press`: words separated by spaces or
    commas; keys (`1`, `20261128#`) are pressed when the call next listens
    for keys, a duration (`5s`) is a silence, `speak:20s` talks into
    voicemail (the only way a message is left), `hangup` hangs up."""
    actions: list[CallerAction] = []
    for word in re.split(r"[\s,]+", text.strip()):
        if not word:
            continue
        if _KEYS.match(word):
            actions.append(Press(word))
        elif word.lower() in ("hangup", "hang-up"):
            actions.append(HangUp(after_ms=0))
        elif word.lower().startswith("speak:"):
            actions.append(Speak(_span(word, word[len("speak:"):])))
        else:
            actions.append(Silence(_span(word, word)))
    return tuple(actions)
