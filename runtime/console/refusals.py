"""What a refused request gets back, as its asker can use it: a browser asking for a page gets
a page in the console's layout (or the log-in), a script gets JSON; the status is the refusal's.

Must not decide who may do what (guard.need does); it only words the answer.
"""

from __future__ import annotations

import logging
import sqlite3
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ccdsl.runtime.console.guard import (
    ADMIN,
    AGENT,
    SUPERVISOR,
    Refused,
    reply,
    session_of,
    wants_page,
)
from ccdsl.runtime.console.login import home_of
from ccdsl.runtime.console.templates import page
from ccdsl.runtime.operations.database import Misconfigured
from ccdsl.runtime.operations.store_errors import MEND, fault, passing, reason_of

log = logging.getLogger(__name__)

WHO = {AGENT: "agents", SUPERVISOR: "supervisors", ADMIN: "administrators"}
HOME_NAME = {"/desk": "your desk", "/wall": "the wallboard"}


def whose(roles: tuple[str, ...]) -> str:
    """'supervisors and administrators' for (supervisor, admin)."""
    names = [WHO.get(role, role + "s") for role in roles]
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else ""


def refused(request: Request, exc: Exception) -> Response:
    """A Refused, or a ControlError (the centre's refusal, with its status)."""
    status = getattr(exc, "status", 500)
    if not wants_page(request):
        return reply(status, error=str(exc))
    session = session_of(request)
    if isinstance(exc, Refused) and status == 401 and request.method == "GET":
        return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)
    home = home_of(session.role) if session else "/login"
    roles = getattr(exc, "roles", ())
    return page(request, "refused.html", status_code=status,
                heading=f"This page is for {whose(roles)}" if roles and status == 403
                else "This cannot be done", reason=str(exc), home=home,
                home_name=HOME_NAME.get(home, "the log-in"))


def store_unreachable(request: Request, exc: sqlite3.OperationalError) -> Response:
    """A read of the call store that failed as an operational error, which both back ends
    raise for a lost PostgreSQL server, a connection not to be had or a SQLite file locked past
    its wait: 503, the reason, and to try again, logged on one line (an outage, not a bug).
    They raise it too for what no retry mends (store_errors.fault): 503, what is wrong and
    store_errors.MEND, the words the Reports page ends on: a login or database PostgreSQL refuses,
    logged on one line (configuration, not a bug), a missing table or column, logged with its
    traceback, as any other is."""
    if passing(exc):  # registered for sqlite3.OperationalError alone (app.py)
        said = f"the call store cannot be read now ({reason_of(exc)}); try again shortly"
        log.warning("%s %s: %s", request.method, request.url.path, said)
    else:
        said = f"the call store cannot be read ({reason_of(exc)}); {MEND}" if fault(exc) \
            else f"the call store cannot be read now ({reason_of(exc)})"
        log.error("%s %s: %s", request.method, request.url.path, said,
                  exc_info=None if isinstance(exc, Misconfigured) else exc)
    if not wants_page(request):
        return reply(503, error=said)
    session = session_of(request)
    home = home_of(session.role) if session else "/login"
    return page(request, "refused.html", status_code=503, heading="The call store cannot be read",
                reason=said, home=home, home_name=HOME_NAME.get(home, "the log-in"))
