"""`ccf status`: the live view of a running `ccf serve` (its GET /status, with every worker of the
call store). Reads options and draws; runtime.asterisk.api_client reads the API."""

from __future__ import annotations

import sys
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
    (state, current call); with several ccf serve workers on one call store,
    every worker (host, FastAGI address, up or down by its heartbeat, calls,
    served, flow version), and the calls of every worker up that answers at its
    HTTP API address (each call names its worker; one that does not is named
    with the address asked, its \\[api] advertise). Refreshes in place until Ctrl-C; `--once
    --format json` prints ccf serve's GET /status as it is, for scripts.
    ccf serve is found at the \\[api] address of ccf.toml (127.0.0.1:8573
    without one); when \\[api] token_env names a variable that is set, its
    token is sent (to every worker).
    Off a terminal (a pipe, a file) each refresh is written whole as plain
    text; SIGTERM or Ctrl-C ends the view. When ccf serve stops answering,
    the last status stays, with its own time, under a line saying since
    when; when it does not answer at all, the workers the call store knows
    to be up are named. Exit status: 0; 2 for a usage error (a missing ccf.toml, a token
    ccf serve refuses); 4 when ccf serve is not running or does not answer.
    """
    import os

    from ccdsl import json_text
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
            return every_worker(fetch_status(address, token), address, token)

        first = fetch()
    except ApiClientError as exc:
        write(f"error: {exc}\n" + _other_workers(config), err=True)
        raise typer.Exit(service_exit_code(exc)) from None
    if fmt is TableFormat.json:
        write(json_text.dumps(first, ensure_ascii=False, indent=2) + "\n")
        return
    console = _console()
    if once:
        console.print(render(first, address.where, at=time.time()))
        return
    previous = _stop_on_sigterm()
    try:
        watch(fetch, console, every_s, address.where, first)
    except (KeyboardInterrupt, _Terminated):
        pass  # Ctrl-C or SIGTERM ends the view; not an error
    finally:
        sys.stdout.flush()
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


PEER_WAIT_S = 2.0  # how long `ccf status` waits for each other worker's status


def every_worker(status: dict, address, token: str | None) -> dict:
    """The asked worker's status with the calls of every other worker up that answers (their
    HTTP API addresses from its `workers`, the same token): runtime/asterisk/status_merge."""
    from concurrent.futures import ThreadPoolExecutor

    from ccdsl.runtime.asterisk.api_client import status_at
    from ccdsl.runtime.asterisk.status_merge import merged, others

    wanted = others(status, address.where)
    if not wanted:
        return status
    # all at once, each with a short wait: one silent worker holds up no refresh for long
    with ThreadPoolExecutor(len(wanted)) as pool:
        said = pool.map(lambda where: status_at(where, token, PEER_WAIT_S), wanted)
        answers = dict(zip(wanted, said, strict=True))
    return merged(status, address.where, answers.get)


def _console():
    return table_console()


def _other_workers(config: str | None) -> str:
    """The workers of the centre's call store that are up, as a hint when the one at [api]
    does not answer (N workers share a store; docs/workers.md); "" when none is known."""
    from pathlib import Path

    from ccdsl.runtime.asterisk.config import ConfigError, load_config
    from ccdsl.runtime.operations.shared_db import SharedStoreError
    from ccdsl.runtime.operations.workers import list_workers, now_ms

    path = Path(config or "ccf.toml")
    if not path.exists():
        return ""
    try:
        rows = list_workers(load_config(path).store_path)
    except (ConfigError, SharedStoreError, OSError, ValueError):
        return ""
    up = [r for r in rows if r.status(now_ms()) == "up"]
    if not up:
        return ""
    named = ", ".join(f"{_plain(r.host)} (API {_plain(r.api)})" for r in up)
    return (f"the call store has {_count(len(up), 'worker')} up: {named}; "
            "`ccf status --config` with a ccf.toml naming one's [api] shows it\n")


class _Terminated(Exception):
    """SIGTERM arrived: the view ends as after Ctrl-C."""


def _stop_on_sigterm():
    """SIGTERM ends the view as Ctrl-C does (a service manager, `timeout`,
    a pipeline's end); the handler it replaced, to put back (None off the
    main thread, where Python takes no signal handlers)."""
    import signal
    import threading

    def stop(signum, frame) -> None:
        raise _Terminated

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, stop)


def watch(fetch: Callable[[], dict], console, every_s: float, where: str, first: dict,
          *, frames: int | None = None, clock: Callable[[], float] = time.time) -> None:
    """Refresh the view every `every_s` seconds, `frames` times (None: until
    Ctrl-C): on a terminal in place (rich.live.Live), fitted to the screen;
    off one each refresh written whole as plain text and flushed, for a pipe
    or a file. A failed read keeps the last status under a line saying since
    when ccf serve has not answered, and the next refresh tries again."""
    from ccdsl.runtime.asterisk.api_client import ApiClientError

    last, read_at, down_since = first, clock(), None

    def stale_line(exc: Exception) -> Any:
        from rich.text import Text

        return Text(f"ccf serve not answering since {_clock(down_since)}: {_plain(exc)}; "
                    f"showing the status of {_clock(read_at)} and retrying", style="red")

    if not console.is_terminal:
        console.print(render(first, where, at=read_at))
        sys.stdout.flush()
        for _ in _frames(frames):
            time.sleep(every_s)
            try:
                last, read_at, down_since = fetch(), clock(), None
                console.print()
                console.print(render(last, where, at=read_at))
            except ApiClientError as exc:
                down_since = down_since or clock()
                console.print(stale_line(exc))
            sys.stdout.flush()
        return

    from rich.console import Group
    from rich.live import Live

    def fitted(*above: Any) -> Any:
        # Live needs the last line for its cursor
        taken = sum(len(console.render_lines(part, console.options, pad=False))
                    for part in above)
        return Group(*above, render(last, where, at=read_at,
                                    height=max(console.height - 1 - taken, 8)))

    with Live(fitted(), console=console, auto_refresh=False) as live:
        for _ in _frames(frames):
            time.sleep(every_s)
            try:
                last, read_at, down_since = fetch(), clock(), None
                view = fitted()
            except ApiClientError as exc:
                down_since = down_since or clock()
                view = fitted(stale_line(exc))
            live.update(view, refresh=True)


def _frames(frames: int | None):
    count = 0
    while frames is None or count < frames:
        yield count
        count += 1


def _clock(moment: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(moment))


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


# Each table's columns: (heading, key, right-aligned); the order in which
# narrow widths drop them comes after, least needed first.
_CALLS = (("call", "call_id", False), ("flow", "flow", False), ("caller", "caller", False),
          ("step", "step", False), ("state", "state", False), ("queue", "queue", False),
          ("agent", "agent", False), ("time", "seconds", True))
_CALLS_DROP = ("flow", "queue", "agent", "state", "caller")
_QUEUES = (("queue", "queue", False), ("waiting", "waiting", True),
           ("longest wait", "longest_wait_s", True), ("members", "members", True),
           ("available", "available", True))
_QUEUES_DROP = ("members", "longest wait")
_AGENTS = (("agent", "id", False), ("name", "name", False), ("state", "state", False),
           ("current call", "current_call", False), ("queues", "queues", False))
_AGENTS_DROP = ("queues", "name", "current call")
# every ccf serve of the call store (GET /status `workers`), when it has them
_WORKERS = (("worker", "host", False), ("pid", "pid", True), ("FastAGI", "address", False),
            ("status", "status", False), ("calls", "calls_running", True),
            ("served", "served", True), ("version", "version", False),
            ("beat", "seconds_since_heartbeat", True))
_WORKERS_DROP = ("pid", "beat", "served", "FastAGI")


def render(status: Mapping[str, Any], where: str, *, at: float | None = None,
           height: int | None = None):
    """The whole view as one rich renderable, as of `at` (when the status
    was read; default now). Fitted to the width it is drawn at: columns drop,
    least needed first, then values end in an ellipsis; a value is never
    wrapped. `height`: the lines it may take; tables with more rows say how
    many they leave out ("+N more agents"). Every value of the status is
    ccf serve's account of callers, the CRM and Asterisk: each is a Text of
    its visible form, never markup (a caller's `[/]` ended the command)."""
    return _View(status, where, time.time() if at is None else at, height)


class _View:
    def __init__(self, status: Mapping[str, Any], where: str, at: float,
                 height: int | None) -> None:
        self.status, self.where, self.at, self.height = status, where, at, height

    def __rich_console__(self, console, options):
        from rich.console import Group

        tables = _tables(self.status)
        width = options.max_width

        def build(limits: dict[str, int] | None):
            return Group(*_parts(self.status, self.where, self.at, tables, width, limits))

        limits: dict[str, int] | None = None
        if self.height is not None:
            fixed = len(console.render_lines(build(dict.fromkeys(tables, 0)),
                                             options.update(height=None), pad=False))
            rows = {k: len(v) for k, v in tables.items()}
            limits = _share(self.height - fixed, rows)
            # `fixed` counted a "+N more" line under every table: a table
            # shown whole gives its line back to the others
            whole = sum(1 for k, n in rows.items() if n and limits[k] >= n)
            limits = _share(self.height - fixed + whole, rows)
        yield build(limits)


def _share(room: int, rows: dict[str, int]) -> dict[str, int]:
    """Rows each table may show in `room` lines: the queues and steps first
    (few), then calls and agents halve what is left, one giving the other
    what it does not need."""
    room = max(room, 0)
    limits = {}
    for key in ("workers", "queues", "steps"):
        limits[key] = min(rows[key], room if key != "steps" else max(room // 4, 3), room)
        room -= limits[key]
    half = room // 2
    calls = min(rows["calls"], max(half, room - rows["agents"]))
    limits["calls"] = calls
    limits["agents"] = min(rows["agents"], room - calls)
    return limits


def _tables(status: Mapping[str, Any]) -> dict[str, list[tuple[str, ...]]]:
    """The rows of each table as the visible text of their cells."""
    from ccdsl.runtime.asterisk.monitor import calls_by_step

    calls = _objects(status.get("calls"))

    def text(record: Mapping[str, Any], key: str) -> str:
        value = record.get(key)
        if key in ("seconds", "longest_wait_s", "seconds_since_heartbeat"):
            return _duration(value)
        if key == "queues":
            return _plain(", ".join(map(str, value if isinstance(value, list) else [])))
        return _plain(value)

    return {
        "steps": [(_plain(step), str(count)) for step, count in calls_by_step({"calls": calls})],
        "calls": [tuple(text(c, key) for _, key, _ in _CALLS) for c in calls],
        "queues": [tuple(text(q, key) for _, key, _ in _QUEUES)
                   for q in _objects(status.get("queues"))],
        "agents": [tuple(text(a, key) for _, key, _ in _AGENTS)
                   for a in _objects(status.get("agents"))],
        "workers": [tuple(text(w, key) for _, key, _ in _WORKERS)
                    for w in _objects(status.get("workers"))],
    }


def _parts(status: Mapping[str, Any], where: str, at: float,
           tables: dict[str, list[tuple[str, ...]]], width: int,
           limits: dict[str, int] | None) -> list[Any]:
    from rich.text import Text

    server = _object(status.get("server"))
    served = server.get("calls_served")
    served = served if isinstance(served, int) and not isinstance(served, bool) else 0
    head = Text(f"ccf serve at {where}: version {_plain(server.get('version'))}, started "
                f"{_plain(server.get('started'))}, {_count(served, 'call')} served, "
                f"AMI {_plain(server.get('ami'))}; {_count(len(tables['calls']), 'call')} "
                f"now ({_clock(at)})")
    parts: list[Any] = [head]
    links = _object(server.get("ami_links"))
    if links:  # several Asterisk servers: each link up or down
        parts.append(Text("AMI links: " + ", ".join(f"{_plain(name)} {_plain(state)}"
                                                     for name, state in sorted(links.items()))))
    limits_line = _limits_line(_object(status.get("limits")))
    if limits_line:
        parts.append(Text(limits_line))

    def table(key: str, title: str, columns, drop, noun: str, empty: str) -> None:
        rows = tables[key]
        if not rows:
            parts.append(Text(empty))
            return
        parts.append(_table(title, columns, drop, rows, width,
                            None if limits is None else limits[key]))
        hidden = len(rows) - (len(rows) if limits is None else limits[key])
        if hidden > 0:
            parts.append(Text(f"+{hidden} more {noun}", no_wrap=True, overflow="ellipsis"))

    table("steps", "Calls by step", (("step", 0, False), ("calls", 1, True)), (), "steps",
          "No calls in progress.")
    table("calls", "Calls", _CALLS, _CALLS_DROP, "calls", "")
    table("queues", "Queues", _QUEUES, _QUEUES_DROP, "queues", "No queues.")
    table("agents", "Agents", _AGENTS, _AGENTS_DROP, "agents", "No agents.")
    table("workers", "Workers (ccf serve processes of the call store)", _WORKERS,
          _WORKERS_DROP, "workers", "")
    parts.append(Text(_silent_line(status), no_wrap=False))
    return [p for p in parts if not (isinstance(p, Text) and not p.plain)]


def _silent_line(status: Mapping[str, Any]) -> str:
    """The workers listed up whose HTTP API did not answer, each with the address asked (the
    one its row names: [api] advertise, docs/workers.md); "" when every one answered."""
    silent = _object(status.get("server")).get("workers_not_answering")
    if not isinstance(silent, list) or not silent:
        return ""
    # another worker's status: an `api` that is not text names no one
    hosts = {w["api"]: w.get("host") for w in _objects(status.get("workers"))
             if isinstance(w.get("api"), str)}
    named = ", ".join(f"{_plain(hosts.get(a) or 'a worker')} (asked at {_plain(a)})"
                      for a in silent)
    return (f"not answering at their HTTP API, their calls left out: {named} (a worker "
            "bound to 0.0.0.0 is named by its [api] advertise: docs/workers.md)")


def _table(title: str, columns, drop, rows: list[tuple[str, ...]], width: int,
           limit: int | None):
    """A table of `rows` in `width` columns of the screen: the columns of
    `drop` left out in turn while the table is wider, then rich shortens
    the widest values with an ellipsis; `limit` rows at most."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    keep = list(range(len(columns)))

    def needed() -> int:
        frame = 1 if limit is None else -1
        return frame + sum(3 + max(cell_len(columns[i][0]), *(cell_len(r[i]) for r in rows))
                           for i in keep)

    for name in drop:
        if needed() <= width:
            break
        keep = [i for i in keep if columns[i][0] != name]
    # fitted to a screen, no outer frame: 24 lines hold rows, not borders
    out = Table(title=title, title_justify="left", box=box.HEAVY_HEAD if limit is None
                else box.MINIMAL, show_edge=limit is None)
    for i in keep:
        out.add_column(columns[i][0], justify="right" if columns[i][2] else "left",
                       no_wrap=True, overflow="ellipsis")
    for row in rows[:limit]:
        out.add_row(*(Text(row[i], no_wrap=True, overflow="ellipsis") for i in keep))
    return out


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """The records of a list, leaving out what is no record: a status of
    another shape is shown as far as it goes, not an internal error."""
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _plain(value: Any) -> str:
    from ccdsl.terminal_text import visible

    return "-" if value is None or value == "" else visible(value)


def _duration(seconds: Any) -> str:
    """42.1 -> 0:42, 3725 -> 1:02:05."""
    from ccdsl.runtime.core.durations import clock_text

    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "-"
    return clock_text(int(seconds))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
