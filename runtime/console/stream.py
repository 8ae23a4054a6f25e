"""GET /live: the console's server-sent events. The whole state first, then each change.

An agent's stream carries only that agent's state and screen pops; a supervisor's the
wallboard. Must not block the event loop: a page that falls behind is dropped and
reconnects (EventSource does so by itself).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from ccdsl import json_text
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.guard import need
from ccdsl.runtime.console.wall_model import TICK_S, WallBoard

KEEP_ALIVE_S = 15.0


def sse(kind: str, data: Any, seq: int | None = None) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    body = json_text.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    return f"{head}event: {kind}\ndata: {body}\n\n".encode()


def agent_state(ctx: ConsoleContext, agent: str) -> dict[str, Any]:
    return {"me": ctx.desk.status(agent).to_json(), "pop": ctx.pops.by_agent.get(agent),
            "now": ctx.now().isoformat()}


async def live(request: Request):
    ctx: ConsoleContext = request.app.state.ctx
    session = need(request)
    stopping: asyncio.Event = request.app.state.stopping
    board: WallBoard = request.app.state.board
    agent = session.agent
    if agent is not None:
        sub = ctx.feed.subscribe(agent=agent)
    else:
        sub = ctx.feed.subscribe(lambda change: change.kind == "agent")

    async def events():
        try:
            if agent is not None:
                yield sse("state", agent_state(ctx, agent))
            else:
                last = await board.current()
                yield sse("wall", last)
            waited = 0.0
            while not stopping.is_set():
                # the wallboard's clocks and counts are sent again at most every tick
                timeout = TICK_S if agent is None else KEEP_ALIVE_S
                try:
                    change = await sub.next(timeout)
                except LookupError:
                    return  # fell behind: the page reconnects and starts again
                if request.app.state.sessions.get(session.id) is None:
                    yield sse("logged_out", {"reason": "your session ended"})
                    return
                if agent is not None:
                    if change is None:
                        yield b": keep-alive\n\n"
                    else:
                        yield sse(change.kind, change.data, change.seq)
                    continue
                waited = 0.0 if change is not None else waited + timeout
                now_wall = await board.current()
                if now_wall != last or waited >= KEEP_ALIVE_S:
                    last, waited = now_wall, 0.0
                    yield sse("wall", now_wall)
        finally:
            ctx.feed.unsubscribe(sub)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
