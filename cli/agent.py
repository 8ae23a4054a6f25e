"""`ccf agent pause|unpause AGENT`: take an agent out of the queues' rotation or back in.

Reads options and prints; runtime.asterisk.pause does the work.
"""

from __future__ import annotations

import typer

from ccdsl.cli.common import (
    ConfigOption,
    fail,
    load_centre,
    require_ami_secrets,
    service_exit_code,
    write,
)
from ccdsl.cli.known_agents import known_agent

app = typer.Typer(
    name="agent",
    help="Pause an agent in the queues on Asterisk, or unpause one (after the queue "
         "option `autopause` paused a member who let a call ring out).",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

AgentArgument = typer.Argument(..., metavar="AGENT", show_default=False,
                               help="The agent's id in the agents file.")
QueueOption = typer.Option(None, "--queue", "-q", metavar="QUEUE", show_default=False,
                           help="Only in this queue (its name in the flow). Default: every "
                                "queue the agent is a member of.")


@app.command("pause")
def pause(
    agent: str = AgentArgument,
    queue: str | None = QueueOption,
    reason: str | None = typer.Option(None, "--reason", metavar="TEXT", show_default=False,
                                      help="Why, as Asterisk shows it (PausedReason)."),
    config: ConfigOption = None,
) -> None:
    """Pause an agent: the queues stop ringing them until `ccf agent unpause`.

    Exit status: 0 when Asterisk paused the member, 1 when it did not, 2
    for a usage error (an agent the agents file does not have too), 4 when
    Asterisk's AMI does not answer. With several Asterisk servers: on each
    one the agent is a member of; an error names a server that did not
    answer or refused, after the others were done.
    """
    _run(agent, True, queue, reason, config)


@app.command("unpause")
def unpause(
    agent: str = AgentArgument,
    queue: str | None = QueueOption,
    config: ConfigOption = None,
) -> None:
    """Unpause an agent: the queues ring them again, also after an auto-pause.

    Exit status: 0 when Asterisk unpaused the member, 1 when it did not, 2
    for a usage error (an agent the agents file does not have too), 4 when
    Asterisk's AMI does not answer. With several Asterisk servers: as for
    pause.
    """
    _run(agent, False, queue, None, config)


def _run(agent: str, paused: bool, queue: str | None, reason: str | None,
         config: str | None) -> None:
    import asyncio

    from ccdsl.runtime.asterisk.pause import PauseError, set_paused

    centre = load_centre(config)
    known_agent(centre.agents.agents, agent)
    require_ami_secrets(centre)  # every server is asked: each one's secret
    try:
        done = asyncio.run(set_paused(centre, agent, paused, queue=queue, reason=reason))
    except PauseError as exc:
        raise fail(str(exc), service_exit_code(exc)) from None
    where = f"queue {done.queue}" if done.queue else "every queue"
    why = f": {done.reason}" if done.reason else ""
    on = f" on {', '.join(done.servers)}" if done.servers else ""
    write(f"agent {done.agent} ({done.interface}) {'paused' if done.paused else 'unpaused'} "
          f"in {where}{on}{why}\n")
