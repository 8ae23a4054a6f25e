"""`ccf serve`: run the deployed flows on Asterisk until SIGTERM or Ctrl-C, or (--simulate) a
simulated centre. Options, logging, signals and the set-up only; runtime.asterisk.service,
runtime.console.serve and runtime.console.sim_serve do the work."""

from __future__ import annotations

# asyncio, the web stack and the runtime load inside the command: every `ccf`
# run imports this module to list its commands
from enum import StrEnum
from pathlib import Path

import typer

from ccdsl.cli.common import (
    MOMENT_FORMS_HELP,
    ConfigOption,
    SimulateStoreOption,
    fail,
    finite,
    load_centre,
    store_exit,
    write,
)
from ccdsl.cli.exit_codes import OK, PROBLEMS, USAGE

# --simulate's callers a minute and clock speed: past these the simulator
# only spins (1,000 new callers a second, an hour of the centre a second)
MAX_RATE = 60_000
MAX_SPEED = 3_600


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def serve(
    config: ConfigOption = None,
    host: str = typer.Option(None, "--host",
                             help="Listen on this address instead of the fastagi host "
                                  "in ccf.toml."),
    port: int = typer.Option(None, "--port", min=0, max=65535,
                             help="Listen on this port instead of the fastagi port in ccf.toml "
                                  "(0: any free port, printed at start)."),
    no_ami: bool = typer.Option(False, "--no-ami",
                                help="Run without the AMI link: agent states stay as "
                                     "configured, nothing is mirrored from Asterisk."),
    grace: str = typer.Option(None, "--grace", metavar="DURATION", show_default=False,
                              help="How long calls in progress get to finish at shutdown: "
                                   "30s, 500ms, 2m or a number of seconds (default: the "
                                   "shutdown grace in ccf.toml, 30s)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every call's start "
                                 "and end, and AMI link changes."),
    log_format: LogFormat = typer.Option(
        LogFormat.text, "--log-format",
        help="The log on stderr: text (on a terminal a readable table; otherwise one record "
             "a line, stamped in ISO 8601 with the offset, or under journald with its level "
             "prefix and no stamp of our own) or json (one object a line: ts, level, logger, "
             "msg and the record's fields)."),
    simulate: Path = typer.Option(None, "--simulate", metavar="FLOWS", show_default=False,
                                  help="No Asterisk: run these flows (a .ccf file or a folder) "
                                       "on the simulator with generated callers, in real "
                                       "time, and serve the console over them. The agents "
                                       "file's agents answer by themselves, except those a "
                                       "person logs in to the console as."),
    rate: float = typer.Option(4.0, "--rate", metavar="N", min=0, max=MAX_RATE,
                               callback=finite, help="With --simulate: about N "
                               f"new callers a minute (more than 0, at most {MAX_RATE})."),
    speed: float = typer.Option(1.0, "--speed", metavar="X", min=0, max=MAX_SPEED,
                                callback=finite, help="With --simulate: the "
                                "centre's clock runs X times faster than the wall clock "
                                f"(more than 0, at most {MAX_SPEED})."),
    at: str = typer.Option(None, "--at", metavar="TIME", show_default=False,
                           help="With --simulate: the centre's clock starts at this time "
                                f"(for flows with opening hours): {MOMENT_FORMS_HELP}. Without "
                                "a zone, the centre's: ccf.toml's \\[centre] timezone, else the "
                                "flows' business hours' (else UTC). Default: now."),
    seed: int = typer.Option(0, "--seed", help="With --simulate: the callers' random seed."),
    store: SimulateStoreOption = None,
    web_port: int = typer.Option(None, "--web-port", min=0, max=65535, show_default=False,
                                 help="The console's and HTTP API's port instead of the api "
                                      "section's port in ccf.toml (default 8573)."),
) -> None:
    """Run the deployed flows for Asterisk until stopped.

    Listens for FastAGI connections (127.0.0.1:4573 unless configured),
    runs the flow each call's AGI path names with the version deployed when
    the call arrived (`ccf deploy` switches versions without dropping
    calls), and keeps an AMI link to Asterisk for agent and queue state,
    reconnecting after a drop. SIGTERM or Ctrl-C stops it cleanly: no new
    calls, calls in progress finish within the grace period or are handed
    back to the dialplan's fallback. Refuses to start on an invalid
    ccf.toml (see `ccf config check`). Raises its open-file limit to the
    hard limit and takes at most `[fastagi] max_calls` calls at once (by
    default what that limit leaves room for); docs/asterisk.md "Limits".

    Exit status: 0 when stopped by SIGTERM or Ctrl-C; 1 when a --simulate
    flow does not compile; 2 for a usage error (a ccf.toml that cannot be
    used, an address it cannot listen on, a call store or CRM it cannot
    open, a port the console and HTTP API cannot listen on); 4 when the call
    store's PostgreSQL server does not answer.
    """
    import asyncio
    import logging

    if simulate is not None:
        _logging(logging.INFO if verbose else logging.WARNING, log_format)
        serve_simulated(simulate, config=config, rate=rate, speed=speed, at=at, seed=seed,
                        store=store, web_port=web_port)
        return

    from ccdsl.cli.console_flows import served_drawings
    from ccdsl.runtime.asterisk import serve_gc
    from ccdsl.runtime.asterisk.limits import raise_open_files
    from ccdsl.runtime.asterisk.service import LiveCentre, StartError
    from ccdsl.runtime.console.serve import ServedCentre
    from ccdsl.runtime.core.durations import parse_duration_ms
    from ccdsl.runtime.core.errors import InputError

    grace_s = None
    if grace is not None:
        try:
            grace_s = parse_duration_ms(grace, "--grace", units=("ms", "s", "m"),
                                        bare="s") / 1000
        except InputError:
            raise fail(f"--grace: {grace!r} is not a duration such as 30s, 500ms or 2m",
                       USAGE) from None

    centre_config = load_centre(config, USAGE, then="ccf serve: not started; fix the configuration "
                                                "(`ccf config check` lists the problems)")
    _logging(logging.INFO if verbose else logging.WARNING, log_format)
    # before anything opens a file: the default max_calls is fitted to it
    files = raise_open_files()
    logging.getLogger("ccdsl.serve").info(
        "open-file limit %d (started with %d, hard limit %d)", files.soft, files.before,
        files.hard)

    async def run() -> int:
        live = LiveCentre(centre_config, host=host, port=port, use_ami=not no_ami,
                          api_port=web_port)
        served = ServedCentre(live, served_drawings)
        # the handlers first: starting waits for the AMI login and resync, and a
        # SIGTERM meanwhile must stop cleanly too
        stop = _stop_on_signals()
        try:
            bound = await served.start()
        except StartError as exc:
            write(f"error: {exc}\nccf serve: not started\n", err=True)
            await live.stop(0)
            return store_exit(exc)  # a store's server not answering: 4
        except OSError as exc:
            write(f"error: cannot listen for FastAGI: {exc.strerror or exc}\n", err=True)
            await live.stop(0)
            return USAGE  # the address given cannot be used
        if live.api_address is None:
            # serving calls without it would leave `ccf status` and `ccf wrapup` talking to
            # whatever else holds the port, as if it were this centre
            chosen = ("--web-port" if web_port is not None
                      else f"the [api] port in {centre_config.path}")
            write(f"error: the console and HTTP API cannot listen on {live.api_error} "
                  f"(chosen by {chosen}): choose a free port, or stop what listens there\n"
                  "ccf serve: not started\n", err=True)
            await live.stop(0)
            return USAGE
        serve_gc.settle()  # start-up's objects out of every later collection
        version = live.flows.version if live.flows else None
        api = f"console and HTTP API on http://{live.api_address[0]}:{live.api_address[1]}/"
        calls = live.server.max_calls if live.server else 0
        write(f"ccf serve: FastAGI on {bound[0]}:{bound[1]}, {api}, flows version "
              f"{version or '(none deployed)'}, at most {calls} calls at once; SIGTERM or "
              "Ctrl-C stops\n")
        await stop.wait()
        running = live.server.calls_running if live.server else 0
        write(f"ccf serve: stopping; {running} call(s) in progress\n")
        handed = await live.stop(grace_s)
        served = live.server.served if live.server else 0
        write(f"ccf serve: stopped after {served} call(s)"
              + (f"; {handed} handed back to the dialplan" if handed else "") + "\n")
        return OK

    code = asyncio.run(run())
    if code:
        raise typer.Exit(code)


