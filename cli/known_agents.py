"""An agent id the user typed, checked against the agents file before a command does anything:
one unknown is a usage error (exit 2) in every command. Reads no files itself."""

from __future__ import annotations

from collections.abc import Sequence

from ccdsl.cli.common import fail
from ccdsl.cli.exit_codes import USAGE


def known_agent(agents: Sequence, agent_id: str):
    """The AgentSpec of AGENT_ID in AGENTS (the agents file's); exit USAGE, in the words
    every command and the console use, when it has none."""
    # imported here: listing the commands (ccf --help) must not load the runtime
    from ccdsl.runtime.operations.agents_file import agent_named

    return agent_named(agents, agent_id, lambda words, **_: fail(words, USAGE))
