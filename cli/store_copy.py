"""`ccf store copy SOURCE DEST`: a call store copied to another back end, such as the embedded
SQLite file to PostgreSQL. Reads arguments and prints; runtime/operations/store_copy.py copies."""

from __future__ import annotations

import sys

import typer

from ccdsl.cli.common import fail, store_exit, write


def copy(
    source: str = typer.Argument(..., metavar="SOURCE",
                                 help="The call store to copy: a SQLite file, or a "
                                      "postgresql:// URL."),
    dest: str = typer.Argument(..., metavar="DEST",
                               help="Where to copy it: a new SQLite file or postgresql:// URL, "
                                    "or an empty call store."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Copy a call store, every table and row, into a new or empty store.

    How a centre moves from the embedded SQLite store to PostgreSQL (or
    back). A postgresql:// URL names the database without its password: give
    that in the environment variable CCF_STORE_PASSWORD. The source is
    read in one snapshot: calls `ccf serve` writes after it are not
    copied, so stop serving for the move. The destination is written in
    one transaction, its row counts checked against the source's before
    it is kept; a destination that holds rows is refused.
    Exit status: 0 when copied; 2 when the source cannot be read, or the
    destination is not empty or cannot be written (nothing is kept); 4 when
    either one's PostgreSQL server does not answer.
    """
    from ccdsl.runtime.operations.database import shown
    from ccdsl.runtime.operations.store_copy import CopyError, copy_store

    # a store of years takes minutes: a terminal sees the table and rows so far
    shows = not quiet and sys.stderr.isatty()

    def progress(table: str, rows: int) -> None:
        sys.stderr.write(f"\r{table:<18} {rows:>12,}")
        sys.stderr.flush()

    try:
        copied = copy_store(source, dest, progress=progress if shows else None)
    except CopyError as exc:
        if shows:
            sys.stderr.write("\n")
        raise fail(str(exc), store_exit(exc)) from None  # a server not answering: 4
    if shows:
        sys.stderr.write("\r" + " " * 31 + "\r")
    if not quiet:
        lines = [f"{name:<18} {rows:>12,}" for name, rows in copied.tables]
        write("\n".join(lines) + f"\ncopied {copied.rows:,} rows of {shown(source)} into "
              f"{shown(dest)}\n")
