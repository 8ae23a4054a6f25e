"""The store's queue while the store cannot be written (a SQLite file's lock held, a
PostgreSQL table locked by another session): what a server's reads
see meanwhile (calls in memory count), what a full backlog drops and in
which order (centre events, then events no record needs), and that every
call record is written once the lock is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations import store_queue
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import Locker, on_disk, wait_for

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def a_call(store: CallStore, call_id: str, caller: str, agent: str, *, chatter: int = 0,
           start: datetime = T0) -> None:
    """A call an agent answers, with `chatter` log events besides."""
    seq = iter(range(1, 1000))
    at = start
    for kind, data in (("call_started", {"flow": "line", "caller": caller}),
                       ("queue_joined", {"queue": "service", "priority": 0, "position": 1}),
                       ("agent_offered", {"agent": agent, "via": "queue"}),
                       ("agent_answered", {"agent": agent, "ring_ms": 1000}),
                       ("queue_left", {"outcome": "answered", "wait_ms": 5000}),
                       *(("log", {"message": f"note {n}"}) for n in range(chatter)),
                       ("conversation_ended", {"agent": agent, "talk_ms": 60000,
                                               "ended_by": "agent"}),
                       ("hangup", {"by": "caller"}),
                       ("call_ended", {"outcome": "hangup", "duration_ms": 70000})):
        store.emit(Event(call_id, next(seq), at, kind, data))
        at += timedelta(seconds=1)


@pytest.fixture
def locked(store_target: str):
    CallStore(store_target).close()
    with Locker(store_target) as admin:
        yield store_target, admin


def test_a_servers_reads_see_calls_the_locked_file_has_not_got(locked) -> None:
    path, admin = locked
    store = CallStore(path, wait_s=0)
    try:
        a_call(store, "c1", "+8613800000001", "li")
        # nothing waits: the file is locked, and the reads answer from memory
        assert store.last_agent("+8613800000001") == "li"
        assert store.call("c1")["outcome"] == "hangup"
        assert [e["kind"] for e in store.events("c1")][-1] == "call_ended"
        store.set_wrapup("c1", {"reason": "order"}, 30_000)
        with pytest.raises(KeyError):
            store.set_wrapup("nobody", {"reason": "order"})
        wait_for(lambda: store.last_error is not None, "a failed write")
        assert on_disk(path, "SELECT count(*) FROM calls") == [(0,)]
        admin.release()
        wait_for(lambda: on_disk(path, "SELECT entered FROM wrapups") != [], "the wrap-up")
        wait_for(lambda: store.backlog == 0, "the backlog written")
    finally:
        store.close()
    [(wrapup, agent)] = on_disk(path, "SELECT json_extract(entered, '$.reason'), agent "
                                      "FROM wrapups")  # the agent of the call: none was asked
    assert (wrapup, agent) == ("order", "li")
    assert on_disk(path, "SELECT wrapup_ms FROM agent_legs") == [(30_000,)]


def test_a_full_backlog_drops_centre_events_then_chatter_never_records(locked,
                                                                      monkeypatch) -> None:
    path, admin = locked
    monkeypatch.setattr(store_queue, "BACKLOG_ROWS", 40)
    import ccdsl.runtime.operations.store as store_module

    monkeypatch.setattr(store_module, "BACKLOG_ROWS", 40)
    store = CallStore(path, wait_s=0)
    try:
        for n in range(30):
            store.record_centre_event("ami", "DeviceStateChange", {"n": n}, T0)
        for n in range(6):  # 8 events a call that records need, 5 of chatter each
            a_call(store, f"c{n}", f"+86138000000{n}", "li", chatter=5,
                   start=T0 + timedelta(minutes=n))
        dropped = store.dropped
        assert dropped["centre_events"] == 10  # past half the backlog: 20 kept
        assert dropped["events"] > 0
        admin.release()
        wait_for(lambda: on_disk(path, "SELECT count(*) FROM calls")[0][0] == 6,
                 "every call record")
    finally:
        store.close()
    # every record, and every event a record folds, is there
    assert on_disk(path, "SELECT count(*) FROM calls WHERE outcome = 'hangup' "
                         "AND agent = 'li' AND talk_ms = 60000") == [(6,)]
    assert on_disk(path, "SELECT count(*) FROM events WHERE kind <> 'log'") == [(6 * 8,)]
    assert on_disk(path, "SELECT count(*) FROM events WHERE kind = 'log'") == \
        [(6 * 5 - dropped["events"],)]
    assert on_disk(path, "SELECT count(*) FROM agent_legs WHERE outcome = 'answered'") == [(6,)]
    # the drop is on record too
    [(data,)] = on_disk(path, "SELECT data FROM centre_events WHERE kind = 'store_rows_dropped'")
    assert '"centre_events":10' in data
