"""The console's Jinja2 environment: server-rendered pages, every value autoescaped.

Must not mark caller or CRM text safe: it reaches pages as text only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ccdsl import json_text
from ccdsl.runtime.console.guard import session_of
from ccdsl.runtime.core.durations import clock_text

HERE = Path(__file__).resolve().parent
ENV = Environment(loader=FileSystemLoader(HERE / "templates"),
                  autoescape=select_autoescape(default=True, default_for_string=True),
                  trim_blocks=True, lstrip_blocks=True)
# `| tojson` writes JSON as everything else does: never NaN or Infinity
ENV.policies["json.dumps_function"] = json_text.dumps


def clock(seconds: float | None) -> str:
    """Seconds as the pages' `clock(...)` writes them (m:ss, h:mm:ss past an hour), never
    below 0:00, as console.js's ccf.clock redraws them."""
    return clock_text(max(0, int(seconds or 0)))


ENV.globals["clock"] = clock


def text_of(value: Any) -> str:
    """Any CRM, call or wrap-up value as the text a page shows."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    return json_text.dumps(value, ensure_ascii=False, default=str)


def page(request: Request, name: str, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    session = session_of(request)
    ctx = request.app.state.ctx
    # the centre's zone, for the times the pages' scripts show
    zone = getattr(ctx.zone(), "key", "")
    html = ENV.get_template(name).render(request=request, session=session, mode=ctx.mode,
                                         centre_zone=zone, **values)
    return HTMLResponse(html, status_code, headers={"Cache-Control": "no-store"})
