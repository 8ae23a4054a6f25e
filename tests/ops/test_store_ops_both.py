"""`ccf store prune` and recording retention on both back ends (a SQLite file and a real
PostgreSQL database, the store_target fixture): the same rows go, the rollups stay, a call in
progress stays, and a removed recording is noted for `ccf calls show`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ccf_cli import ccf

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.database import connect
from ccdsl.runtime.operations.recordings import call_detail
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.trace import render_detail

DAY1 = datetime(2026, 11, 28, 9, tzinfo=UTC)


def _write(target: str, folder: Path) -> None:
    """Ten calls a day over three days, each queued, answered and recorded; one call of the
    first day still in progress."""
    with CallStore(target, timezone="UTC") as store:
        for n in range(30):
            at = DAY1 + timedelta(days=n // 10, minutes=n)
            call_id = f"c{n:03d}"
            file = str(folder / f"{call_id}.wav")
            for seq, (ms, kind, data) in enumerate((
                    (0, "call_started", {"flow": "desk", "caller": "+8613900000000"}),
                    (10, "step_entered", {"step": "welcome"}),
                    (20, "menu_choice", {"key": "1", "attempt": 1}),
                    (30, "queue_joined", {"queue": "service", "priority": 0, "position": 1}),
                    (40, "agent_offered", {"agent": "li", "via": "queue"}),
                    (5000, "agent_answered", {"agent": "li", "ring_ms": 4000}),
                    (5000, "queue_left", {"queue": "service", "outcome": "answered",
                                          "wait_ms": 4970}),
                    (5010, "recording_started", {"file": file}),
                    (60000, "call_ended", {"outcome": "hangup", "ended_by": "caller"})),
                    start=1):
                store.emit(Event(call_id, seq, at + timedelta(milliseconds=ms), kind, data))
            Path(file).write_bytes(b"RIFF")
    db = connect(target)
    try:
        db.execute("INSERT INTO calls (call_id, flow, started, started_ms) VALUES "
                   "('open', 'desk', '2026-11-28T08:00:00+00:00', ?)",
                   (int((DAY1 - timedelta(hours=1)).timestamp() * 1000),))
    finally:
        db.close()


def _rows(target: str, sql: str) -> list[tuple]:
    db = connect(target)
    try:
        return [tuple(r) for r in db.execute(sql).fetchall()]
    finally:
        db.close()


def test_prune_and_retention_on_both_back_ends(store_target: str, tmp_path) -> None:
    folder = tmp_path / "recordings"
    folder.mkdir()
    _write(store_target, folder)
    rollups = _rows(store_target, "SELECT grain, bucket, calls FROM rollup_calls "
                                  "ORDER BY grain, bucket")
    legs = _rows(store_target, "SELECT * FROM rollup_legs ORDER BY 1, 2, 3, 4")
    assert rollups and legs

    recordings = ccf("store", "prune", "--recordings-before", "2026-11-29", "--store",
                     store_target, "--recordings", str(folder))
    assert recordings.exit_code == 0, recordings.output
    assert "removed 10 (0 already gone from disk)" in recordings.output
    assert sorted(p.name for p in folder.iterdir())[0] == "c010.wav"
    # what `ccf calls show` prints (the command itself reads SQLite files only so far)
    with CallStore(store_target) as store:
        detail = call_detail(store, "c003")
    assert detail.recordings[0]["removed"].startswith(datetime.now(UTC).date().isoformat())
    shown = render_detail(detail, root=str(tmp_path), zone=UTC)
    assert f"(removed on {datetime.now(UTC).date().isoformat()})" in shown

    dry = ccf("store", "prune", "--before", "2026-11-30", "--dry-run", "--store", store_target)
    real = ccf("store", "prune", "--before", "2026-11-30", "--store", store_target)
    assert real.exit_code == 0, real.output
    counts = {line.split()[0]: int(line.split()[1]) for line in real.output.splitlines()[1:]
              if line.startswith("  ") and line.split()[1].isdigit()}
    assert dry.output.splitlines()[1:] == real.output.splitlines()[1:]
    assert counts["calls"] == 20 and counts["agent_legs"] == 20
    assert counts["removed_files"] == 10 and counts["recordings"] == 20
    assert "the store names 10 recording or voicemail file(s) of these calls" in real.output
    assert _rows(store_target, "SELECT call_id FROM calls ORDER BY call_id") == \
        [(f"c{n:03d}",) for n in range(20, 30)] + [("open",)]
    # the events of the calls kept, and no other's (how many batches a call's events took
    # is the writer's timing)
    assert _rows(store_target, "SELECT DISTINCT call_id FROM event_batches ORDER BY call_id") \
        == [(f"c{n:03d}",) for n in range(20, 30)]
    # the figures the reports read are all still there
    assert _rows(store_target, "SELECT grain, bucket, calls FROM rollup_calls "
                               "ORDER BY grain, bucket") == rollups
    assert _rows(store_target, "SELECT * FROM rollup_legs ORDER BY 1, 2, 3, 4") == legs
