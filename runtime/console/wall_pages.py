"""The supervisor's wallboard: GET /wall (live from the `wall` events of /live) and
POST /wall/monitor (listen, whisper or barge: rings the supervisor's own device).

Staff only; must not trust the page for a role or a device: both are looked up here.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.guard import STAFF, need, need_form, reply
from ccdsl.runtime.console.templates import page
from ccdsl.runtime.operations.centre_control import MONITOR_MODES, one_of

log = logging.getLogger("ccdsl.console")
MAX_ID = 128


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    async def wall(request: Request) -> Response:
        session = need(request, *STAFF)
        devices = ctx.settings.supervisor_devices or {}
        return page(request, "wall.html", snapshot=await request.app.state.board.current(),
                    device=devices.get(session.user), modes=MONITOR_MODES)

    async def monitor(request: Request) -> Response:
        session, form = await need_form(request, *STAFF)
        call_id = form.get("call_id", "").strip()
        mode = form.get("mode", "").strip()
        one_of(mode, MONITOR_MODES, "monitor mode")
        if not call_id or len(call_id) > MAX_ID:
            return reply(400, error="which call? (call_id)")
        extension = (ctx.settings.supervisor_devices or {}).get(session.user)
        if not extension:
            return reply(409, error=f"no device is configured for {session.user} to ring: "
                                    "the administrator sets [console] supervisor_devices "
                                    f"{{ {session.user} = \"EXTENSION\" }} in ccf.toml")
        started = await ctx.control.monitor(call_id, extension, mode)
        log.info("console: %s started %s on call %s (device %s)", session.user, mode,
                 call_id, extension)
        return reply(200, call_id=call_id, mode=mode, extension=extension,
                     started=started if isinstance(started, dict) else None)

    return [Route("/wall", wall, methods=["GET"]),
            Route("/wall/monitor", monitor, methods=["POST"])]
