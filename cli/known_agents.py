"""An agent id the user typed, checked against the agents file before a command does anything:
one unknown is a usage error (exit 2) in every command. Reads no files itself."""

from __future__ import annotations

from collections.abc import Sequence

from ccdsl.cli.common import fail
from ccdsl.cli.exit_codes import USAGE


def known_agent(agents: Sequence, agent_id: str) -> None:
    """Exit USAGE unless AGENTS (AgentSpecs of the agents file) has AGENT_ID."""
    # imported here: listing the commands (ccf --help) must not load the runtime
    from ccdsl.runtime.operations.agents_file import unknown_agent

    problem = unknown_agent(agents, agent_id)
    if problem is not None:
        raise fail(problem, USAGE)
