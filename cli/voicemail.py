"""`ccf voicemail list`: the messages callers left, from the call store
(runtime/operations/voicemail.py), with whom each is for and whether someone
called back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from ccdsl.cli.calls import (
    CONFIG_HELP,
    STORE_HELP,
    ListFormat,
    open_store,
    seconds,
    since_moment,
    table,
)
from ccdsl.cli.common import write

app = typer.Typer(help="Voicemail messages left by callers: who for, and whether they were "
                       "called back.", no_args_is_help=True)


@app.command("list")
def list_messages(
    for_agent: str = typer.Option(None, "--for", metavar="AGENT",
                                  help="Only the messages for this agent or mailbox."),
    since: str = typer.Option(None, "--since", metavar="WHEN",
                              help="Only messages from then on: 30m, 2h, 3d, 1w, a date "
                                   "(2026-11-30) or a date and time (\"2026-11-30 10:00\")."),
    store: Path = typer.Option(None, "--store", metavar="FILE", dir_okay=False,
                               envvar="CCF_STORE", help=STORE_HELP),
    config: str = typer.Option(None, "--config", "-c", envvar="CCF_CONFIG", help=CONFIG_HELP),
    limit: int = typer.Option(100, "--limit", min=1, help="At most this many, newest first."),
    fmt: ListFormat = typer.Option(ListFormat.table, "--format", "-f",
                                   help="table, or json (a list of messages)."),
) -> None:
    """List the stored voicemail messages, newest first.

    Each with the caller, the CRM customer, the mailbox it was left in (the
    account owner's agent id, or the fallback mailbox), the file, its
    length, when, and whether it was called back (`ccf callback ID`: the id
    is the call's). Exit status 1 when the store cannot be read.
    """
    from ccdsl.runtime.operations.voicemail import list_messages as query

    moment = since_moment(since)
    with open_store(store, config) as calls:
        rows = query(calls, for_agent=for_agent, since=moment, limit=limit)
    if fmt is ListFormat.json:
        write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        write("no messages\n")
        return
    write(table(["id", "left", "caller", "customer", "for", "length", "called back", "file"],
                [[r["call_id"], (r["started"] or "")[:19], r["caller"], r["customer_id"],
                  r["mailbox"], seconds(r["duration_ms"]), r["called_back"] or "no",
                  os.path.basename(r["file"] or "")] for r in rows]))
