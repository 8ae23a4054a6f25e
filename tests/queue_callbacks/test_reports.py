"""Reports count in-queue choices (the keys callers pressed while waiting, per queue
and key, like menu choices) and in-queue call-backs per queue (requested, completed,
failed, given up, time to call back): `ccf report` text and HTML, the IVR path."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from ccf_cli import ccf

from ccdsl.runtime.operations.ivr_path import ivr_path, path_text
from ccdsl.runtime.operations.store import CallStore
from queue_callbacks.world import T0, Call, booked, ms

MIN = 60_000


@pytest.fixture
def store(tmp_path: Path) -> str:
    return make_store(tmp_path)


def make_store(tmp_path: Path) -> str:
    """Three call-backs of `service` (one reached 12 minutes after it was asked
    for, one failed, one given up), one of `sales` still open; a caller who
    pressed 0 for voicemail in `service`; a call with no in-queue choice."""
    path = tmp_path / "calls.db"
    with CallStore(path, timezone="UTC") as s:
        for i, (call, queue) in enumerate([("c1", "service"), ("c2", "service"),
                                           ("c3", "service"), ("c4", "sales")]):
            booked(s, call, queue=queue, start=T0.replace(minute=i * 5))
        c = Call(s, "c5", start=T0.replace(minute=30))
        c.emit("queue_joined", queue="service", priority=0, position=3)
        c.emit("queue_key", 90_000, queue="service", key="0", waited_ms=90_000, position=2)
        c.emit("call_ended", outcome="voicemail")
        plain = Call(s, "c6", start=T0.replace(minute=40))
        plain.emit("call_ended", outcome="hangup")
    db = sqlite3.connect(path)
    requested = ms(T0) + MIN  # c1 asked a minute after it started (booked waits 60 s)
    db.execute("UPDATE queue_callbacks SET status = 'done', outcome = 'answered', "
               "attempts = 2, ended_ms = ? WHERE call_id = 'c1'", (requested + 12 * MIN,))
    db.execute("UPDATE queue_callbacks SET status = 'failed', outcome = 'no_answer', "
               "attempts = 3, ended_ms = requested_ms + 30 * 60000 WHERE call_id = 'c2'")
    db.execute("UPDATE queue_callbacks SET status = 'given_up', outcome = 'not_reached' "
               "WHERE call_id = 'c3'")
    db.commit()
    db.close()
    return str(path)


GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("section", ["queue_choices", "callbacks"])
def test_the_text_report_counts_in_queue_choices_and_call_backs(store: str, section: str):
    result = ccf("report", "--store", store, "--section", section, "--from", "2026-11-30",
                 "--to", "2026-12-01", env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    # the store's path and the moment it was made change from run to run
    out = "".join(line + "\n" for line in result.stdout.splitlines()
                  if not line.startswith(("store: ", "made: ")))
    golden = GOLDEN / f"report-{section}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_a_report_of_every_section_shows_them_only_when_the_store_has_them(store: str,
                                                                            tmp_path: Path):
    assert "In-queue call-backs" in ccf("report", "--store", store).stdout
    empty = tmp_path / "empty.db"
    with CallStore(empty) as s:
        Call(s, "x1").emit("call_ended", outcome="hangup")
    out = ccf("report", "--store", str(empty)).stdout
    assert "In-queue" not in out and "Menu choices" in out


def test_the_html_report_has_their_tables_and_charts(store: str) -> None:
    result = ccf("report", "--store", store, "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert '<table id="table-queue_choices" ' in page and '<table id="table-callbacks" ' in page
    assert "service: 0" in page  # a bar per queue and key


def test_the_ivr_path_shows_a_key_pressed_in_the_queue() -> None:
    events = [{"kind": "step_entered", "data": {"step": "to_agent"}},
              {"kind": "queue_key", "data": {"queue": "service", "key": "1", "waited_ms": 5}}]
    path = ivr_path(events)
    assert path == [{"step": "to_agent"}, {"queue": "service", "key": "1", "step": "to_agent"}]
    assert path_text(path) == "queue service 1"


def test_ccf_calls_callbacks_lists_the_open_ones_and_with_all_every_one(store: str) -> None:
    result = ccf("calls", "callbacks", "--store", store)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["call", "queue", "number", "in", "line", "since", "status",
                                "attempts", "next", "attempt", "outcome", "agent"]
    assert [line.split()[:2] + line.split()[3:5] for line in lines[1:]] == \
        [["c4", "sales", "2026-11-30T10:15:00+00:00", "pending"]]
    every = ccf("calls", "callbacks", "--all", "--store", store, "--format", "json")
    found = {r["call_id"]: r["status"] for r in json.loads(every.stdout)}
    assert found == {"c1": "done", "c2": "failed", "c3": "given_up", "c4": "pending"}


def test_a_queue_filter_keeps_that_queues_keys_not_every_key_of_its_calls(tmp_path: Path):
    from ccdsl.runtime.operations.reports import in_queue
    from ccdsl.runtime.operations.reports.model import Filters
    from ccdsl.runtime.operations.reports.query import open_store
    from ccdsl.runtime.operations.reports.sql import Window

    path = tmp_path / "calls.db"
    with CallStore(path, timezone="UTC") as s:
        c = Call(s, "k1")
        c.emit("queue_joined", queue="sales", priority=0, position=1)
        c.emit("queue_left", 20_000, queue="sales", outcome="key", wait_ms=20_000)
        c.emit("queue_key", queue="sales", key="1", waited_ms=20_000, position=1)
        c.emit("queue_joined", queue="service", priority=0, position=1)
        c.emit("queue_left", 30_000, queue="service", outcome="key", wait_ms=30_000)
        c.emit("queue_key", queue="service", key="0", waited_ms=30_000, position=1)
        c.emit("call_ended", outcome="voicemail")
    db = open_store(str(path))
    try:
        def keys(queue: str | None) -> list[tuple]:
            rows = in_queue.queue_choices(db, Window(), Filters(queue=queue)).rows
            return [row[:3] for row in rows]
        assert keys(None) == [("sales", "1", 1), ("service", "0", 1)]
        assert keys("sales") == [("sales", "1", 1)]
        assert keys("service") == [("service", "0", 1)]
        assert keys("billing") == []
    finally:
        db.close()
