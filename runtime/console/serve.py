"""`ccf serve`'s web side: the console and the HTTP API over a running centre, on one port.

Starts after the centre and stops before it; a port in use leaves the calls served
(the centre runs on without its web side, and says so). Must not run calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.app import build_app
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.flow_pictures import FlowDrawings
from ccdsl.runtime.console.web_server import WebServer
from ccdsl.runtime.operations.live_feed import Change

log = logging.getLogger("ccdsl.serve")


def context_of(live: LiveCentre, drawings: FlowDrawings | None = None) -> ConsoleContext:
    """The console's view of ccf serve on Asterisk (after live.start());
    `drawings`: the Flows page's (the cli makes them: the console does not compile)."""
    assert live.store is not None and live.desk is not None and live.control is not None
    cfg = live.config
    centre = live.centre
    ctx = ConsoleContext(mode="asterisk", status=live.status, desk=live.desk,
                         control=live.control, feed=live.feed, store=live.store,
                         wrapup=live.wrapup, settings=cfg.console,
                         agents=lambda: centre.agents() if centre is not None else [],
                         recordings_dir=cfg.recordings_dir, timezone=cfg.timezone,
                         api_token=cfg.api.token, limits=live.limits,
                         flows_drawn=drawings,
                         # as the workers table names it (docs/workers.md "advertise")
                         api_address=lambda: live.presence.api() if live.presence is not None
                         and live.presence.api is not None else None)
    if live.screen_pop is not None:
        live.screen_pop.on_pop = keep_pops(ctx)
    return ctx


def keep_pops(ctx: ConsoleContext) -> Callable[[str, dict[str, Any]], None]:
    """Each agent's current pop: kept while the agent rings, talks or wraps
    up that call, gone when the agent is free again. Returns the screen
    pop's `on_pop`: an offer's pop is published as it is; the items a flow's
    `screen_pop` statement chose join the pop of that call (the page shows
    them above the CRM record) and the whole pop is published again."""
    def on_change(change: Change) -> None:
        if change.agent is not None and change.kind == "agent" and change.data.get(
                "state") in ("ready", "paused", "logged_out"):
            ctx.pops.by_agent.pop(change.agent, None)
    ctx.feed.listen(on_change)

    def on_pop(agent: str, payload: dict[str, Any]) -> None:
        if payload.get("pop") == "flow":
            base = ctx.pops.by_agent.get(agent)
            same = base is not None and (base.get("call") or {}).get("id") == \
                (payload.get("call") or {}).get("id")
            payload = {**(base if same else payload), "items": payload.get("items")}
        ctx.pops.offer(agent, payload)
        ctx.feed.publish("pop", payload, agent=agent)
    return on_pop


async def start_web(live, ctx: ConsoleContext) -> WebServer | None:
    """The web server on [api]'s address (live.api_port overrides the port);
    None when it cannot listen (logged; live.api_error says why)."""
    cfg = live.config.api
    port = live.api_port if live.api_port is not None else cfg.port
    app = build_app(ctx, api_slots=cfg.max_connections)
    server = WebServer(app, host=cfg.host, port=port,
                       max_unauthenticated=cfg.max_unauthenticated,
                       header_timeout_s=cfg.header_timeout_s)
    try:
        live.api_address = await server.start()
    except OSError as exc:
        live.api_error = f"{cfg.host}:{port}: {exc.strerror or exc}"
        log.error("the HTTP API and console cannot listen on %s; calls are served without "
                  "them (`ccf status` and `ccf wrapup` will not reach this server)",
                  live.api_error)
        return None
    live.api = server
    return server


async def stop_web(server: WebServer | None) -> None:
    if server is None:
        return
    server.app.state.stopping.set()  # live streams end, pages reconnect to the next run
    await server.stop()


class ServedCentre:
    """A LiveCentre with its console and HTTP API: start(), stop()."""

    def __init__(self, live: LiveCentre,
                 drawings: Callable[[LiveCentre], FlowDrawings] | None = None) -> None:
        self.live = live
        self.drawings = drawings  # the Flows page's, made of the started centre
        self.web: WebServer | None = None
        self.ctx: ConsoleContext | None = None

    async def start(self) -> tuple[str, int]:
        address = await self.live.start()
        self.ctx = context_of(self.live, self.drawings(self.live) if self.drawings else None)
        self.web = await start_web(self.live, self.ctx)
        web = self.web
        self.live.stop_web = lambda: stop_web(web)
        return address

    async def stop(self, grace_s: float | None = None) -> int:
        """The centre stops (calls drain, the web side stops after them)."""
        return await self.live.stop(grace_s)
