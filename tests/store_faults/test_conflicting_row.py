"""A row whose key the store already has, which unique ids should never meet (a report
table's row left by someone else): the writer rolls the write back, keeps the row that is
there and writes the rest, the rollups rebuilt for the time it touches. On PostgreSQL the
failed statement aborts the transaction: the writer must roll back before writing again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import on_disk

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def test_a_row_already_there_is_kept_and_the_rest_written(store_target: str) -> None:
    CallStore(store_target).close()
    db = connect(store_target)  # a step visit of call k1 someone else wrote
    db.execute("INSERT INTO node_visits (call_id, seq, node, node_kind, entered, entered_ms) "
               "VALUES ('k1', 2, 'left behind', 'step', '2026-12-07T03:00:00+00:00', 0)")
    db.close()
    with CallStore(store_target) as store:
        for seq, (kind, data) in enumerate((
                ("call_started", {"flow": "line", "caller": "+8613800000001"}),
                ("step_entered", {"step": "menu"}),
                ("step_entered", {"step": "goodbye"}),
                ("call_ended", {"outcome": "hangup", "duration_ms": 3000})), start=1):
            store.emit(Event("k1", seq, T0 + timedelta(seconds=seq), kind, data))
        answered = Event("k2", 1, T0, "call_started", {"flow": "line"})
        store.emit(answered)
        store.emit(Event("k2", 2, T0, "call_ended", {"outcome": "hangup", "duration_ms": 0}))
    assert on_disk(store_target, "SELECT call_id, outcome FROM calls ORDER BY call_id") == \
        [("k1", "hangup"), ("k2", "hangup")]
    assert on_disk(store_target, "SELECT seq, node FROM node_visits WHERE call_id = 'k1' "
                                 "ORDER BY seq") == [(2, "left behind"), (3, "goodbye")]
    assert on_disk(store_target, "SELECT count(*) FROM events") == [(6,)]
    assert on_disk(store_target, "SELECT sum(calls) FROM rollup_calls WHERE grain = 'd'") == \
        [(2,)]
