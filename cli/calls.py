"""`ccf calls list` and `ccf calls show CALL`: the calls in the call store.
Reads options and prints; the queries and renderings live in runtime.operations."""

from __future__ import annotations

import os

import typer

from ccdsl import json_text
from ccdsl.cli.common import (
    ConfigOption,
    SinceOption,
    StoreOption,
    TableFormat,
    TableFormatOption,
    limit_option,
    not_found,
    open_store,
    since_moment,
    write,
)

app = typer.Typer(help="The calls kept in the call store: list them, show one with its "
                       "events, its path through the flow, its recording and its wrap-up.",
                  no_args_is_help=True)


@app.command("list")
def list_calls(
    store: StoreOption = None,
    config: ConfigOption = None,
    customer: str = typer.Option(None, "--customer", metavar="ID",
                                 help="Only the calls of this CRM customer id."),
    agent: str = typer.Option(None, "--agent", metavar="ID",
                              help="Only the calls this agent talked in."),
    since: SinceOption = None,
    limit: int = limit_option(50, help="At most this many calls, newest "
                                                         "first."),
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """List the calls in the call store, newest first.

    Each with its caller, CRM customer, the agent who talked, outcome,
    length and recording file; `--format json` gives the call records.
    Exit status: 0; 2 for a bad option or a call store that is missing or
    cannot be read; 4 when its PostgreSQL server does not answer.
    """
    from ccdsl.runtime.core.durations import seconds_text
    from ccdsl.runtime.operations.centre_time import local_iso
    from ccdsl.runtime.operations.recordings import list_calls as query
    from ccdsl.runtime.operations.tables import table

    with open_store(store, config) as calls:
        zone = calls.zone()
        moment = since_moment(since, zone)
        rows = query(calls, customer=customer, agent=agent, since=moment, limit=limit)
    if fmt is TableFormat.json:
        write(json_text.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        write("no calls\n")
        return
    write(table(["call", "started", "caller", "customer", "agent",
                 "outcome", "length",
                 "recording"],
                [[r["call_id"], local_iso(r["started"], zone), r["caller"], r["customer_id"],
                  r["agent"], r["outcome"] or "in progress", seconds_text(r["duration_ms"]),
                  os.path.basename(r["recording"]) if r["recording"] else ""] for r in rows]))


@app.command("show")
def show_call(
    call: str = typer.Argument(..., metavar="CALL", show_default=False,
                               help="The call's id (`ccf calls list` shows them)."),
    store: StoreOption = None,
    config: ConfigOption = None,
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """Show one call: its record, events, path through the flow, recording and wrap-up.

    The events in order as `ccf simulate` traces them; the path through the
    flow with each .ccf line quoted when the file is readable here; each
    recording file and whether it exists on this machine. Exit status: 0;
    2 for an unknown call or a call store that is missing or cannot be
    read; 4 when its PostgreSQL server does not answer.
    """
    from ccdsl.runtime.operations.database import shown
    from ccdsl.runtime.operations.recordings import call_detail
    from ccdsl.runtime.operations.trace import call_json, render_detail

    with open_store(store, config) as calls:
        detail = call_detail(calls, call)
        zone = calls.zone()
    if detail is None:
        raise not_found("call", call, f"the call store {shown(calls.path)}",
                        "`ccf calls list`")
    if fmt is TableFormat.json:
        write(json_text.dumps(call_json(detail), ensure_ascii=False, indent=2) + "\n")
        return
    write(render_detail(detail, root=os.getcwd(), zone=zone))
