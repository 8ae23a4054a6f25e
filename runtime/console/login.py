"""Log in and out of the console: a user id and password checked against the users file.

Failed attempts are counted per user id and slowed down; must never log or echo a password.
"""

from __future__ import annotations

import logging
import time
from collections import deque

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.desk_wrapups import refresh as refresh_wrapups
from ccdsl.runtime.console.guard import (
    AGENT,
    Refused,
    asks_json,
    need,
    need_form,
    own_origin,
    reply,
    session_of,
)
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.console.sessions import COOKIE
from ccdsl.runtime.console.templates import page
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.console_users import password_ok

log = logging.getLogger("ccdsl.console")

FAILURES = 5  # failed log-ins of one id within WINDOW_S before it is locked for WINDOW_S
WINDOW_S = 300.0
HOME = {"agent": "/desk", "supervisor": "/wall", "admin": "/wall"}


def home_of(role: str) -> str:
    return HOME.get(role, "/login")


def login_routes(ctx: ConsoleContext) -> list[Route]:
    failures: dict[str, deque[float]] = {}

    async def show(request: Request) -> Response:
        session = session_of(request)
        if session is not None:
            return RedirectResponse(home_of(session.role), 303)
        return page(request, "login.html", next=_local(request.query_params.get("next")))

    async def submit(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != own_origin(request):
            raise Refused(403, "a log-in from another site was refused")
        form = await request.form(max_files=0, max_fields=10)
        user_id = str(form.get("user") or "").strip()
        password = str(form.get("password") or "")
        target = _local(str(form.get("next") or ""))
        now = time.monotonic()
        recent = failures.setdefault(user_id, deque(maxlen=FAILURES))
        while recent and now - recent[0] > WINDOW_S:
            recent.popleft()
        if len(recent) >= FAILURES:
            return page(request, "login.html", status_code=429, next=target, user=user_id,
                        error=f"too many failed log-ins for {user_id}: wait "
                              f"{int(WINDOW_S // 60)} minutes")
        user = ctx.users().get(user_id)
        # scrypt takes tens of ms: off the event loop, so calls never wait for a log-in
        ok = await off_loop(password_ok, user, password)
        if ok and user is not None and user.role == AGENT and ctx.agent(user.id) is None:
            ok = False  # an agent user whose agent left the agents file
        if not ok or user is None:
            recent.append(now)
            log.warning("console log-in refused for %r", user_id)
            return page(request, "login.html", status_code=401, next=target, user=user_id,
                        error="wrong user id or password")
        failures.pop(user_id, None)
        agent = ctx.agent(user.id) if user.role == AGENT else None
        session = request.app.state.sessions.start(
            user.id, user.role, agent=user.id if agent else None,
            name=(agent.name if agent else "") or user.name or user.id)
        log.info("console: %s logged in as %s", user.id, user.role)
        out = RedirectResponse(target or home_of(user.role), 303)
        out.set_cookie(COOKIE, session.id, httponly=True, secure=True, samesite="strict",
                       path="/", max_age=int(ctx.settings.session_max_s))
        return out

    async def logout(request: Request) -> Response:
        session, _ = await need_form(request)
        script = asks_json(request)  # a plain form's post (no script) is redirected
        if session.agent is not None:
            # an agent on a call (or with its wrap-up unsaved) stays: ending the session
            # would leave them in the queues with nobody at the desk. The forms as the
            # store has them: asked for or saved on another worker too
            await refresh_wrapups(ctx, session.agent)
            why = ctx.desk.why_not_leave(session.agent)
            try:
                if why is None:
                    await ctx.desk.logout(session.agent)
            except ControlError as exc:
                # a call came meanwhile (the desk refuses), or the phone system failed: then
                # the session ends even so, and its own message is kept
                why = ctx.desk.why_not_leave(session.agent)
                if why is None:
                    log.warning("agent %s left the console but stays in the queues: %s",
                                session.agent, exc)
            if why is not None:
                log.info("console: agent %s may not log out now: %s", session.agent, why)
                if script:
                    return reply(409, error=why)
                return RedirectResponse("/desk?refused=logout", 303)
        request.app.state.sessions.end(session.id)
        out = reply(next="/login") if script else RedirectResponse("/login", 303)
        out.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return out

    async def me(request: Request) -> Response:
        """Who this session is, with its CSRF token, for the pages' scripts
        (same origin only: no CORS header is ever sent)."""
        session = need(request)
        return JSONResponse({"user": session.user, "role": session.role,
                             "agent": session.agent, "name": session.name,
                             "csrf": session.csrf}, headers={"Cache-Control": "no-store"})

    return [Route("/login", show, methods=["GET"]), Route("/login", submit, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]), Route("/me", me, methods=["GET"])]


def _local(target: str | None) -> str:
    """Only a path on this server: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    return target
