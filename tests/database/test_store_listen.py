"""The call store's notices on a real PostgreSQL: a writer's notice is heard only when its write
commits, a stranger's payload on the channel is passed over, and a store that cannot be reached
is said once while the listener keeps trying, its password never shown."""

from __future__ import annotations

import asyncio
import logging

from ports import free_port

from ccdsl.runtime.asterisk import store_listen
from ccdsl.runtime.asterisk.store_listen import StoreListener
from ccdsl.runtime.operations.database import PASSWORD_ENV
from ccdsl.runtime.operations.shared_db import shared
from ccdsl.runtime.operations.store_notify import ANSWERED, CHANNEL, DONE, announcing
from ccdsl.runtime.operations.store_runs import Process
from ccdsl.runtime.operations.workers import WorkerRows
from tests.serve_api.helpers import until


def test_a_notice_is_heard_only_when_its_write_commits(pg_url, monkeypatch):
    # the quiet connection's check runs between notices too: none is lost to it
    monkeypatch.setattr(store_listen, "QUIET_S", 0.01)
    rows = WorkerRows(pg_url, Process("host-1", 1, "boot:1"), address="127.0.0.1:4573")
    heard: list[tuple[str, str]] = []

    async def main():
        listener = StoreListener(pg_url, lambda kind, value: heard.append((kind, value)))
        listener.start()
        try:
            await until(lambda: listener.listening, "the LISTEN", timeout=10.0)
            await asyncio.to_thread(rows.send_answered, "call-1", "alice", "PJSIP/a-1")

            def rolled_back():
                with shared(pg_url) as db:
                    try:
                        with announcing(db, pg_url, ANSWERED, "call-2"):
                            db.execute("INSERT INTO answered_signals (call_id, at_ms, agent, "
                                       "channel, at, sender) VALUES ('call-2', 1, 'bob', "
                                       "'PJSIP/b-1', 'x', 'w')")
                            raise RuntimeError("the writer fails before its commit")
                    except RuntimeError:
                        pass
                    db.execute(f"NOTIFY {CHANNEL}, 'hello from another program'")

            await asyncio.to_thread(rolled_back)
            at_ms = await asyncio.to_thread(rows.send_answered, "call-3", "carol", "")
            await asyncio.to_thread(rows.answered_done, "call-3", at_ms, "")
            await until(lambda: (DONE, "call-3") in heard, "the last notice")
        finally:
            await listener.stop()
        with shared(pg_url) as db:
            return [r[0] for r in db.execute("SELECT call_id FROM answered_signals "
                                             "ORDER BY call_id")]

    stored = asyncio.run(main())
    # notices arrive in commit order: call-2's would be before call-3's
    assert heard == [(ANSWERED, "call-1"), (ANSWERED, "call-3"), (DONE, "call-3")]
    assert stored == ["call-1", "call-3"]


def test_a_store_that_cannot_be_reached_is_said_once(monkeypatch, caplog):
    port = free_port()
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-not-shown")
    monkeypatch.setattr(store_listen, "RETRY_S", (0.01, 0.02))
    tries = []
    real = store_listen.connect_async

    async def counted(target):
        tries.append(target)
        return await real(target)

    monkeypatch.setattr(store_listen, "connect_async", counted)
    caplog.set_level(logging.INFO, logger="ccdsl")

    async def main():
        listener = StoreListener(f"postgresql://ccf@127.0.0.1:{port}/ccf", lambda *a: None)
        listener.start()
        try:
            await until(lambda: len(tries) >= 4, "four tries", timeout=20.0)
        finally:
            await listener.stop()
        return listener

    listener = asyncio.run(main())
    assert not listener.listening and listener.opens == 0
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1, said
    assert "cannot listen on the call store" in said[0]
    assert f"127.0.0.1:{port}" in said[0] and "s3cret" not in said[0]
