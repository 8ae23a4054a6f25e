"""PostgreSQL only: the server stops and starts again while a store writes (a restart, a
failover, the network cut). To the store that is a lost connection: emit never waits, the
writer retries as for a locked file (each try waiting for a connection of the pool), and
once the server is back every row is written once; reads and reservations work again on new
connections. A SQLite file has no server to lose (its locked file: test_locked_store.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import WAIT_S, on_disk, wait_for

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def a_call(store: CallStore, call_id: str, start: datetime) -> None:
    for seq, (kind, data) in enumerate((
            ("call_started", {"flow": "line", "caller": "+8613800000001"}),
            ("agent_offered", {"agent": "li", "via": "queue"}),
            ("agent_answered", {"agent": "li", "ring_ms": 1000}),
            ("conversation_ended", {"agent": "li", "talk_ms": 6000, "ended_by": "agent"}),
            ("call_ended", {"outcome": "hangup", "duration_ms": 9000})), start=1):
        store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))


def test_postgresql_a_server_restart_loses_no_row_and_writes_none_twice(pg_url,
                                                                          pg_cluster) -> None:
    store = CallStore(pg_url, wait_s=0)  # as ccf serve opens it
    try:
        a_call(store, "before", T0)
        store.flush()
        pg_cluster.halt()
        try:
            for n in range(3):  # emit never waits for the server
                a_call(store, f"during-{n}", T0 + timedelta(minutes=n + 1))
            store.record_centre_event("ami", "QueueMemberPause", {"Paused": "1"}, T0)
            wait_for(lambda: store.last_error is not None, "a failed write",
                     timeout=WAIT_S)
            assert "OperationalError" in store.last_error
            assert store.backlog > 0
        finally:
            pg_cluster.start_again()
        wait_for(lambda: store.backlog == 0 and store.last_error is None,
                 "the rows written once the server is back", timeout=2 * WAIT_S)
        # the store's own reads and a reservation, on new connections
        assert store.call("during-2")["outcome"] == "hangup"
        assert store.reserve_call_id("sim-", at=T0).startswith("sim-")
        a_call(store, "after", T0 + timedelta(hours=1))
    finally:
        store.close()
    assert on_disk(pg_url, "SELECT call_id, outcome, agent FROM calls WHERE flow = 'line' "
                           "ORDER BY call_id") == [
        ("after", "hangup", "li"), ("before", "hangup", "li"),
        *((f"during-{n}", "hangup", "li") for n in range(3))]
    assert on_disk(pg_url, "SELECT call_id, count(*) FROM events GROUP BY call_id "
                           "ORDER BY call_id") == [
        ("after", 5), ("before", 5), *((f"during-{n}", 5) for n in range(3))]
    assert on_disk(pg_url, "SELECT count(*) FROM agent_legs WHERE outcome = 'answered'") == \
        [(5,)]
    assert on_disk(pg_url, "SELECT count(*) FROM centre_events WHERE kind = "
                           "'QueueMemberPause'") == [(1,)]
    # the rollups counted each call once
    assert on_disk(pg_url, "SELECT sum(calls), sum(answered) FROM rollup_calls "
                           "WHERE grain = 'd'") == [(5, 5)]
