"""The call store `ccf store` commands work on: a SQLite file or a PostgreSQL URL, named by
--store, $CCF_STORE or ccf.toml. Names and connects only: no command of its own."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ccdsl.cli.common import fail, named_store
from ccdsl.cli.exit_codes import USAGE

# text, not a path: a PostgreSQL URL's `//` must survive
TargetOption = Annotated[str | None, typer.Option(
    "--store", metavar="FILE|URL", envvar="CCF_STORE", show_default=False,
    help="The call store: a SQLite file or a postgresql:// URL (its password in "
         "$CCF_STORE_PASSWORD). Default: $CCF_STORE, else ccf.toml's \\[store] url or \\[paths] "
         "store.")]


def target(store: str | None, config: str | None) -> str:
    """The store named, or exit USAGE: no store named, a missing SQLite file, a URL carrying
    its password."""
    from ccdsl.runtime.operations.database import TargetError, check_target, is_postgres

    text = named_store(store, config)
    try:
        check_target(text)
    except TargetError as exc:
        raise fail(str(exc), USAGE) from None
    if not is_postgres(text) and not os.path.isfile(text):
        raise fail(f"there is no call store at {text} (calls are kept there by `ccf serve` "
                   "or `ccf simulate --store`)", USAGE)
    return text


def connect(text: str):
    """A connection to the store, or exit USAGE saying why not."""
    import sqlite3

    from ccdsl.runtime.operations.database import connect as open_connection
    from ccdsl.runtime.operations.database import shown

    try:
        return open_connection(text)
    except sqlite3.Error as exc:
        raise fail(f"{shown(text)} cannot be opened as a call store: {exc}", USAGE) from None
