"""The store's queue keeps each call's events as the event_batches row they become, and the
writer asks the file for taken call ids in one statement: both pinned to the plain versions
they replaced (one tuple per event grouped at take; one SELECT per id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from store_faults.rig import on_disk

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_ids import taken, taken_of
from ccdsl.runtime.operations.store_queue import WRITE_DELAY_S, Pending, queued_events

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _plain_batched(events: list[tuple]) -> list[tuple]:
    """What the queue did before: one (call_id, seq, element) per event, grouped at take."""
    calls: dict[str, list[tuple]] = {}
    for event in events:
        calls.setdefault(event[0], []).append(event)
    return [(call_id, rows[0][1], f"[{','.join([r[2] for r in rows])}]")
            for call_id, rows in calls.items()]


_EVENTS = st.lists(st.tuples(st.sampled_from(["a", "b", "c~2", "d"]),
                             st.integers(1, 40), st.sampled_from(["[1]", "[2,{}]", '["é"]'])),
                   max_size=60)


@settings(max_examples=200, deadline=None)
@given(_EVENTS)
def test_the_rows_a_take_makes_are_the_plain_grouping(events: list[tuple]) -> None:
    pending = Pending(":memory:", 500, 25_000)
    for call_id, seq, element in events:
        queued = pending.events.get(call_id)
        if queued is None:
            pending.events[call_id] = [seq, element]
        else:
            queued.append(element)
        pending.event_rows += 1
        pending.arrived()
    for call_id in ("a", "b", "c~2", "d", "e"):
        assert queued_events(pending.events, call_id) == [e[2] for e in events if e[0] == call_id]
    batch = pending.take()
    if not events:
        assert batch is None  # nothing queued: nothing to take
        return
    assert batch is not None
    assert batch.events == _plain_batched(events)
    assert batch.event_count == len(events) and batch.rows == len(events)
    assert pending.events == {} and pending.event_rows == 0 and pending.backlog() == len(events)


def test_a_store_queues_each_call_s_events_in_order_under_its_stored_id(store_target) -> None:
    store = CallStore(store_target, calls_per_commit=500)
    try:
        for n, call_id in enumerate(["x", "y", "x", "x", "y"], start=1):
            store.emit(Event(call_id, n, T0 + timedelta(seconds=n), "log", {"message": str(n)}))
        queued = store._q.events
        assert list(queued) == ["x", "y"]
        assert [queued["x"][0], queued["y"][0]] == [1, 2]
        assert store._q.event_rows == 5 and store.backlog == 5
        assert [e["data"]["message"] for e in store.events("x")] == ["1", "3", "4"]
    finally:
        store.close()
    rows = on_disk(store_target, "SELECT call_id, seq, events FROM event_batches "
                                 "ORDER BY call_id")
    assert [(c, s, len(json.loads(e))) for c, s, e in rows] == [("x", 1, 3), ("y", 2, 2)]


def test_taken_of_is_taken_of_each_id(store_target) -> None:
    CallStore(store_target).close()
    db = connect(store_target)
    in_calls = [f"call-{n}" for n in range(0, 1200, 3)]
    in_events = [f"call-{n}" for n in range(1, 1200, 7)]  # events left without their call
    db.executemany("INSERT INTO calls (call_id) VALUES (?)", [(c,) for c in in_calls])
    db.executemany("INSERT INTO event_batches (call_id, seq, events) VALUES (?, 1, '[]')",
                   [(c,) for c in in_events])
    asked = [f"call-{n}" for n in range(1200)] + ["", "call-1~2", "it's", "名字"]
    db.execute("INSERT INTO calls (call_id) VALUES ('it''s')")
    found = taken_of(db, asked)
    assert found == {c for c in asked if taken(db, c)}
    assert "call-0" in found and "call-1" in found and "call-2" not in found
    assert taken_of(db, []) == set()
    assert taken_of(db, ["call-0"]) == {"call-0"} and taken_of(db, ["call-2"]) == set()
    db.close()


def test_rows_wait_from_the_first_arrival_until_taken() -> None:
    pending = Pending(":memory:", 1, 25_000)  # a live store's: due WRITE_DELAY_S after the first
    assert not pending.waiting and pending.due_in() is None and pending.take() is None
    pending.centre.append(("t", 0, "serve", "k", None, "{}"))
    assert pending.arrived() is True  # the first row: the writer must hear of it
    assert pending.waiting and 0 < pending.due_in() <= WRITE_DELAY_S
    pending.centre.append(("t", 1, "serve", "k", None, "{}"))
    assert pending.arrived() is False  # its clock runs already
    assert pending.take() is not None
    assert not pending.waiting and pending.due_in() is None
