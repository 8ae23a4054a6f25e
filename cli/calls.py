"""`ccf calls list` and `ccf calls show CALL`: the calls the call store
keeps, with their recordings. The queries are runtime/operations/recordings.py's;
this module reads options and renders. `open_store` is shared with
`ccf voicemail` and `ccf callback`."""

from __future__ import annotations

import json
import os
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from ccdsl.cli.common import write

app = typer.Typer(help="The calls kept in the call store: list them, show one with its "
                       "events, its path through the flow, its recording and its wrap-up.",
                  no_args_is_help=True)

STORE_HELP = ("The call store (SQLite). Default: $CCF_STORE, else the [paths] store of "
              "--config.")
CONFIG_HELP = ("The centre's ccf.toml, for its call store when --store is not given. Default: "
               "$CCF_CONFIG, or ccf.toml in the current directory.")
SINCE_HELP = ("Only calls from then on: a span back from now (30m, 2h, 3d, 1w), a date "
              "(2026-11-30) or a date and time (\"2026-11-30 10:00\").")


class ListFormat(StrEnum):
    table = "table"
    json = "json"


def fail(message: str, code: int = 1) -> typer.Exit:
    write(f"error: {message}\n", err=True)
    return typer.Exit(code)


def store_path(store: Path | None, config: str | None) -> str:
    """The call store the options name (cli.common.store_path)."""
    from ccdsl.cli.common import StoreNotNamed
    from ccdsl.cli.common import store_path as named

    try:
        return named(store, config)
    except StoreNotNamed as exc:
        raise fail(str(exc), 2) from None


def open_store(store: Path | None, config: str | None):
    """The call store, opened; a missing file is an error, not a new store."""
    import sqlite3

    from ccdsl.runtime.operations.store import CallStore, StoreError

    path = store_path(store, config)
    if not os.path.isfile(path):
        raise fail(f"there is no call store at {path} (calls are kept there by `ccf serve` "
                   "or `ccf simulate --store`)")
    try:
        return CallStore(path)
    except (StoreError, sqlite3.Error) as exc:
        raise fail(f"{path} cannot be read as a call store: {exc}") from None


def since_moment(since: str | None) -> datetime | None:
    from ccdsl.runtime.operations.recordings import QueryError, parse_since

    if since is None:
        return None
    try:
        return parse_since(since, datetime.now().astimezone())
    except QueryError as exc:
        raise fail(str(exc), 2) from None


