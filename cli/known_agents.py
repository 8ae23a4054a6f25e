"""An agent id the user typed, checked against the agents file before a command does anything:
one unknown is a usage error (exit 2) in every command. Reads no files itself."""

from __future__ import annotations

from collections.abc import Sequence

from ccdsl.cli.common import fail
from ccdsl.cli.exit_codes import USAGE


def known_agent(agents: Sequence, agent_id: str) -> None:
    """Exit USAGE unless AGENTS (AgentSpecs of the agents file) has AGENT_ID."""
    if any(agent.id == agent_id for agent in agents):
        return
    known = ", ".join(agent.id for agent in agents) or "none"
    raise fail(f"no agent {agent_id!r} in the agents file (the agents: {known})", USAGE)