def _stop_on_signals():
    """An asyncio.Event set by SIGTERM or SIGINT (Ctrl-C), on the running loop."""
    import asyncio
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _logging(level: int, log_format: LogFormat = LogFormat.text) -> None:
    import logging
    import sys

    from ccdsl.runtime.operations import log_records

    # stderr: stdout carries the lines scripts read (the bound address)
    handler: logging.Handler
    if log_format is LogFormat.json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_records.JsonFormatter())
    elif log_records.under_journald(sys.stderr):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_records.JournalFormatter())
    elif sys.stderr.isatty():
        handler = _terminal_handler()
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(log_records.TextFormatter())
    root = logging.getLogger("ccdsl")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _terminal_handler():
    """rich's readable table for a person at a terminal: full dates, each
    record's own time, values from outside escaped."""
    import logging

    from rich.console import Console
    from rich.logging import RichHandler

    from ccdsl.terminal_text import visible

    class Visible(logging.Filter):
        """Log lines quote callers' numbers, CRM values and what peers sent:
        their control characters are shown, not acted on by the terminal."""

        def filter(self, record: logging.LogRecord) -> bool:
            record.msg, record.args = visible(record.getMessage()), None
            return True

    handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False,
                          rich_tracebacks=False, omit_repeated_times=False,
                          log_time_format="%Y-%m-%d %H:%M:%S")
    handler.addFilter(Visible())
    return handler


