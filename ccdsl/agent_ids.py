"""What an agent's id may be, for the agents file, test blocks and the console alike;
must import nothing of ccdsl.

An id names the agent's Asterisk queue member and may fill the Dial()
interface template (`Local/{agent}@agents`), so it keeps to characters no
dialplan, AMI header or file name treats specially."""

from __future__ import annotations

import re

_ID = re.compile(r"[A-Za-z0-9_-]+")


def agent_id_problem(agent_id: str) -> str | None:
    """Why this cannot be an agent's id, or None when it can."""
    if _ID.fullmatch(agent_id):
        return None
    return f"agent id `{agent_id}` may only use ASCII letters, digits, `_` and `-`"
