"""Who may do what on the console: the session of a request, its role, its CSRF token.

Every page and action calls `need` on the server; the pages' buttons are only a view of
what it allows. Must not trust anything the browser says about a role.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from ccdsl.articles import article
from ccdsl.runtime.console.sessions import COOKIE, Session

AGENT, SUPERVISOR, ADMIN = "agent", "supervisor", "admin"
STAFF = (SUPERVISOR, ADMIN)
MAX_FORM_BYTES = 64 * 1024


class Refused(Exception):
    """A request refused; `roles`: the roles it was for, when the asker's was another
    (refusals.py words the page with them)."""

    def __init__(self, status: int, message: str, roles: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.roles = roles


def session_of(request: Request) -> Session | None:
    return request.app.state.sessions.get(request.cookies.get(COOKIE))


def need_agent(request: Request) -> str:
    """The agent id of an agent's session (need(request, AGENT))."""
    return agent_of(need(request, AGENT))


async def need_agent_form(request: Request) -> tuple[str, dict[str, str]]:
    """An agent's state-changing request (need_form): its agent id and form."""
    session, fields = await need_form(request, AGENT)
    return agent_of(session), fields


def agent_of(session: Session) -> str:
    """The agent an agent's session acts as; Refused for a user with none."""
    if session.agent is None:
        raise Refused(403, "this user is not an agent of the agents file")
    return session.agent


def need(request: Request, *roles: str) -> Session:
    """The request's session when its role is one of `roles` (none: any
    role); else Refused (401 not logged in, 403 another role)."""
    session = session_of(request)
    if session is None:
        raise Refused(401, "log in first (or your session has expired)")
    if roles and session.role not in roles:
        raise Refused(403, f"{article(session.role)} may not do this", roles)
    return session


async def need_form(request: Request, *roles: str) -> tuple[Session, dict[str, str]]:
    """A state-changing request: the session, its role, the same origin and
    its CSRF token (form field `csrf` or header X-CSRF-Token); the form."""
    session = need(request, *roles)
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin(request):
        raise Refused(403, "a request from another site was refused")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise Refused(413, f"the form is larger than {MAX_FORM_BYTES} bytes")
    form = await request.form(max_files=0, max_fields=200)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not session.csrf_ok(request.headers.get("x-csrf-token") or fields.get("csrf")):
        raise Refused(403, "the form's CSRF token is missing or stale: reload the page")
    return session, fields


def own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    return f"{proto}://{host}"


def asks_json(request: Request) -> bool:
    """A script's request: it accepts JSON (ccf.post and the pages' fetches ask for it)."""
    return "application/json" in request.headers.get("accept", "")


def wants_page(request: Request) -> bool:
    """A browser's page or form, not a script (ccf.post asks for JSON)."""
    return "text/html" in request.headers.get("accept", "") and not asks_json(request)


def reply(status: int = 200, **body: Any) -> JSONResponse:
    """The console's JSON answer: `ok` from the status, never cached."""
    return JSONResponse({"ok": 200 <= status < 300, **body}, status,
                        headers={"Cache-Control": "no-store"})

