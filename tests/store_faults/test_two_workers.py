"""Two workers writing one store at once (issue 16: several `ccf serve` share a PostgreSQL
store; on SQLite two processes on one file): calls of the same Asterisk Uniqueid claimed by
both at the same moment are kept as `U` and `U~2`, never one over the other; every call is
counted once in the rollups, and wrap-ups entered through either move them exactly."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import on_disk

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
CALLS = 30  # each worker's


def answered(store: CallStore, call_id: str, start: datetime) -> None:
    for seq, (kind, data) in enumerate((
            ("call_started", {"flow": "line", "caller": "+8613800000001"}),
            ("queue_joined", {"queue": "service", "priority": 0, "position": 1}),
            ("agent_offered", {"agent": "li", "via": "queue"}),
            ("agent_answered", {"agent": "li", "ring_ms": 1000}),
            ("queue_left", {"outcome": "answered", "wait_ms": 4000, "queue": "service"}),
            ("conversation_ended", {"agent": "li", "talk_ms": 6000, "ended_by": "agent"}),
            ("call_ended", {"outcome": "hangup", "duration_ms": 9000})), start=1):
        store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))


def test_two_workers_share_one_store(store_target: str) -> None:
    CallStore(store_target).close()
    go = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with CallStore(store_target, wait_s=0.25) as store:  # as ccf serve opens it
                go.wait()
                for n in range(CALLS):
                    # the same Uniqueids on both: a channel that ran AGI on each
                    call_id = store.claim_call_id(f"1796400000.{n}")
                    answered(store, call_id, T0 + timedelta(minutes=n))
                store.flush()
                for n in range(0, CALLS, 3):
                    store.set_wrapup(store.latest_call_id(f"1796400000.{n}"),
                                     {"by": name}, wrapup_ms=10_000)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = sorted(r[0] for r in on_disk(store_target, "SELECT call_id FROM calls"))
    assert ids == sorted([f"1796400000.{n}" for n in range(CALLS)]
                         + [f"1796400000.{n}~2" for n in range(CALLS)])
    # the second of each names the first; every call has all its events and its rows
    assert on_disk(store_target, "SELECT count(*) FROM calls WHERE call_id LIKE '%~2' "
                                 "AND previous_call || '~2' = call_id") == [(CALLS,)]
    assert on_disk(store_target, "SELECT count(*) FROM events") == [(2 * CALLS * 7,)]
    assert on_disk(store_target, "SELECT count(*) FROM agent_legs WHERE outcome = 'answered'"
                   ) == [(2 * CALLS,)]
    # the rollups: each call once, each wrap-up's time once (10 s on 10 calls a worker)
    assert on_disk(store_target, "SELECT sum(calls), sum(answered), sum(aht_sum) "
                                 "FROM rollup_calls WHERE grain = 'q'") == \
        [(2 * CALLS, 2 * CALLS, 2 * CALLS * 6000 + 2 * (CALLS // 3) * 10_000)]
    assert on_disk(store_target, "SELECT sum(offered), sum(answered), sum(wrapup) "
                                 "FROM rollup_legs WHERE grain = 'q'") == \
        [(2 * CALLS, 2 * CALLS, 2 * (CALLS // 3) * 10_000)]