def seconds(ms: Any) -> str:
    return "" if not isinstance(ms, (int, float)) else f"{ms / 1000:g}s"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """Plain aligned columns (no colour: the output is for terminals and pipes)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines) + "\n"


@app.command("list")
def list_calls(
    store: Path = typer.Option(None, "--store", metavar="FILE", dir_okay=False,
                               envvar="CCF_STORE", help=STORE_HELP),
    config: str = typer.Option(None, "--config", "-c", envvar="CCF_CONFIG", help=CONFIG_HELP),
    customer: str = typer.Option(None, "--customer", metavar="ID",
                                 help="Only the calls of this CRM customer id."),
    agent: str = typer.Option(None, "--agent", metavar="ID",
                              help="Only the calls this agent talked in."),
    since: str = typer.Option(None, "--since", metavar="WHEN", help=SINCE_HELP),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many calls, newest "
                                                         "first."),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f",
                                   help="table, or json (a list of call records)."),
) -> None:
    """List the calls in the call store, newest first.

    Each with its caller, CRM customer, the agent who talked, outcome,
    length and recording file. Exit status 1 when the store cannot be
    read, 2 for a bad option.
    """
    from ccdsl.runtime.operations.recordings import list_calls as query

    moment = since_moment(since)
    with open_store(store, config) as calls:
        rows = query(calls, customer=customer, agent=agent, since=moment, limit=limit)
    if fmt is ListFormat.json:
        write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        write("no calls\n")
        return
    write(table(["call", "started", "caller", "customer", "agent", "outcome", "length",
                 "recording"],
                [[r["call_id"], (r["started"] or "")[:19], r["caller"], r["customer_id"],
                  r["agent"], r["outcome"] or "in progress", seconds(r["duration_ms"]),
                  os.path.basename(r["recording"]) if r["recording"] else ""] for r in rows]))


@app.command("show")
def show_call(
    call: str = typer.Argument(..., metavar="CALL", show_default=False,
                               help="The call's id (`ccf calls list` shows them)."),
    store: Path = typer.Option(None, "--store", metavar="FILE", dir_okay=False,
                               envvar="CCF_STORE", help=STORE_HELP),
    config: str = typer.Option(None, "--config", "-c", envvar="CCF_CONFIG", help=CONFIG_HELP),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f",
                                   help="table (readable sections), or json."),
) -> None:
    """Show one call: its record, events, path through the flow, recording and wrap-up.

    The events in order as `ccf simulate` traces them; the path through the
    flow with each .ccf line quoted when the file is readable here; each
    recording file and whether it exists on this machine. Exit status 1
    for an unknown call.
    """
    from ccdsl.runtime.operations.recordings import call_detail

    with open_store(store, config) as calls:
        detail = call_detail(calls, call)
    if detail is None:
        raise fail(f"no call {call!r} in the call store")
    if fmt is ListFormat.json:
        from ccdsl.runtime.core.values import to_json

        write(json.dumps({
            "call": detail.record,
            "events": [{"seq": e.seq, "at": e.at.isoformat(), "kind": e.kind, "loc": e.loc,
                        "data": to_json(e.data)} for e in detail.events],
            "path": [dict(v) for v in detail.visits],
            "recordings": list(detail.recordings),
            "wrapup": detail.record.get("wrapup"),
        }, ensure_ascii=False, indent=2) + "\n")
        return
    write(render_detail(detail))


def render_detail(detail) -> str:
    from ccdsl.cli.simulate import render_trace

    record = detail.record
    root = os.getcwd()
    out = [f"call {record['call_id']}  flow {record['flow'] or '?'} "
           f"(version {record['flow_version'] or '?'})\n"]
    facts = [("started", record["started"]), ("ended", record["ended"]),
             ("caller", record["caller"]), ("dialled", record["dialled"]),
             ("customer", record["customer_id"]), ("outcome", record["outcome"] or "in progress"),
             ("ended by", record["ended_by"]), ("length", seconds(record["duration_ms"])),
             ("queue", record["queue"]), ("waited", seconds(record["wait_ms"])),
             ("agent", record["agent"]), ("talked", seconds(record["talk_ms"])),
             ("voicemail", " ".join(filter(None, (record["voicemail_mailbox"],
                                                 record["voicemail_file"])))),
             ("error", record["error"])]
    out += [f"  {name:<10} {value}\n" for name, value in facts if value not in (None, "")]
    out.append("\nEvents:\n")
    out.append(render_trace(detail.events, root=root, indent="  ") or "  (none)\n")
    out.append("\nPath through the flow:\n")
    out.append(render_path(detail.events, root) or "  (no step ran)\n")
    out.append("\nRecordings:\n")
    if not detail.recordings:
        out.append("  (none)\n")
    for rec in detail.recordings:
        where = "on disk" if rec["exists"] else "not on this machine"
        out.append(f"  {rec['file']}  ({where})\n    started {rec['started']}, "
                   f"{seconds(rec['duration_ms']) or '?'}, agent {rec['agent'] or '-'}, "
                   f"customer {rec['customer_id'] or '-'}\n")
    out.append("\nWrap-up:\n")
    out.append(render_wrapup(record.get("wrapup")))
    return "".join(out)


def render_path(events, root: str) -> str:
    """The .ccf lines the call went through, in order, each once per visit
    (consecutive events of one line are one entry), with the line's text."""
    from ccdsl.cli.simulate import offset_text
    from ccdsl.render import display_path

    start = events[0].at if events else None
    lines, last = [], None
    sources: dict[str, list[str] | None] = {}
    for event in events:
        loc = event.loc
        if not loc or not loc.get("file"):
            continue
        key = (loc["file"], loc.get("line"))
        if key == last:
            continue
        last = key
        text = _source_line(sources, loc["file"], loc.get("line") or 0)
        offset = offset_text(int((event.at - start).total_seconds() * 1000))
        where = f"{display_path(loc['file'], root)}:{loc.get('line')}"
        lines.append(f"  {offset}  {where:<40} | {text}".rstrip() + "\n")
    return "".join(lines)


def _source_line(cache: dict, file: str, line: int) -> str:
    if file not in cache:
        try:
            cache[file] = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            cache[file] = None  # not readable here: the location alone
    text = cache[file]
    return text[line - 1].strip() if text and 1 <= line <= len(text) else ""


def render_wrapup(wrapup: dict | None) -> str:
    if not wrapup:
        return "  (no wrap-up form)\n"
    fields = wrapup.get("fields") or []
    names = [f.get("name") if isinstance(f, dict) else str(f) for f in fields]
    values = wrapup.get("values")
    head = f"  agent {wrapup.get('agent') or '-'}; fields {', '.join(map(str, names)) or '-'}\n"
    if not values:
        return head + "  (not entered yet)\n"
    return head + "".join(f"  {k} = {json.dumps(v, ensure_ascii=False)}\n"
                          for k, v in values.items())
