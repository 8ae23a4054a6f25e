"""`ccf callback CALL --agent AGENT`: ring the agent, then the customer.
Reads options and prints; runtime.asterisk.callback plans and places the call."""

from __future__ import annotations

from pathlib import Path

import typer

from ccdsl.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    StoreOption,
    fail,
    open_store,
    require_ami_secrets,
    service_exit_code,
    write,
)
from ccdsl.cli.exit_codes import PROBLEMS, USAGE
from ccdsl.cli.known_agents import known_agent


def callback(
    call: str = typer.Argument(..., metavar="CALL", show_default=False,
                               help="The call to return: a call id, or a voicemail's id (the "
                                    "id of the call that left it; `ccf voicemail list`)."),
    agent: str = typer.Option(..., "--agent", "-a", metavar="AGENT", show_default=False,
                              help="The agent who calls back: rung first."),
    config: ConfigOption = None,
    store: StoreOption = None,
    simulate: bool = typer.Option(False, "--simulate",
                                  help="Do it in the simulator on a virtual clock: nobody's "
                                       "phone rings. The outcome is still recorded in the "
                                       "call store and the CRM task."),
    agents: Path = typer.Option(None, "--agents", metavar="FILE", dir_okay=False,
                                help="The agents file (with --simulate, or without --config): "
                                     "their answer_after says when the agent answers."),
    customer_answers: str = typer.Option("5s", "--customer-answers", metavar="AFTER",
                                         help="With --simulate: when the customer answers "
                                              "(a duration such as 5s), or `never`."),
) -> None:
    """Call back a caller: ring the agent first, then the customer.

    On Asterisk: an AMI Originate of the agent's phone that dials the
    customer's number (the call-back task's number when the CRM has one for
    the call, else the caller's) once the agent answers, awaiting
    Asterisk's OriginateResponse. ccf.toml gives the AMI, the agents (their
    extensions and \\[agents] interface), the \\[outbound] interface for the
    customer's number, the CRM and the call store. The outcome is recorded
    in the call store (a `callback` centre event) and the CRM's call-back
    task gets status done when the customer answered (Asterisk's DialEnd),
    failed otherwise.

    Exit status: 0 when the customer was reached, 1 when not, 2 for a usage
    error (an agent the agents file does not have, or a call the call store
    does not have, too), 4 when Asterisk's AMI or the call store's
    PostgreSQL server does not answer.
    """
    import asyncio

    from ccdsl.runtime.asterisk.callback import CallbackError
    from ccdsl.runtime.asterisk.config import ConfigError, load_config

    centre = None
    if config is not None or not simulate:  # a simulation needs no centre: --store, --agents
        try:
            centre = load_config(config or DEFAULT_CONFIG)
        except ConfigError as exc:
            raise fail("; ".join(exc.problems), USAGE) from None
    specs = _agents(agents, centre)
    known_agent(specs, agent)
    path = store if store is not None else centre.store_path if centre else None
    if path is None:
        raise fail("name the call store: --store FILE, or --config ccf.toml for its [paths] "
                   "store", USAGE)
    if not simulate:
        require_ami_secrets(centre)
    answers = _customer_answers(customer_answers)

    chosen: list[str] = []  # the Asterisk server that placed it

    async def run():
        from ccdsl.runtime.asterisk.callback import make_plan, run_callback, server_of_call

        crm = _crm(centre)
        try:
            with open_store(path, None) as calls:
                plan = await make_plan(calls, call, agent, specs, crm)
                first = None if simulate else server_of_call(calls, plan.call_id)
                originator, now = _originator(centre, simulate, answers, first, chosen)
                return await run_callback(plan, originator, calls, crm, now=now,
                                          source="sim" if simulate else "ccf")
        finally:
            if crm is not None:
                await crm.close()

    try:
        outcome = asyncio.run(run())
    except CallbackError as exc:
        raise fail(str(exc), service_exit_code(exc)) from None
    _print(outcome, simulate)
    if len(centre.servers if centre else ()) > 1 and chosen:
        write(f"placed through the Asterisk server {chosen[0]}\n")
    if not outcome.result.ok:
        raise typer.Exit(PROBLEMS)


def _agents(agents: Path | None, centre):
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.operations.agents_file import load_agents

    if agents is not None:
        try:
            return load_agents(str(agents))
        except InputError as exc:
            raise fail(str(exc), USAGE) from None
    if centre is None or not centre.agents.agents:
        raise fail("no agents to ring: give --agents FILE, or --config with an [agents] file",
                   USAGE)
    return centre.agents.agents


def _customer_answers(text: str) -> int | None:
    from ccdsl.runtime.core.durations import parse_duration_ms
    from ccdsl.runtime.core.errors import InputError

    if text.strip().lower() == "never":
        return None
    try:
        return parse_duration_ms(text, "--customer-answers")
    except InputError as exc:
        raise fail(str(exc), USAGE) from None


def _crm(centre):
    """The centre's CRM, when there is a configuration (else no CRM task)."""
    if centre is None or centre.crm is None:
        return None
    from ccdsl.runtime.core.crm.connect import open_crm
    from ccdsl.runtime.core.errors import ExternalError

    try:
        return open_crm(centre.crm)
    except ExternalError as exc:
        raise fail(f"the CRM cannot be opened: {exc}", USAGE) from None


def _originator(centre, simulate: bool, answers: int | None, first: str | None = None,
                chosen: list[str] | None = None):
    """first: the server the call came in on, tried before the others; chosen gets the
    label of the server that placed it."""
    from ccdsl.runtime.asterisk.callback import AmiOriginator, SimOriginator

    if simulate:
        from datetime import datetime

        from ccdsl.runtime.core.clock import VirtualClock

        clock = VirtualClock(datetime.now().astimezone())
        return SimOriginator(clock, customer_answer_ms=answers), clock.now
    from ccdsl.runtime.asterisk.callback import connect_first, servers_in_turn
    from ccdsl.runtime.asterisk.config_servers import servers_of

    ami = centre.ami
    servers = servers_in_turn(servers_of(centre), first)

    async def connect(on_event):
        return await connect_first(servers, on_event, chosen if chosen is not None else [])

    return AmiOriginator(connect, agent_interface=centre.agents.interface,
                         outbound_interface=centre.outbound_interface,
                         timeout_s=ami.timeout_s), None


def _print(outcome, simulate: bool) -> None:
    from ccdsl.runtime.core.durations import offset_text
    from ccdsl.terminal_text import visible as v

    # numbers, ids, task text and AMI's reasons come from the CRM and the
    # switch: each shown escaped
    plan, result = outcome.plan, outcome.result
    what = f"voicemail for {v(plan.mailbox)}" if plan.mailbox else "call"
    write(f"call-back of {what} {v(plan.call_id)}: agent {v(plan.agent.id)} -> "
          f"{v(plan.number)}"
          + (f" (customer {v(plan.customer_id)})" if plan.customer_id else "")
          + (" [simulated]" if simulate else "") + "\n")
    for note in plan.notes:
        write(f"note: {v(note)}\n", err=True)
    for ms, text in result.steps:
        write(f"  {offset_text(ms)}  {v(text)}\n")
    write(f"{'done' if result.ok else 'FAILED'}: {v(result.reason)}\n")
    if outcome.task_update:
        write(f"{v(outcome.task_update)}\n")
    elif plan.task is None:
        write("no call-back task in the CRM for this call\n")
