"""What a writer of the shared tables says on PostgreSQL's NOTIFY channel of the call store, so
the other workers hear it at once (docs/workers.md). Rows only: must not listen or know asyncio.

A notice is sent inside the writer's transaction: PostgreSQL delivers it only if that commits.
Its payload names what changed (a call id, a pointer serial), never a secret.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ccdsl.runtime.operations.database import is_postgres

CHANNEL = "ccf_store"  # the call store's own channel: a database's channels are its own
ANSWERED = "answered"  # a ccf-answered signal was left for a call (value: its call id)
DONE = "done"  # a signal's hook has run (value: the call id)
FLOWS = "flows"  # the flow pointer moved: a deploy or a rollback (value: its new serial)
KINDS = (ANSWERED, DONE, FLOWS)


def say(db, target: str, kind: str, value: str) -> None:
    """Send a notice on a connection inside its transaction; nothing on SQLite (its workers
    poll)."""
    if is_postgres(target):
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, f"{kind}:{value}"))


@contextlib.contextmanager
def announcing(db, target: str, kind: str, value: str) -> Iterator[None]:
    """The statements of the block and their notice in one transaction on PostgreSQL; the block
    alone, as it was, on SQLite."""
    if not is_postgres(target):
        yield
        return
    db.execute("BEGIN")
    try:
        yield
        say(db, target, kind, value)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


def heard(payload: str) -> tuple[str, str] | None:
    """A notice's (kind, value); None for a payload this version does not know (a newer
    worker's, another program's on the same channel)."""
    kind, sep, value = payload.partition(":")
    if not sep or kind not in KINDS or not value:
        return None
    return kind, value
