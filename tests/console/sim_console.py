"""`ccf serve --simulate`'s console for tests: a SimulatedConsole over tests/sim_live's flow on its
own event loop thread, and a person logged in over HTTP as agent `ann`."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from ccdsl.compiler.pipeline import compile_file
from ccdsl.runtime.console.sim_serve import SimOptions, SimulatedConsole
from ccdsl.runtime.core.crm.sqlite import SqliteCRM
from ccdsl.runtime.core.ir import load_program
from ccdsl.runtime.operations.agents_file import load_agents
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.console_users import new_user, save_users
from ccdsl.runtime.operations.store import CallStore
from tests.sim_live.conftest import AGENTS, HERE

PASSWORD = "simulated-pw"
CUSTOMER = "+8613800000001"


@dataclass
class SimConsole:
    console: SimulatedConsole
    store: CallStore
    web: httpx.Client  # logged in as ann
    headers: dict[str, str]  # the session's CSRF token
    loop: asyncio.AbstractEventLoop

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)


@contextlib.contextmanager
def sim_console(tmp_path: Path) -> Iterator[SimConsole]:
    """The console started; stopped (and its loop) on the way out. The store stays open for
    the test to read; the test closes it."""
    program = load_program(compile_file(str(HERE / "flows" / "live.ccf")).ir)
    (tmp_path / "agents.toml").write_text(AGENTS, encoding="utf-8")
    store = CallStore(tmp_path / "calls.db", wait_s=0.25)
    save_users(tmp_path / "users.json", {"ann": new_user("ann", "agent", PASSWORD)})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(15)

    async def start():
        # the CRM is used on the event loop's thread, as ccf serve opens it
        crm = SqliteCRM(str(tmp_path / "crm.db"))
        crm.upsert("customer", [{"id": "C1", "name": "Chen <b>VIP</b>", "phone": CUSTOMER}])
        console = SimulatedConsole(
            {"live": program}, load_agents(str(tmp_path / "agents.toml")), crm, store,
            ConsoleSettings(users=str(tmp_path / "users.json")),
            SimOptions(calls_per_minute=0, speed=50.0, port=0),
            agents_path=str(tmp_path / "agents.toml"))
        return console, crm, await console.start()

    console, crm, (host, port) = run(start())
    web = httpx.Client(base_url=f"http://{host}:{port}", timeout=10)
    try:
        login = web.post("/login", data={"user": "ann", "password": PASSWORD})
        web.cookies.set("ccf_session", login.cookies["ccf_session"])
        headers = {"X-CSRF-Token": web.get("/me").json()["csrf"]}
        yield SimConsole(console, store, web, headers, loop)
    finally:
        web.close()
        run(console.stop())
        loop.call_soon_threadsafe(crm.close_now)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
