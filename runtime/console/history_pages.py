"""Calls: GET /history (search), GET /history/{call} (a call's page), GET /recordings/{call}.

An agent sees only the calls they talked in, whatever the URL says: another's call is
the same 404 as an unknown one. Recordings are served from inside the recordings folder
only, with HTTP range requests (FileResponse) so the page's player can seek.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ccdsl import json_text
from ccdsl.runtime.console.context import ConsoleContext
from ccdsl.runtime.console.guard import AGENT, need, reply
from ccdsl.runtime.console.history_files import audio_file, media_type
from ccdsl.runtime.console.history_search import (
    OUTCOMES,
    SearchError,
    find_calls,
    handled_by,
    read_search,
)
from ccdsl.runtime.console.off_loop import off_loop
from ccdsl.runtime.console.sessions import Session
from ccdsl.runtime.console.templates import page, text_of
from ccdsl.runtime.operations.centre_time import local_iso, local_text
from ccdsl.runtime.operations.ivr_path import ivr_path
from ccdsl.runtime.operations.recordings import call_recordings
from ccdsl.runtime.operations.removed_files import removal_of
from ccdsl.runtime.operations.voicemail import message

MAX_ID = 128
NOT_FOUND = "no such call"


def may_see(ctx: ConsoleContext, session: Session, call_id: str) -> bool:
    """Staff see every call; an agent the calls they talked in."""
    if session.role != AGENT:
        return True
    agent = session.agent or session.user
    return handled_by(ctx.store, call_id, agent)


def visible_call(ctx: ConsoleContext, session: Session, call_id: str) -> dict[str, Any] | None:
    """The call's record when this session may see it, else None (unknown or
    not theirs: the same answer). Reads the store: run off the loop."""
    record = ctx.store.call(call_id) if len(call_id) <= MAX_ID else None
    if record is None or not may_see(ctx, session, call_id):
        return None
    return record


def call_reads(ctx: ConsoleContext, call_id: str) -> tuple[list, list, dict | None]:
    """A call's events, recordings and voicemail message, for its page."""
    return (ctx.store.events(call_id), call_recordings(ctx.store, call_id),
            message(ctx.store, call_id))


def recording_names(ctx: ConsoleContext, record: dict[str, Any], call_id: str,
                    part: str | None) -> list[str | None]:
    """The files that may hold the call's audio, best first: its voicemail
    message for part=voicemail, else its recordings (a voicemail call's
    message is its recording)."""
    if part != "voicemail":
        names = [record.get("recording"),
                 *(r["file"] for r in call_recordings(ctx.store, call_id))]
        if any(names):
            return names
    voicemail = message(ctx.store, call_id)
    return [voicemail["file"]] if voicemail else []


def routes(ctx: ConsoleContext) -> list[BaseRoute]:
    async def history(request: Request) -> Response:
        session = need(request)
        own = (session.agent or session.user) if session.role == AGENT else None
        zone = ctx.zone()
        error, rows, more = None, [], False
        try:
            search = read_search(request.query_params, agent_only=own)
            rows, more = await off_loop(find_calls, ctx.store, search, zone)
        except SearchError as exc:
            search = read_search({}, agent_only=own)
            error = str(exc)
        for row in rows:
            row["started_local"] = local_text(row["started"], zone)
        return page(request, "history.html", status_code=400 if error else 200,
                    search=search, rows=rows, more=more, error=error, outcomes=OUTCOMES,
                    agents=sorted(a.id for a in ctx.agents()), own=own,
                    zone=getattr(zone, "key", str(zone)))

    async def call_page(request: Request) -> Response:
        session = need(request)
        call_id = request.path_params["call_id"]
        record = await off_loop(visible_call, ctx, session, call_id)
        if record is None:
            return page(request, "call_missing.html", status_code=404, call_id=call_id)
        zone = ctx.zone()
        events, recordings, voicemail = await off_loop(call_reads, ctx, call_id)
        rows = [{"seq": e["seq"], "at": local_text(e["at"], zone)[11:] or e["at"],
                 "kind": e["kind"], "step": e.get("step"),
                 "data": json_text.dumps(e.get("data"), ensure_ascii=False, default=str)}
                for e in events]
        root = ctx.recordings_dir
        playable = audio_file([record.get("recording"), *(r["file"] for r in recordings)],
                              root)
        voicemail_playable = audio_file([voicemail["file"]], root) if voicemail else None
        return page(request, "call.html", call=record, path=ivr_path(events), events=rows,
                    wrapups=[w for w in map(wrapup_view, record.get("wrapups") or ()) if w],
                    recordings=recordings,
                    voicemail=voicemail, playable=playable,
                    voicemail_playable=voicemail_playable,
                    started=local_iso(record.get("started"), zone),
                    ended=local_iso(record.get("ended"), zone))

    async def recording(request: Request) -> Response:
        session = need(request)
        call_id = request.path_params["call_id"]
        record = await off_loop(visible_call, ctx, session, call_id)
        if record is None:
            return reply(404, error=NOT_FOUND)
        names = await off_loop(recording_names, ctx, record, call_id,
                               request.query_params.get("part"))
        path = audio_file(names, ctx.recordings_dir)
        if path is None:
            gone = await off_loop(removal_of, ctx.store.query, call_id, names)
            if gone is not None:  # a link kept elsewhere (a CRM's call log) learns why
                what = "voicemail message" if gone[0] == "voicemail" else "recording"
                return reply(410, error=f"the {what} of this call was removed on "
                                        f"{gone[1][:10]} (retention: ccf store prune)")
            return reply(404, error="no recording of this call on this server")
        return FileResponse(path, media_type=media_type(path),
                            headers={"Cache-Control": "private, no-store"},
                            content_disposition_type="inline")

    return [Route("/history", history, methods=["GET"]),
            Route("/history/{call_id:path}", call_page, methods=["GET"]),
            Route("/recordings/{call_id:path}", recording, methods=["GET"])]


def wrapup_view(wrapup: Any) -> dict[str, Any] | None:
    """One agent's stored wrap-up (the record's `wrapups` has each agent's) as (field, value)
    pairs, and who was asked for it."""
    if not wrapup:
        return None
    if isinstance(wrapup, dict) and set(wrapup) == {"agent", "fields", "values"}:
        values = wrapup.get("values")
        return {"agent": wrapup.get("agent"),
                "items": [(k, text_of(v)) for k, v in (values or {}).items()],
                "pending": values is None}
    if isinstance(wrapup, dict):
        return {"agent": None, "items": [(k, text_of(v)) for k, v in wrapup.items()],
                "pending": False}
    return {"agent": None, "items": [("value", text_of(wrapup))], "pending": False}

