"""What the console's pages and the HTTP API read and act through: one running centre.

Wired by `ccf serve` for Asterisk or for the simulated centre; must not start or stop it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from ccdsl.runtime.console.flow_pictures import FlowDrawings
from ccdsl.runtime.core.centre import Agent
from ccdsl.runtime.operations.agent_desk import AgentDesk
from ccdsl.runtime.operations.centre_control import CentreControl
from ccdsl.runtime.operations.centre_time import ZoneError, zone_named
from ccdsl.runtime.operations.console_settings import ConsoleSettings
from ccdsl.runtime.operations.console_users import User, UsersError, load_users
from ccdsl.runtime.operations.live_feed import LiveFeed


@dataclass
class Pops:
    """Each agent's current screen pop, so a page that (re)connects shows it."""

    by_agent: dict[str, dict[str, Any]] = field(default_factory=dict)

    def offer(self, agent: str, payload: dict[str, Any]) -> None:
        self.by_agent[agent] = payload

    def clear_call(self, call_id: str) -> None:
        for agent, pop in list(self.by_agent.items()):
            if (pop.get("call") or {}).get("id") == call_id:
                del self.by_agent[agent]


@dataclass
class ConsoleContext:
    mode: str  # "asterisk" or "simulated"
    status: Callable[[], dict[str, Any]]  # the GET /status document
    desk: AgentDesk
    control: CentreControl
    feed: LiveFeed
    store: Any  # operations.store.CallStore
    wrapup: Callable[[str, Any], Awaitable[tuple[int, dict[str, Any]]]]  # WrapupDesk.submit
    settings: ConsoleSettings
    agents: Callable[[], list[Agent]]
    recordings_dir: str
    timezone: str | None = None
    api_token: str | None = field(default=None, repr=False)
    pops: Pops = field(default_factory=Pops)
    limits: Callable[[], dict[str, Any]] | None = None
    # the centre's clock: the wall clock on Asterisk, the simulated one with --simulate
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # the Flows page's drawings, made by the cli (None: the page says it has none)
    flows_drawn: FlowDrawings | None = None
    # where this console's HTTP API listens (its worker row's `api`), once it does: the
    # wallboard asks the other workers listed up, not this one (None: asks none)
    api_address: Callable[[], str | None] | None = None
    _users: tuple[float, dict[str, User]] | None = field(default=None, repr=False)
    _zone: tzinfo | None = field(default=None, repr=False)

    def zone(self) -> tzinfo:
        """The centre's zone: ccf.toml's, else the one the store was made
        with (read once: neither changes while the console runs)."""
        if self._zone is None:
            try:
                self._zone = zone_named(self.timezone) if self.timezone else None
            except ZoneError:
                pass  # a bad name: the store's
            if self._zone is None:
                self._zone = self.store.zone()
        return self._zone

    def users(self) -> dict[str, User]:
        """The users file, read again when it changed (`ccf console user`
        while the server runs)."""
        path = self.settings.users
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            return {}
        if self._users is None or self._users[0] != stamp:
            try:
                self._users = (stamp, load_users(path))
            except UsersError:
                return self._users[1] if self._users else {}
        return self._users[1]

    def agent(self, agent_id: str) -> Agent | None:
        return next((a for a in self.agents() if a.id == agent_id), None)
