"""runtime/operations/voicemail.py's query on both back ends: the messages of a SQLite store and
of its copy in PostgreSQL are listed alike (length, call-backs, done), JSON's true read as true
on both."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from queue_callbacks.world import T0, Call

from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_copy import copy_store
from ccdsl.runtime.operations.voicemail import list_messages, message


class Reader:
    """What the listing asks of a CallStore: query(sql, args) -> rows as dicts."""

    def __init__(self, target: str) -> None:
        self.target = target

    def query(self, sql, args=()):
        db = connect(self.target, read_only=True)
        try:
            if isinstance(db, sqlite3.Connection):
                db.row_factory = sqlite3.Row
            return [dict(zip(r.keys(), tuple(r), strict=True))
                    for r in db.execute(sql, args).fetchall()]
        finally:
            db.close()


def _store(path: str) -> str:
    with CallStore(path, timezone="UTC") as store:
        for n, (stored, mailbox) in enumerate(((True, "zhang"), (True, "night-desk"),
                                               (False, "zhang"), (True, "li"))):
            c = Call(store, f"v{n}", start=T0 + timedelta(minutes=n))
            c.emit("voicemail", 30_000, mailbox=mailbox, file=f"/vm/v{n}.wav" if stored else None,
                   stored=stored, duration_ms=12_000 + n)
            c.emit("hangup", by="caller")
            c.emit("call_ended", outcome="voicemail")
        for n, status in enumerate(("failed", "done")):
            store.record_centre_event("serve", "callback", {"status": status, "agent": "zhang",
                                                            "n": n},
                                      T0 + timedelta(hours=1, minutes=n), call_id="v0")
        store.record_centre_event("sim", "callback", {"status": "done"}, T0 + timedelta(hours=2),
                                  call_id="v1")
        store.record_centre_event("console", "voicemail_done", {"agent": "li", "at": "x"},
                                  T0 + timedelta(hours=3), call_id="v3")
    return path


def test_the_messages_are_the_same_on_postgresql(pg_url, tmp_path):
    lite = _store(str(tmp_path / "calls.db"))
    copy_store(lite, pg_url)
    listed = list_messages(Reader(lite))
    assert listed == list_messages(Reader(pg_url))
    assert [(m["call_id"], m["duration_ms"], m["called_back"]) for m in listed] == [
        ("v3", 12_003, None), ("v1", 12_001, None), ("v0", 12_000, "done")]
    assert [a["status"] for a in listed[2]["callbacks"]] == ["failed", "done"]
    assert listed[0]["done"] == {"agent": "li", "at": "x"}
    assert list_messages(Reader(pg_url), for_agent="zhang", since=T0) == [listed[2]]
    assert message(Reader(pg_url), "v0") == listed[2]
    assert message(Reader(pg_url), "v2") is None


def test_the_call_stores_own_listing_on_postgresql(pg_url, tmp_path):
    lite = _store(str(tmp_path / "calls.db"))
    copy_store(lite, pg_url)
    with CallStore(lite) as a, CallStore(pg_url) as b:
        assert list_messages(b) == list_messages(a)
        assert [m["call_id"] for m in list_messages(b)] == ["v3", "v1", "v0"]