# -- ccf serve --simulate ------------------------------------------------------------

def flows_of(path: Path) -> dict:
    """Every flow (a .ccf with `on start`) of a file or folder, compiled and loaded."""
    from ccdsl.cli.common import Format, render_diagnostics
    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.runtime.core.ir import load_program

    files = [path] if path.is_file() else sorted(
        p for p in path.glob("*.ccf") if not p.name.endswith(".test.ccf"))
    if not files:
        raise fail(f"--simulate {path}: no .ccf flows there", USAGE)
    programs = {}
    for file in files:
        result = compile_file(str(file))
        write(render_diagnostics(result.diagnostics, result.sources, Format.text, err=True),
              err=True)
        if not result.ok or result.ir is None:
            raise fail(f"--simulate: {file} does not compile; fix it first (ccf validate)",
                       PROBLEMS)
        if (result.ir.get("handlers") or {}).get("start"):
            name = (result.ir.get("flow") or {}).get("name") or file.stem
            programs[name] = load_program(result.ir)
    if not programs:
        raise fail(f"--simulate {path}: none of the flows has an `on start` handler", USAGE)
    return programs


def serve_simulated(path: Path, *, config: str | None, rate: float, speed: float,
                    at: str | None, seed: int, store: str | None, web_port: int | None) -> None:
    import asyncio
    import os
    import shutil
    import sqlite3
    import tempfile

    from ccdsl.cli.common import checked_target, store_failure
    from ccdsl.cli.console_flows import simulated_drawings
    from ccdsl.runtime.console.sim_serve import SimOptions, SimulatedConsole, demo_users
    from ccdsl.runtime.core.crm.folder import import_crm_folder
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.core.moments import moment_text
    from ccdsl.runtime.operations.agents_file import load_agents
    from ccdsl.runtime.operations.console_settings import ConsoleSettings
    from ccdsl.runtime.operations.database import shown
    from ccdsl.runtime.operations.store import CallStore, StoreError
    from ccdsl.runtime.sim.script import centre_zone, parse_at

    if rate <= 0 or speed <= 0:  # the options' ranges refuse the rest
        raise fail("--rate and --speed must be more than 0", USAGE)
    if not path.exists():
        raise fail(f"--simulate {path}: no such file or folder", USAGE)
    folder = path if path.is_dir() else path.parent
    centre = None
    if config is not None or (folder / "ccf.toml").is_file():
        from ccdsl.cli.common import load_centre
        centre = load_centre(config or str(folder / "ccf.toml"), USAGE)
    agents_file = centre.agents.file if centre and centre.agents.file else \
        str(folder / "agents.toml")
    try:
        agents = load_agents(agents_file)
    except InputError as exc:
        raise fail(str(exc), USAGE) from None
    programs = flows_of(path)
    # a time without a zone is the centre's, as `ccf simulate --at` reads it
    zone, _ = centre_zone([p.doc for p in programs.values()],
                          centre.timezone if centre else None)
    try:
        start_at = parse_at(at, zone) if at else None
    except InputError as exc:
        raise fail(str(exc), USAGE) from None
    work = Path(tempfile.mkdtemp(prefix="ccf-serve-sim-"))
    settings = centre.console if centre else ConsoleSettings()
    passwords = None
    if not os.path.isfile(settings.users):
        users_path, passwords = demo_users(work, agents)
        settings = ConsoleSettings(users=users_path, session_idle_s=settings.session_idle_s,
                                   session_max_s=settings.session_max_s,
                                   pause_reasons=settings.pause_reasons)
    crm = SqliteCRM(str(work / "crm.db"))
    crm_notes = import_crm_folder(crm, str(folder / "crm")) if (folder / "crm").is_dir() else []
    store_path = checked_target(store, exists=False) if store else str(work / "calls.db")
    try:
        calls = CallStore(store_path, timezone=centre.timezone if centre else None, wait_s=0.25)
    except (OSError, sqlite3.Error, StoreError) as exc:
        crm.close_now()
        shutil.rmtree(work, ignore_errors=True)
        raise store_failure(store_path, exc) from None
    host = centre.api.host if centre else "127.0.0.1"
    port = web_port if web_port is not None else (centre.api.port if centre else 8573)
    console = SimulatedConsole(
        programs, agents, crm, calls, settings,
        SimOptions(calls_per_minute=rate, speed=speed, seed=seed, start_at=start_at,
                   host=host, port=port,
                   callbacks=centre.callbacks if centre else SimOptions.callbacks),
        agents_path=agents_file, recordings_dir=str(work / "recordings"),
        timezone=centre.timezone if centre else None,
        drawings=simulated_drawings({name: p.doc for name, p in programs.items()},
                                    str(store_path)))

    async def run() -> int:
        stop = _stop_on_signals()
        try:
            bound = await console.start()
        except OSError as exc:
            write(f"error: the console cannot listen on {host}:{port}: "
                  f"{exc.strerror or exc}\n", err=True)
            await console.stop()
            return USAGE  # the address given cannot be used
        write(f"ccf serve --simulate: {len(programs)} flow(s) "
              f"({', '.join(sorted(programs))}), {len(agents)} agent(s), about {rate:g} "
              f"call(s) a minute{f' at {speed:g}x speed' if speed != 1 else ''}"
              f"{f', the clock from {moment_text(start_at)}' if start_at else ''}; "
              f"{len(crm_notes)} CRM file(s); call store "
              f"{shown(store_path) if store else 'temporary (give --store to keep the calls)'}\n"
              f"console: http://{bound[0]}:{bound[1]}/  (SIGTERM or Ctrl-C stops)\n")
        if passwords:
            write("log in as an agent to take calls (the others answer by themselves), or "
                  "as the supervisor; these passwords were made for this run:\n"
                  + "".join(f"  {uid:<12} {pw}\n" for uid, pw in passwords.items()))
        else:
            write(f"log in with the users of {settings.users} (`ccf console user`)\n")
        await stop.wait()
        write("ccf serve --simulate: stopping\n")
        await console.stop()
        calls.close()
        return OK

    try:
        code = asyncio.run(run())
    finally:
        crm.close_now()
        # the run's CRM copy, users file and (without --store) its calls
        shutil.rmtree(work, ignore_errors=True)
    if code:
        raise typer.Exit(code)
