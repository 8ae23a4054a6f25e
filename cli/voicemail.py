"""`ccf voicemail list`: the messages callers left, and whether they were called back.
Reads options and prints; runtime.operations.voicemail does the query."""

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
    open_store,
    since_moment,
    write,
)

app = typer.Typer(help="Voicemail messages left by callers: who for, and whether they were "
                       "called back.", no_args_is_help=True)


@app.command("list")
def list_messages(
    for_agent: str = typer.Option(None, "--for", metavar="AGENT",
                                  help="Only the messages for this agent or mailbox."),
    since: SinceOption = None,
    store: StoreOption = None,
    config: ConfigOption = None,
    limit: int = limit_option(100, help="At most this many, newest first."),
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """List the stored voicemail messages, newest first.

    Each with the caller, the CRM customer, the mailbox it was left in (the
    account owner's agent id, or the fallback mailbox), the file, its
    length, when, and whether it was called back (`ccf callback ID`: the id
    is the call's). Exit status: 0; 2 when the call store is missing or
    cannot be read; 4 when its PostgreSQL server does not answer.
    """
    from ccdsl.runtime.core.durations import seconds_text
    from ccdsl.runtime.operations.centre_time import local_iso
    from ccdsl.runtime.operations.tables import table
    from ccdsl.runtime.operations.voicemail import list_messages as query

    with open_store(store, config) as calls:
        zone = calls.zone()
        moment = since_moment(since, zone)
        rows = query(calls, for_agent=for_agent, since=moment, limit=limit)
    if fmt is TableFormat.json:
        write(json_text.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        write("no messages\n")
        return
    write(table(["id", "left", "caller", "customer", "for", "length",
                 "called back", "file"],
                [[r["call_id"], local_iso(r["started"], zone), r["caller"], r["customer_id"],
                  r["mailbox"], seconds_text(r["duration_ms"]), r["called_back"] or "no",
                  os.path.basename(r["file"] or "")] for r in rows]))
