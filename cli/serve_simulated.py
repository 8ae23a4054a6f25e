"""`ccf serve --simulate`'s set-up: compile the flows, open a CRM and a store, print how to log in.

Part of the `serve` command (not a command of its own); runtime.console.sim_serve does the work.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

import typer

from ccdsl.cli.common import fail, write


def flows_of(path: Path) -> dict:
    """Every flow (a .ccf with `on start`) of a file or folder, compiled and loaded."""
    from ccdsl.cli.common import Format, render_diagnostics
    from ccdsl.compiler.pipeline import compile_file
    from ccdsl.runtime.core.ir import load_program

    files = [path] if path.is_file() else sorted(
        p for p in path.glob("*.ccf") if not p.name.endswith(".test.ccf"))
    if not files:
        raise fail(f"--simulate {path}: no .ccf flows there", 2)
    programs = {}
    for file in files:
        result = compile_file(str(file))
        write(render_diagnostics(result.diagnostics, result.sources, Format.text, err=True),
              err=True)
        if not result.ok or result.ir is None:
            raise fail(f"--simulate: {file} does not compile; fix it first (ccf validate)", 1)
        if (result.ir.get("handlers") or {}).get("start"):
            name = (result.ir.get("flow") or {}).get("name") or file.stem
            programs[name] = load_program(result.ir)
    if not programs:
        raise fail(f"--simulate {path}: none of the flows has an `on start` handler", 2)
    return programs


def serve_simulated(path: Path, *, config: str | None, rate: float, speed: float,
                    at: str | None, seed: int, store: Path | None, web_port: int | None) -> None:
    from ccdsl.runtime.console.sim_serve import SimOptions, SimulatedConsole, demo_users
    from ccdsl.runtime.core.crm.folder import import_crm_folder
    from ccdsl.runtime.core.crm.sqlite import SqliteCRM
    from ccdsl.runtime.core.errors import InputError
    from ccdsl.runtime.operations.agents_file import load_agents
    from ccdsl.runtime.operations.console_settings import ConsoleSettings
    from ccdsl.runtime.operations.store import CallStore
    from ccdsl.runtime.sim.script import parse_at

    if not path.exists():
        raise fail(f"--simulate {path}: no such file or folder", 2)
    folder = path if path.is_dir() else path.parent
    centre = None
    if config is not None or (folder / "ccf.toml").is_file():
        from ccdsl.cli.common import load_centre
        centre = load_centre(config or str(folder / "ccf.toml"), 2)
    agents_file = centre.agents.file if centre and centre.agents.file else \
        str(folder / "agents.toml")
    try:
        agents = load_agents(agents_file)
        start_at = parse_at(at) if at else None
    except InputError as exc:
        raise fail(str(exc), 2) from None
    if rate <= 0 or speed <= 0:
        raise fail("--rate and --speed must be more than 0", 2)
    programs = flows_of(path)
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
    store_path = store or work / "calls.db"
    calls = CallStore(store_path, timezone=centre.timezone if centre else None, wait_s=0.25)
    host = centre.api.host if centre else "127.0.0.1"
    port = web_port if web_port is not None else (centre.api.port if centre else 8573)
    console = SimulatedConsole(
        programs, agents, crm, calls, settings,
        SimOptions(calls_per_minute=rate, speed=speed, seed=seed, start_at=start_at,
                   host=host, port=port),
        agents_path=agents_file, recordings_dir=str(work / "recordings"),
        timezone=centre.timezone if centre else None)

    async def run() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            bound = await console.start()
        except OSError as exc:
            write(f"error: the console cannot listen on {host}:{port}: "
                  f"{exc.strerror or exc}\n", err=True)
            await console.stop()
            return 1
        write(f"ccf serve --simulate: {len(programs)} flow(s) "
              f"({', '.join(sorted(programs))}), {len(agents)} agent(s), about {rate:g} "
              f"call(s) a minute{f' at {speed:g}x speed' if speed != 1 else ''}; "
              f"{len(crm_notes)} CRM file(s); call store {store_path}\n"
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
        return 0

    code = asyncio.run(run())
    if code:
        raise typer.Exit(code)
