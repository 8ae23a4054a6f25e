"""The console's skills: the names and levels it accepts.

Saving them into the agents file is runtime/operations/agents_file.py's save_skills (one
writer for Asterisk and the simulated centre), re-exported here for console_control. Must
not talk to Asterisk or decide who may change skills.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ccdsl.runtime.operations.agents_file import SkillsError, save_skills

__all__ = ["LEVELS", "SKILL_NAME", "SkillsError", "check_skills", "save_skills"]

SKILL_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
LEVELS = range(1, 11)


def check_skills(skills: Mapping[str, Any]) -> dict[str, int]:
    """Skill names of letters, digits, _ and -, levels 1..10."""
    out: dict[str, int] = {}
    for name, level in skills.items():
        if not isinstance(name, str) or not SKILL_NAME.fullmatch(name):
            raise SkillsError(f"the skill name {name!r} may only use letters, digits, _ and - "
                              "(at most 40)")
        if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
            raise SkillsError(f"the level of {name} must be a whole number from 1 to 10, "
                              f"not {level!r}")
        out[name] = level
    return out
