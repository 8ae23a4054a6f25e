"""The console's and the HTTP API's Starlette application: routes, security headers, errors.

Every route checks its caller on the server (guard.py); pages load nothing from another
host. Must not start a server: web_server.py does.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ccdsl.runtime.console import desk_wrapups, pages
from ccdsl.runtime.console.api_routes import ENDPOINTS, api_routes, error
from ccdsl.runtime.console.chores import supervised
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.guard import Refused, session_of
from ccdsl.runtime.console.login import home_of, login_routes
from ccdsl.runtime.console.refusals import refused, store_unreachable
from ccdsl.runtime.console.sessions import Sessions
from ccdsl.runtime.console.stream import live
from ccdsl.runtime.console.templates import HERE
from ccdsl.runtime.console.wall_model import WallBoard
from ccdsl.runtime.console.web_server import MAX_HEADER_BYTES
from ccdsl.runtime.operations.centre_control import ControlError

log = logging.getLogger("ccdsl.console")

SWEEP_S = 15.0  # how often sessions past their time are ended

# no inline script or style, nothing from another host, no framing
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def build_app(ctx: ConsoleContext, *, api_slots: int = 64) -> Starlette:
    async def root(request: Request) -> Response:
        session = session_of(request)
        return RedirectResponse(home_of(session.role) if session else "/login", 303)

    routes = [
        *api_routes(ctx, api_slots),
        Route("/", root, methods=["GET"]),
        *login_routes(ctx),
        Route("/live", live, methods=["GET"]),
        *pages.routes(ctx),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={Refused: refused, ControlError: refused,
                                        HTTPException: _http_error,
                                        sqlite3.OperationalError: store_unreachable})
    app.state.ctx = ctx
    app.state.sessions = Sessions(ctx.settings.session_idle_s, ctx.settings.session_max_s)
    app.state.stopping = asyncio.Event()
    # one wallboard snapshot per tick for every page
    app.state.board = WallBoard(ctx, sessions=app.state.sessions.users)
    app.state.housekeeping = lambda: _housekeeping(ctx, app.state.sessions)
    return app


async def _housekeeping(ctx: ConsoleContext, sessions: Sessions) -> None:
    """Sessions past their time end; an agent whose last session ended so (the
    page closed, not logged out) leaves the queues, rather than being offered
    calls nobody answers. Beside it, the desks' unsaved wrap-up forms the store keeps.
    Each is supervised: one failing is logged and started again, the other runs on."""
    await asyncio.gather(supervised("wrap-up watch", lambda: desk_wrapups.watch(ctx)),
                         supervised("session sweep", lambda: _sweep(ctx, sessions)))


async def _sweep(ctx: ConsoleContext, sessions: Sessions) -> None:
    while True:
        await asyncio.sleep(SWEEP_S)
        for session in sessions.sweep():
            agent = session.agent
            if agent is None or any(s.agent == agent for s in sessions.users()):
                continue
            try:
                if ctx.desk.status(agent).state in ("ready", "paused"):
                    await ctx.desk.logout(agent)
                    log.info("agent %s's console session expired: out of the queues", agent)
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again
                log.warning("agent %s's session expired but the agent stays in the "
                            "queues: %s", agent, exc)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer (pure ASGI: streams pass through)."""

    def __init__(self, app) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # a head that arrived whole past the limit (h11 refuses one arriving in parts)
        if sum(len(k) + len(v) + 4 for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            await error(431, f"the request line and headers exceed {MAX_HEADER_BYTES} "
                             "bytes")(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                have = {k for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in self.raw if k not in have)]
            await send(message)

        await self.app(scope, receive, with_headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, f"no such endpoint: {request.url.path} (the endpoints: {ENDPOINTS}; "
                          "the console: /login)")
    if exc.status_code == 405:
        allowed = ", ".join(sorted(m.strip() for m in (exc.headers or {}).get("Allow", "")
                                   .split(",") if m.strip()))
        return error(405, f"{request.method} is not allowed on {request.url.path}; use "
                          f"{allowed}", {"Allow": allowed} if allowed else None)
    return error(exc.status_code, str(exc.detail))
