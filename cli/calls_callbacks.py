"""`ccf calls callbacks`: the in-queue call-backs callers booked, and what became of them.
Reads options and prints; runtime.operations.callback_rows reads the store."""

from __future__ import annotations

import typer

from ccdsl import json_text
from ccdsl.cli.common import (
    ConfigOption,
    StoreOption,
    TableFormat,
    TableFormatOption,
    limit_option,
    open_store,
    write,
)

OPEN = ("pending", "dialling")


def list_callbacks(
    store: StoreOption = None,
    config: ConfigOption = None,
    every: bool = typer.Option(False, "--all", help="Every call-back, done, failed and given "
                                                    "up too (default: those still open)."),
    limit: int = limit_option(200, help="At most this many, oldest first."),
    fmt: TableFormatOption = TableFormat.table,
) -> None:
    """List the in-queue call-backs still to be made (pending, or being dialled).

    Each with the call that booked it, its queue, the number, its place in
    line (when the caller joined), the attempts made, when the next one may
    be made, and the last outcome; `--all` adds those done, failed and
    given up. ccf serve dials them (docs/asterisk.md "Call-backs, in
    detail"). Exit status: 0; 2 when the call store is missing or cannot
    be read; 4 when its PostgreSQL server does not answer.
    """
    from ccdsl.runtime.operations.callback_rows import listing
    from ccdsl.runtime.operations.centre_time import local_iso
    from ccdsl.runtime.operations.tables import table

    with open_store(store, config) as calls:
        zone = calls.zone()
        rows = listing(calls.query, None if every else OPEN, limit)

    def when(ms):
        if ms is None:
            return ""
        from datetime import UTC, datetime
        return local_iso(datetime.fromtimestamp(ms / 1000, UTC).isoformat(), zone)

    if fmt is TableFormat.json:
        write(json_text.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        write("no in-queue call-backs" + ("" if every else " to make") + "\n")
        return
    write(table(["call", "queue", "number", "in line since", "status", "attempts",
                 "next attempt", "outcome", "agent"],
                [[r["call_id"], r["queue"], r["number"], when(r["joined_ms"]), r["status"],
                  str(r["attempts"]),
                  when(r["next_attempt_ms"]) if r["status"] == "pending" else "",
                  r["outcome"] or "", r["agent"] or ""] for r in rows]))
