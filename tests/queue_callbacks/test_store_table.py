"""The call store keeps in-queue call-back requests: one `queue_callbacks` row per
`callback_requested` event, pending with the caller's place in line, written with the
call; a store of schema 6 gets the table (and its requests) when opened; a call a
killed run left open gets its request when reconciled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from store_files import set_back

from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION
from queue_callbacks.world import T0, booked, ms, rows


def test_a_booked_call_back_is_a_pending_row_keeping_the_place_in_line(tmp_path: Path):
    with CallStore(tmp_path / "calls.db") as store:
        booked(store, "c1", priority=5, waited_ms=60_000)
        (row,) = rows(store)
    assert (row["call_id"], row["queue"], row["number"], row["priority"]) == \
        ("c1", "service", "+8613800000001", 5)
    assert row["status"] == "pending" and row["attempts"] == 0
    assert row["joined_ms"] == ms(T0)  # the place in line: when the caller joined
    assert row["requested_ms"] == ms(T0) + 60_000
    assert (row["waited_ms"], row["customer"], row["reason"]) == (60_000, "C042",
                                                                  "in-queue offer")
    assert row["outcome"] is None and row["callback_id"] is None


def test_a_request_without_a_number_is_the_callers(tmp_path: Path):
    from queue_callbacks.world import Call

    with CallStore(tmp_path / "calls.db") as store:
        c = Call(store, "c2", "+8613911112222")
        c.emit("callback_requested", queue="sales", number=None, priority=None,
               joined_at="not a time", waited_ms=5000, customer=None, reason=None)
        c.emit("call_ended", outcome="hangup")
        (row,) = rows(store)
    assert (row["number"], row["priority"], row["queue"]) == ("+8613911112222", 0, "sales")
    assert row["joined_ms"] == ms(T0) - 5000  # no time given: the wait back from the request


def test_a_store_of_schema_6_gets_the_table_and_its_requests(tmp_path: Path):
    path = tmp_path / "calls.db"
    with CallStore(path) as store:
        booked(store, "c1")
    set_back(path, 6, "DROP TABLE queue_callbacks")
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 7
        (row,) = rows(store)
    assert (row["call_id"], row["status"], row["queue"]) == ("c1", "pending", "service")
    assert row["joined_ms"] == ms(T0)


def test_a_call_left_open_by_a_dead_run_gets_its_request_when_reconciled(tmp_path: Path):
    path = tmp_path / "calls.db"
    store = CallStore(path)
    booked(store, "c1", end=False)
    store.flush()
    assert rows(store) == []  # written with the call's visits: once it ends
    # the run dies: its row in `runs` names a process that is gone
    with store._cv:
        store._writer.abandon()
    db = sqlite3.connect(path)
    db.execute("UPDATE runs SET pid = 999999999")
    db.commit()
    db.close()
    with CallStore(path) as second:
        second.reconcile()
        (row,) = rows(second)
    assert (row["call_id"], row["status"]) == ("c1", "pending")
