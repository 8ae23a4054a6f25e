"""The supervisor's Flows page: GET /flows (every flow in service drawn with its calls of a
range of the centre's days) and GET /flows/{flow} (one). Staff only.

The drawings come from the cli (context.flows_drawn, runtime/console/flow_pictures.py) and
are made off the event loop: compiling and Graphviz must not hold up calls.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ccdsl.runtime.console.admin_reports import day_range
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.flow_pictures import UnsafeDrawing, checked_svg
from ccdsl.runtime.console.guard import STAFF, Refused, need
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.console.templates import page

log = logging.getLogger("ccdsl.console")
NOT_WIRED = "this console was started without the flows' drawings"


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    async def flows(request: Request) -> Response:
        need(request, *STAFF)
        return await shown(request, None)

    async def one(request: Request) -> Response:
        need(request, *STAFF)
        return await shown(request, request.path_params["flow"])

    async def shown(request: Request, only: str | None) -> Response:
        drawings = ctx.flows_drawn
        names = list(drawings.names()) if drawings is not None else []
        if only is not None and only not in names:
            raise Refused(404, f"no flow {only[:64]!r} is in service")
        since, until, error = day_range(request.query_params.get("since", ""),
                                        request.query_params.get("until", ""),
                                        ctx.now().astimezone(ctx.zone()).date())
        pictures = []
        if drawings is not None and error is None:
            zone = ctx.zone()
            start = datetime.combine(since, time(), zone)
            end = datetime.combine(until + timedelta(days=1), time(), zone)
            for name in [only] if only is not None else names:
                picture = await off_loop(drawings.draw, name, start, end)
                if picture is None:  # gone from service since the names were read
                    continue
                svg = _markup(name, picture.svg)
                note = picture.note if svg is not None or picture.svg is None else \
                    "the drawing was kept out of the page (the server's log says why)"
                pictures.append({"name": name, "note": note, "source": picture.source,
                                 "svg": svg, "fit": f"fit-{len(pictures)}"})
        return page(request, "flows.html", status_code=400 if error else 200,
                    since=since.isoformat(), until=until.isoformat(), error=error,
                    only=only, names=names, pictures=pictures,
                    unwired=NOT_WIRED if drawings is None else None)

    return [Route("/flows", flows, methods=["GET"]),
            Route("/flows/{flow}", one, methods=["GET"])]


def _markup(flow: str, svg: str | None) -> Markup | None:
    """Graphviz's SVG into the page as markup, once checked to be a drawing only."""
    if svg is None:
        return None
    try:
        return Markup(checked_svg(svg))
    except UnsafeDrawing as exc:
        log.error("the drawing of flow %r was kept out of the page: it holds %s", flow, exc)
        return None
