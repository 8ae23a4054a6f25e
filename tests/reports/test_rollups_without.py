"""A live store's writer asks only the rollups whose rows its ended calls have (a call with no
queue visit, no offer: rollup.calls_ended's `without`), and the rollups it keeps are still the
ones made again from the rows, a commit a call, calls with queue visits and offers and calls
without mixed; the event rows orjson writes are json's text for the numbers it writes apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_record import encode_json, event_element

START = datetime(2026, 11, 30, 9, 58, tzinfo=UTC)  # the calls cross a quarter hour


def _queued_call(call_id: str, at: datetime, answered: bool) -> list[Event]:
    steps = [("call_started", {"flow": "f", "caller": "+1555", "dialled": "100"}),
             ("step_entered", {"step": "main"}),
             ("queue_joined", {"queue": "sales", "priority": 1, "position": 1}),
             ("agent_offered", {"agent": "ann", "via": "queue"})]
    if answered:
        steps += [("agent_answered", {"agent": "ann", "ring_ms": 3000}),
                  ("queue_left", {"queue": "sales", "outcome": "answered", "wait_ms": 9000}),
                  ("conversation_ended", {"agent": "ann", "talk_ms": 60000,
                                          "ended_by": "caller"})]
    else:
        steps += [("queue_left", {"queue": "sales", "outcome": "hangup", "wait_ms": 40000})]
    steps += [("hangup", {"by": "caller"}),
              ("call_ended", {"outcome": "answered" if answered else "abandoned"})]
    return [Event(call_id, n, at + timedelta(seconds=20 * n), kind, data)
            for n, (kind, data) in enumerate(steps, 1)]


def _ivr_call(call_id: str, at: datetime) -> list[Event]:
    steps = [("call_started", {"flow": "f", "caller": "+1666", "dialled": "100"}),
             ("step_entered", {"step": "main"}),
             ("menu_choice", {"key": "1"}),
             ("step_entered", {"step": "hours"}),
             ("hangup", {"by": "caller"}),
             ("call_ended", {"outcome": "hangup"})]
    return [Event(call_id, n, at + timedelta(seconds=30 * n), kind, data)
            for n, (kind, data) in enumerate(steps, 1)]


def _rollups(db) -> dict[str, list[tuple]]:
    return {r.table: sorted(tuple(row) for row in db.execute(f"SELECT * FROM {r.table}"))
            for r in rollup.ROLLUPS}


@pytest.mark.parametrize("calls_per_commit", [1, 500])
def test_rollups_asked_only_where_calls_have_rows_are_the_rows_figures(tmp_path,
                                                                       calls_per_commit):
    path = tmp_path / "s.db"
    store = CallStore(path, calls_per_commit=calls_per_commit)
    calls = []
    for n in range(12):
        at = START + timedelta(minutes=n)
        calls.append(_ivr_call(f"c{n}", at) if n % 3 == 0 else
                     _queued_call(f"c{n}", at, answered=n % 3 == 1))
    for events in calls:
        for event in events:
            store.emit(event)
        if calls_per_commit == 1:
            store.flush()  # a commit a call, as ccf serve's calls coming one at a time
    store.close()
    db = connect(str(path))
    try:
        kept = _rollups(db)
        assert kept["rollup_queues"] and kept["rollup_legs"] and kept["rollup_nodes_queues"]
        db.execute("BEGIN IMMEDIATE")
        for sql in rollup.BACKFILL:
            db.execute(sql)
        assert _rollups(db) == kept
        db.execute("ROLLBACK")
    finally:
        db.close()


@pytest.mark.parametrize("number", [1e-9, 3e-7, 1e-5, 1.5e-5, 0.0001, 1e-10, 1e16, 1e22,
                                    2**64, -(2**70), 0.1, -0.0])
def test_event_rows_write_numbers_as_json_does(number):
    data = {"n": number, "in": [number, {"deep": number}]}
    element = event_element(1, "2026-11-30T09:58:00+00:00", 5, "log", None,
                            {"file": "f.ccf", "line": 2, "column": number}, data)
    assert element == encode_json([1, "2026-11-30T09:58:00+00:00", 5, "log", None, "f.ccf", 2,
                                   number, data])
    assert json.loads(element)[8] == data
