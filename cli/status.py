"""`ccf status`: the live view of a running `ccf serve` (its GET /status).
Reads options and draws; runtime.asterisk.api_client reads the API."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import typer

from ccdsl.cli.common import (
    ConfigOption,
    TableFormat,
    TableFormatOption,
    service_exit_code,
    table_console,
    write,
)
from ccdsl.cli.exit_codes import USAGE


def status(
    config: ConfigOption = None,
    once: bool = typer.Option(False, "--once", help="Print the status once and exit."),
    fmt: TableFormatOption = TableFormat.table,
    interval: str = typer.Option("2s", "--interval", "-i",
                                 help="How often the live view refreshes: 2s, 500ms, 1m."),
) -> None:
    """Show what the contact centre is doing now, from a running `ccf serve`.

    Calls by step (how many callers are in each step of the flows), every
    call (caller, step, state, seconds so far), the queues (waiting,
    longest wait, members and how many are available) and the agents
    (state, current call). Refreshes in place until Ctrl-C; `--once
    --format json` prints ccf serve's GET /status as it is, for scripts.
    ccf serve is found at the \\[api] address of ccf.toml (127.0.0.1:8573
    without one); when \\[api] token_env names a variable that is set, its
    token is sent.
    Exit status: 0; 2 for a usage error (a missing ccf.toml, a token ccf
    serve refuses); 4 when ccf serve is not running or does not answer.
    """
    import json
    import os

    from ccdsl.runtime.asterisk.api_client import ApiClientError, api_address, fetch_status
    from ccdsl.runtime.core.durations import parse_duration_ms
    from ccdsl.runtime.core.errors import InputError

    if fmt is TableFormat.json and not once:
        write("error: --format json prints one status: add --once\n", err=True)
        raise typer.Exit(USAGE)
    try:
        every_s = parse_duration_ms(interval, "--interval") / 1000
    except InputError as exc:
        write(f"error: {exc}\n", err=True)
        raise typer.Exit(USAGE) from None
    if every_s < 0.1:
        write("error: --interval: refresh at most ten times a second (0.1s or more)\n",
              err=True)
        raise typer.Exit(USAGE)
    try:
        address = api_address(config)
    except ApiClientError as exc:  # its ccf.toml cannot be used
        write(f"error: {exc}\n", err=True)
        raise typer.Exit(USAGE) from None
    try:
        token = os.environ.get(address.token_env) or None

        def fetch() -> dict:
            return fetch_status(address, token)

        first = fetch()
    except ApiClientError as exc:
        write(f"error: {exc}\n", err=True)
        raise typer.Exit(service_exit_code(exc)) from None
    if fmt is TableFormat.json:
        write(json.dumps(first, ensure_ascii=False, indent=2) + "\n")
        return
    console = _console()
    if once:
        console.print(render(first, address.where))
        return
    try:
        watch(fetch, console, every_s, address.where, first)
    except KeyboardInterrupt:
        pass  # Ctrl-C ends the view; not an error


def _console():
    return table_console()


def watch(fetch: Callable[[], dict], console, every_s: float, where: str, first: dict,
          *, frames: int | None = None) -> None:
    """Refresh the view in place every `every_s` seconds (rich.live.Live),
    `frames` times (None: until Ctrl-C). A failed read keeps the last
    status on screen under the reason, and the next refresh tries again."""
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from ccdsl.runtime.asterisk.api_client import ApiClientError

    last = first
    shown = 0
    with Live(render(first, where), console=console, auto_refresh=False) as live:
        while frames is None or shown < frames:
            time.sleep(every_s)
            try:
                last = fetch()
                view = render(last, where)
            except ApiClientError as exc:
                view = Group(Text(f"{_plain(exc)}; showing the status of "
                                  f"{time.strftime('%H:%M:%S')} and retrying", style="red"),
                             render(last, where))
            live.update(view, refresh=True)
            shown += 1


def _limits_line(limits: Mapping[str, Any]) -> str:
    """The limits a peer can push against (docs/asterisk.md "Limits"), said
    only when ccf serve has had to act on one."""
    def number(key: str) -> int:
        value = limits.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    said = []
    if number("calls_refused"):
        said.append(f"{_count(number('calls_refused'), 'call')} turned away at the cap of "
                    f"{number('max_calls')}")
    if number("api_unauthenticated_closed"):
        said.append(f"{number('api_unauthenticated_closed')} API connection(s) without a "
                    "token closed")
    if number("ami_channels_evicted"):
        said.append(f"{number('ami_channels_evicted')} AMI channel(s) dropped from the map")
    if number("ami_events_not_stored"):
        said.append(f"{number('ami_events_not_stored')} AMI event(s) not stored")
    return ("limits: " + "; ".join(said)) if said else ""


def render(status: Mapping[str, Any], where: str):
    """The whole view as one rich renderable. Every value of the status is
    ccf serve's account of callers, the CRM and Asterisk: each is a Text of
    its visible form, never markup (a caller's `[/]` ended the command)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from ccdsl.runtime.asterisk.monitor import calls_by_step

    server = _object(status.get("server"))
    calls = _objects(status.get("calls"))
    queues = _objects(status.get("queues"))
    agents = _objects(status.get("agents"))
    served = server.get("calls_served")
    served = served if isinstance(served, int) and not isinstance(served, bool) else 0
    head = Text(f"ccf serve at {where}: version {_plain(server.get('version'))}, started "
                f"{_plain(server.get('started'))}, {_count(served, 'call')} served, "
                f"AMI {_plain(server.get('ami'))}; {_count(len(calls), 'call')} now "
                f"({time.strftime('%H:%M:%S')})")
    parts: list[Any] = [head]
    limits = _limits_line(_object(status.get("limits")))
    if limits:
        parts.append(Text(limits))

    steps = Table(title="Calls by step", title_justify="left")
    steps.add_column("step")
    steps.add_column("calls", justify="right")
    for step, count in calls_by_step({"calls": calls}):
        steps.add_row(_cell(step), str(count))
    parts.append(steps if calls else Text("No calls in progress."))

    if calls:
        table = Table(title="Calls", title_justify="left")
        for column in ("call", "flow", "caller", "step", "state", "queue", "agent"):
            table.add_column(column, overflow="fold")
        table.add_column("time", justify="right")
        for call in calls:
            table.add_row(*(_cell(call.get(k)) for k in ("call_id", "flow", "caller", "step",
                                                          "state", "queue", "agent")),
                          _duration(call.get("seconds")))
        parts.append(table)

    table = Table(title="Queues", title_justify="left")
    for column in ("queue", "waiting", "longest wait", "members", "available"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    for queue in queues:
        table.add_row(_cell(queue.get("queue")), _cell(queue.get("waiting")),
                      _duration(queue.get("longest_wait_s")), _cell(queue.get("members")),
                      _cell(queue.get("available")))
    parts.append(table if queues else Text("No queues."))

    table = Table(title="Agents", title_justify="left")
    for column in ("agent", "name", "state", "current call", "queues"):
        table.add_column(column, overflow="fold")
    for agent in agents:
        names = agent.get("queues")
        names = names if isinstance(names, list) else []
        table.add_row(_cell(agent.get("id")), _cell(agent.get("name")),
                      _cell(agent.get("state")), _cell(agent.get("current_call")),
                      _cell(", ".join(map(str, names))))
    parts.append(table if agents else Text("No agents."))
    return Group(*parts)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The records of a list, leaving out what is no record: a status of
    another shape is shown as far as it goes, not an internal error."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _plain(value: Any) -> str:
    from ccdsl.runtime.operations.terminal_text import visible

    return "-" if value is None or value == "" else visible(value)


def _cell(value: Any):
    from rich.text import Text

    return Text(_plain(value))


def _duration(seconds: Any) -> str:
    """42.1 -> 0:42, 3725 -> 1:02:05."""
    from ccdsl.runtime.core.durations import clock_text

    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "-"
    return clock_text(int(seconds))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
