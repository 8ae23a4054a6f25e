"""A flush while another writer holds the store's lock (the other worker of a shared
PostgreSQL store, an admin's transaction): the lock is a wait, not a failure. The rows are
written once it is gone, and the flush that waited for them says so: a wrap-up or a call-back
that was stored is never reported as failed because its first try met the lock."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.store import CallStore
from store_faults.rig import WAIT_S, Locker, on_disk, wait_for

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _one_call(store: CallStore, call_id: str) -> None:
    for seq, (kind, data) in enumerate((
            ("call_started", {"flow": "line", "caller": "+8613800000001"}),
            ("call_ended", {"outcome": "hangup", "duration_ms": 1000})), start=1):
        store.emit(Event(call_id, seq, T0 + timedelta(seconds=seq), kind, data))


def test_a_flush_that_meets_a_lock_waits_for_it(store_target: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    CallStore(store_target).close()
    caplog.set_level(logging.WARNING, logger="ccdsl.store")
    with CallStore(store_target, wait_s=0.25) as store:  # as ccf serve opens it
        outcome = _flush_meeting_a_lock(store, store_target, caplog, "c-locked")
        assert outcome == [True]
    assert on_disk(store_target, "SELECT call_id FROM calls") == [("c-locked",)]


def _flushed(store: CallStore) -> object:
    try:
        return store.flush()
    except Exception as exc:  # noqa: BLE001 - what the test reports
        return exc


def _flush_meeting_a_lock(store: CallStore, target: str, caplog, call_id: str) -> list[object]:
    """`call_id`'s call flushed in a thread while another connection holds the store's lock;
    back once the lock is released and the flush has ended, with what it gave (or raised).
    Until the release the flush has said it waits, and given nothing (no failure)."""
    admin = Locker(target)
    try:
        _one_call(store, call_id)
        outcome: list[object] = []
        flushing = threading.Thread(target=lambda: outcome.append(_flushed(store)))
        flushing.start()
        wait_for(lambda: "not written yet" in caplog.text, "the write to meet the lock")
        assert outcome == []  # still waiting: the lock is not raised as a failure
    finally:
        admin.release()
    flushing.join(WAIT_S)
    assert not flushing.is_alive()
    return outcome


def test_a_bulk_simulations_flush_waits_out_a_lock_in_its_own_thread(
        store_target: str, caplog: pytest.LogCaptureFixture) -> None:
    # calls_per_commit > 1: no writer thread, the flush writes in the caller's thread
    CallStore(store_target).close()
    caplog.set_level(logging.WARNING, logger="ccdsl.store")
    with CallStore(store_target, calls_per_commit=50) as store:
        outcome = _flush_meeting_a_lock(store, store_target, caplog, "c-bulk")
        assert outcome == [True]
    assert on_disk(store_target, "SELECT call_id FROM calls") == [("c-bulk",)]


def test_a_bulk_simulations_flush_with_a_timeout_says_it_is_not_written(
        store_target: str) -> None:
    CallStore(store_target).close()
    with CallStore(store_target, calls_per_commit=50) as store:
        with Locker(store_target):
            _one_call(store, "c-bulk")
            assert store.flush(timeout=0.5) is False  # the rows stay queued
        assert store.flush() is True
    assert on_disk(store_target, "SELECT call_id FROM calls") == [("c-bulk",)]
