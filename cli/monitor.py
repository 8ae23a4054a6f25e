"""`ccf monitor CALL`: a supervisor listens to, whispers to or barges into a call.
Reads options and prints; runtime.asterisk.monitor does the work."""

from __future__ import annotations

from enum import StrEnum

import typer

from ccdsl.cli.common import (
    ConfigOption,
    fail,
    finite,
    load_centre,
    require_ami_secrets,
    service_exit_code,
    write,
)


class Mode(StrEnum):
    """The option's choices; runtime.asterisk.monitor.Mode by value (imported when the
    command runs, so `ccf`'s other commands do not load AMI code at start)."""

    listen = "listen"
    whisper = "whisper"
    barge = "barge"


_MODES = {
    "listen": "listens to {agent} without being heard",
    "whisper": "whispers to {agent}; the caller does not hear",
    "barge": "talks to both {agent} and the caller",
}


def monitor(
    call: str = typer.Argument(..., metavar="CALL", show_default=False,
                               help="The call's id (its Asterisk Uniqueid, as `ccf status` "
                                    "and the call store show it)."),
    supervisor: str = typer.Option(..., "--supervisor", "-s", show_default=False,
                                   help="The supervisor's extension; the phone is rung with "
                                        "the agents' interface of ccf.toml "
                                        "(PJSIP/{extension})."),
    mode: Mode = typer.Option(Mode.listen, "--mode", "-m",
                              help="listen (silent), whisper (to the agent only) or barge "
                                   "(to both)."),
    ring: float = typer.Option(30.0, "--ring", min=1, max=300, callback=finite,
                               help="Seconds the supervisor's phone rings before giving up."),
    config: ConfigOption = None,
) -> None:
    """Let a supervisor listen to, whisper to or barge into a call with an agent.

    Finds the agent's channel of CALL on Asterisk (AMI CoreShowChannels),
    rings the supervisor's phone and, when it is answered, connects it with
    ChanSpy: `listen` hears both sides, `whisper` also talks to the agent,
    `barge` talks to both. The session is noted in the call store
    (centre_events, kind monitor_started). Monitoring exists on Asterisk
    only: simulated calls have no phones to ring. Exit status: 0 when the
    supervisor is connected, 1 when the call is not found, has no agent
    yet, or the supervisor's phone did not answer; 2 for a usage error; 4
    when Asterisk's AMI does not answer.
    """
    import asyncio
    import sqlite3
    from datetime import datetime

    from ccdsl.runtime.asterisk.monitor import Mode as RuntimeMode
    from ccdsl.runtime.asterisk.monitor import MonitorError, monitor_call, record_started
    from ccdsl.runtime.operations.store import StoreError

    centre = load_centre(config)
    require_ami_secrets(centre)
    try:
        session = asyncio.run(monitor_call(centre, call, supervisor, RuntimeMode(mode.value),
                                           ring_timeout_s=ring))
    except MonitorError as exc:
        raise fail(str(exc), service_exit_code(exc)) from None
    agent = f"agent {session.agent} ({session.agent_channel})" if session.agent \
        else session.agent_channel
    write(f"Monitoring call {session.call_id}: the supervisor at {session.device} "
          f"{_MODES[mode.value].format(agent=agent)}.\n")
    try:
        record_started(centre.store_path, session, datetime.now().astimezone())
    except (sqlite3.Error, OSError, StoreError) as exc:
        # the session runs; only its note in the store is lost
        write(f"warning: the session was not noted in the call store {centre.store_path}: "
              f"{exc}\n", err=True)
