"""A console over a real call store and a real web server on 127.0.0.1, with a control that
records what it is asked (the phone side is tested in tests/console_asterisk and tests/sim_live).
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ccdsl.runtime.console.app import build_app
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.web_server import WebServer
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.operations.agent_desk import AgentDesk
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.console_users import User, new_user, save_users
from ccdsl.runtime.operations.live_feed import LiveFeed
from ccdsl.runtime.operations.store import CallStore

PASSWORD = "correct horse"
AGENTS = [Agent("zhang", "Zhang Wei", "1001", {"service": 5}, queues=("service",)),
          Agent("li", "Li Na", "1002", {"service": 3}, queues=("service",))]
USERS = [("zhang", "agent"), ("li", "agent"), ("sup", "supervisor"), ("root", "admin")]


@dataclass
class RecordingControl:
    """A CentreControl that keeps each request and refuses what `refuse` names."""

    mode: str = "simulated"
    asked: list[tuple] = field(default_factory=list)
    refuse: dict[str, ControlError] = field(default_factory=dict)

    async def _do(self, name: str, *args) -> dict[str, Any]:
        self.asked.append((name, *args))
        if name in self.refuse:
            raise self.refuse[name]
        return {"ok": True}

    async def agent_login(self, agent): await self._do("agent_login", agent)
    async def agent_logout(self, agent): await self._do("agent_logout", agent)
    async def agent_pause(self, agent, paused, reason):
        await self._do("agent_pause", agent, paused, reason)
    async def set_skills(self, agent, skills): await self._do("set_skills", agent, skills)
    async def hangup(self, call_id): await self._do("hangup", call_id)
    async def hold(self, call_id, on): await self._do("hold", call_id, on)
    async def transfer(self, call_id, target, mode):
        await self._do("transfer", call_id, target, mode)
    async def add_party(self, call_id, target): await self._do("add_party", call_id, target)
    async def read_to_caller(self, call_id, text, language):
        await self._do("read_to_caller", call_id, text, language)
    async def monitor(self, call_id, supervisor, mode):
        return await self._do("monitor", call_id, supervisor, mode)
    async def callback(self, voicemail_call_id, agent):
        return await self._do("callback", voicemail_call_id, agent)


class Console:
    """The console on its own event loop thread; `client(user)` logs in over HTTP."""

    def __init__(self, tmp: Path, *, token: str | None = None,
                 settings: ConsoleSettings | None = None, status: dict | None = None,
                 mode: str = "simulated") -> None:
        users: dict[str, User] = {u: new_user(u, role, PASSWORD) for u, role in USERS}
        save_users(tmp / "users.json", users)
        self.settings = settings or ConsoleSettings(users=str(tmp / "users.json"))
        if settings is not None and settings.users != str(tmp / "users.json"):
            save_users(settings.users, users)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store = CallStore(tmp / "calls.db")
        self.control = RecordingControl()
        self.feed = LiveFeed()
        self.wrapups: list[tuple[str, Any]] = []
        self.status_doc = status or {"server": {}, "calls": [], "queues": [
            {"queue": "service", "waiting": 0, "longest_wait_s": 0.0}], "agents": []}
        self.desk = AgentDesk({"zhang": "logged_out", "li": "ready"}, control=self.control,
                              feed=self.feed, record=self._record, now=lambda: datetime.now(UTC))

        async def wrapup(call_id, body):
            self.wrapups.append((call_id, body))
            return 200, {"ok": True, "call_id": call_id}

        self.ctx = ConsoleContext(mode=mode, status=lambda: self.status_doc,
                                  desk=self.desk, control=self.control, feed=self.feed,
                                  store=self.store, wrapup=wrapup, settings=self.settings,
                                  agents=lambda: AGENTS, recordings_dir=str(tmp / "rec"),
                                  api_token=token)
        self.app = build_app(self.ctx)
        self.server = WebServer(self.app, host="127.0.0.1", port=0)
        host, port = self.run(self.server.start())
        self.base = f"http://{host}:{port}"

    def _record(self, kind, data, call_id):
        self.store.record_centre_event("console", kind, data, datetime.now(UTC),
                                       call_id=call_id)

    def run(self, coro, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call_soon(self, fn, *args) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def client(self, user: str | None = None, password: str = PASSWORD) -> httpx.Client:
        client = httpx.Client(base_url=self.base, follow_redirects=False, timeout=10.0)
        if user is not None:
            reply = client.post("/login", data={"user": user, "password": password})
            assert reply.status_code == 303, reply.text
            # httpx keeps a Secure cookie only over https: carry it by hand
            client.cookies.set("ccf_session", reply.cookies["ccf_session"])
        return client

    def post(self, client: httpx.Client, url: str, **fields: str) -> httpx.Response:
        """A desk or page form posted by `client` with its session's CSRF token."""
        return client.post(url, data=fields, headers={"X-CSRF-Token": self.csrf(client)})

    @staticmethod
    def csrf(client: httpx.Client, page: str | None = None) -> str:
        """The session's CSRF token, from a page's meta tag or from /me."""
        if page is None:
            return client.get("/me").json()["csrf"]
        html = client.get(page, headers={"Accept": "text/html"}).text
        return re.search(r'name="csrf" content="([^"]+)"', html)[1]

    def close(self) -> None:
        self.app.state.stopping.set()
        self.run(self.server.stop())
        self.store.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def read_live(web: httpx.Client, until, timeout: float = 10.0) -> list[tuple[str, dict]]:
    """The (event, data) pairs of GET /live, read until `until(pairs)` holds."""
    import json
    import time

    seen: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    with web.stream("GET", "/live") as reply:
        assert reply.status_code == 200, reply.status_code
        kind = None
        for line in reply.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind:
                seen.append((kind, json.loads(line[6:])))
                if until(seen):
                    return seen
            assert time.monotonic() < deadline, f"waited for the live events; got {seen}"
    raise AssertionError(f"the live stream ended first; got {seen}")
