"""Staff pages: GET /reports (the `ccf report` figures for a range) and GET /agents (every
agent's desk state) with its actions: log out, pause, ready (supervisor and admin) and
skills (admin only).

Every action is checked here (need_form: role, CSRF, origin); the page's buttons only
show what is allowed. A form post comes back to /agents with a message; a script asking
for JSON (Accept: application/json) gets JSON.
"""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ccdsl.runtime.console.admin_reports import report_view
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.guard import ADMIN, STAFF, need, need_form, reply
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.console.sessions import Session
from ccdsl.runtime.console.templates import page
from ccdsl.runtime.console.wall_model import consoles_of
from ccdsl.runtime.operations.centre_control import ControlError

log = logging.getLogger("ccdsl.console")

SKILL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
MIN_LEVEL, MAX_LEVEL = 1, 10
MAX_SKILLS = 100


class SkillsError(ValueError):
    """A skills form that cannot be saved; the message is for the page."""


def parse_skills(text: str) -> dict[str, int]:
    """`name=level` lines (blank lines skipped) as a map; levels 1..10."""
    skills: dict[str, int] = {}
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        name, sep, level = (part.strip() for part in line.partition("="))
        if not sep or not name:
            raise SkillsError(f"line {number}: write name=level, such as service=5")
        if not SKILL_NAME.fullmatch(name):
            raise SkillsError(f"line {number}: a skill's name is letters, digits, _, - "
                              "and . (at most 64)")
        if not level.isdigit() or not MIN_LEVEL <= int(level) <= MAX_LEVEL:
            raise SkillsError(f"line {number}: {name}'s level is a whole number from "
                              f"{MIN_LEVEL} to {MAX_LEVEL}")
        if name in skills:
            raise SkillsError(f"line {number}: {name} is given twice")
        skills[name] = int(level)
        if len(skills) > MAX_SKILLS:
            raise SkillsError(f"at most {MAX_SKILLS} skills")
    if not skills:
        raise SkillsError("give at least one skill, such as service=5")
    return skills


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def done(request: Request, session: Session, status: int, message: str,
         **extra) -> Response:
    ok = 200 <= status < 300
    if wants_json(request):
        return reply(status, **({"message": message} if ok else {"error": message}), **extra)
    session.flashes.append(("" if ok else "error:") + message)
    return RedirectResponse("/agents", 303)


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    def agent_or_404(request: Request) -> str:
        agent_id = request.path_params["agent_id"]
        if ctx.agent(agent_id) is None:
            raise ControlError(f"no agent {agent_id[:64]!r} in the agents file", 404)
        return agent_id

    async def reports(request: Request) -> Response:
        need(request, *STAFF)
        view = await off_loop(report_view, ctx, request.query_params.get("since", ""),
                              request.query_params.get("until", ""), ctx.now())
        status = 503 if view.unreachable else 400 if view.error else 200
        return page(request, "reports.html", status_code=status,
                    view=view)

    async def agents(request: Request) -> Response:
        session = need(request, *STAFF)
        flashes, session.flashes = list(session.flashes), []
        consoles = consoles_of(request.app.state.sessions.users())  # as the wallboard counts
        now = ctx.now()
        rows = []
        for agent in sorted(ctx.agents(), key=lambda a: a.id):
            try:
                status = ctx.desk.status(agent.id)
            except ControlError:
                status = None
            rows.append({
                "id": agent.id, "name": agent.name or agent.id, "extension": agent.extension,
                "state": status.state if status else "unknown",
                "reason": status.reason if status else None,
                "call_id": status.call_id if status else None,
                "held": bool(status and status.held),
                "held_seconds": status.held_seconds(now) if status else None,
                "held_by": list(status.holders) if status and status.held else [],
                "seconds": status.seconds(now) if status else None,
                "console": consoles.get(agent.id, 0),
                "queues": ", ".join(agent.queues or ()),
                "skills": dict(sorted((agent.skills or {}).items())),
                "skills_text": "\n".join(f"{k}={v}" for k, v in
                                         sorted((agent.skills or {}).items()))})
        return page(request, "agents.html", agents=rows, reasons=ctx.desk.reasons,
                    is_admin=session.role == ADMIN,
                    flashes=[(f.startswith("error:"), f.removeprefix("error:"))
                             for f in flashes])

    async def act(request: Request, what: str) -> Response:
        session, form = await need_form(request, *((ADMIN,) if what == "skills" else STAFF))
        try:
            agent_id = agent_or_404(request)
            if what == "logout":
                await ctx.desk.logout(agent_id)
                ended = request.app.state.sessions.end_user(agent_id)
                message = f"{agent_id} logged out ({ended} console session(s) ended)"
            elif what == "pause":
                reason = form.get("reason", "").strip()
                await ctx.desk.pause(agent_id, reason)
                message = f"{agent_id} paused: {reason}"
            elif what == "ready":
                await ctx.desk.ready(agent_id)
                message = f"{agent_id} is ready"
            else:
                skills = parse_skills(form.get("skills", ""))
                await ctx.control.set_skills(agent_id, skills)
                message = f"{agent_id}'s skills saved: " + ", ".join(
                    f"{k}={v}" for k, v in skills.items())
        except SkillsError as exc:
            return done(request, session, 400, str(exc))
        except ControlError as exc:
            return done(request, session, exc.status, str(exc))
        log.info("console: %s: %s", session.user, message)
        return done(request, session, 200, message)

    def action(what: str):
        async def handler(request: Request) -> Response:
            return await act(request, what)
        return handler

    return [Route("/reports", reports, methods=["GET"]),
            Route("/agents", agents, methods=["GET"]),
            *(Route(f"/agents/{{agent_id}}/{what}", action(what), methods=["POST"])
              for what in ("logout", "pause", "ready", "skills"))]
