"""Which rollups a write asks to add its ended calls (rollup.calls_ended's `written`): each
rollup names the visit tables it reads (Rollup.visits: its rows and the table its keys join),
and is asked only when the write wrote rows to every one of them; the calls' own rollup always."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ccdsl.runtime.operations import rollup
from ccdsl.runtime.operations.store import CallStore


@pytest.mark.parametrize(("written", "asked"), [
    (frozenset(), {"rollup_calls"}),
    (frozenset({"node_visits"}), {"rollup_calls", "rollup_nodes"}),
    (frozenset({"queue_visits"}), {"rollup_calls", "rollup_queues"}),
    (frozenset({"node_visits", "queue_visits"}),
     {"rollup_calls", "rollup_queues", "rollup_nodes", "rollup_nodes_queues"}),
    (frozenset({"agent_legs", "recordings"}), {"rollup_calls", "rollup_legs"}),
    (None, {r.table for r in rollup.ROLLUPS}),
])
def test_a_rollup_is_asked_when_every_visit_table_it_reads_was_written(
        tmp_path: Path, written, asked) -> None:
    CallStore(str(tmp_path / "calls.db")).close()
    db = sqlite3.connect(tmp_path / "calls.db")
    ran: list[str] = []
    db.set_trace_callback(ran.append)
    try:
        rollup.calls_ended(db, ["c1"], written)
    finally:
        db.close()
    assert {r.table for r in rollup.ROLLUPS
            if any(f"INSERT INTO {r.table} (" in sql for sql in ran)} == asked


def test_the_node_visits_per_queue_read_the_queue_visits_too() -> None:
    assert rollup.NODES_BY_QUEUE.visits == ("node_visits", "queue_visits")
    assert rollup.CALLS.visits == ()
