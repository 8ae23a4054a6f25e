"""`ccf serve`'s HTTP API (docs/asterisk.md): GET /status, GET /calls/ID, POST /calls/ID/wrapup.

JSON in and out, a bearer token when [api] token_env names one, the body and time limits
of docs/asterisk.md "Limits". Must not run calls itself.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ccdsl import json_text
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.off_loop import off_loop

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32  # a wrap-up is a flat form; lists and maps in it are shallow
BODY_TIMEOUT_S = 5.0  # a body announced by its Content-Length must arrive within this
HANDLER_TIMEOUT_S = 15.0  # a handler (a wrap-up logged to a slow CRM) gets this long
ENDPOINTS = "GET /status, GET /calls/ID, POST /calls/ID/wrapup"


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    data = json_text.dumps(body, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
    return Response(data, status, media_type="application/json; charset=utf-8",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return reply(status, {"ok": False, "error": message}, headers)


def api_routes(ctx: ConsoleContext, slots: int) -> list[Route]:
    """The three endpoints over the context; `slots` requests at once past
    their headers (more get 503)."""
    gate = asyncio.Semaphore(max(1, slots))

    def endpoint(handler):
        async def run(request: Request) -> Response:
            try:
                _authorise(request, ctx.api_token)
                if gate.locked():
                    raise ApiError(503, "too many connections to the API: every request "
                                        "slot is taken; try again")
                async with gate:
                    body = await _body(request) if request.method == "POST" else None
                    async with asyncio.timeout(HANDLER_TIMEOUT_S):
                        return await handler(request, body)
            except ApiError as exc:
                return error(exc.status, str(exc), exc.headers)
            except TimeoutError:
                return error(504, f"no answer within {HANDLER_TIMEOUT_S:g} s")
        return run

    async def status(request: Request, body: Any) -> Response:
        return reply(200, ctx.status())

    async def call(request: Request, body: Any) -> Response:
        call_id = request.path_params["call_id"]
        record = await off_loop(ctx.store.call, call_id)
        if record is None:
            return error(404, f"no call {call_id} in the call store")
        return reply(200, record)

    async def wrapup(request: Request, body: Any) -> Response:
        if body is None:
            return error(400, "a JSON body is expected")
        code, out = await ctx.wrapup(request.path_params["call_id"], body)
        return reply(code, out)

    return [Route("/status", endpoint(status), methods=["GET"]),
            Route("/calls/{call_id}", endpoint(call), methods=["GET"]),
            Route("/calls/{call_id}/wrapup", endpoint(wrapup), methods=["POST"])]


def _authorise(request: Request, token: str | None) -> None:
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8"), token.encode("utf-8")):
        raise ApiError(401, "this API needs `Authorization: Bearer TOKEN` (the token in the "
                            "environment variable [api] token_env names)",
                       {"WWW-Authenticate": 'Bearer realm="ccf"'})


async def _body(request: Request) -> Any:
    """The JSON body, checked before it is read; None without one."""
    headers = request.headers
    if "transfer-encoding" in headers:
        raise ApiError(411, "chunked bodies are not accepted; send a Content-Length")
    length_text = headers.get("content-length")
    if length_text is None:
        return None
    if not length_text.isdigit() or len(length_text) > 12:
        raise ApiError(400, f"Content-Length {length_text[:20]!r} is not a number")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is {length} bytes; at most {MAX_BODY_BYTES} are taken")
    if length == 0:
        return None
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "the body must be JSON (Content-Type: application/json)")
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            data = await request.body()
    except TimeoutError:
        raise ApiError(408, f"the body did not arrive within {BODY_TIMEOUT_S:g} s") from None
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, f"the body nests lists or objects deeper than {MAX_JSON_DEPTH} "
                            "levels") from None
    if too_deep(body):
        raise ApiError(400, f"the body nests lists or objects deeper than {MAX_JSON_DEPTH} "
                            "levels")
    return body


def too_deep(value: Any, most: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests lists and objects deeper than `most`
    (walked without recursion, so any depth is safe to measure)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > most:
            return True
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))
    return False
