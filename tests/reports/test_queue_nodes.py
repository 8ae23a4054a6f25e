"""A queue wait is a node of the per-node report: its visits (callers who joined),
the keys pressed in it as its choices (`queue_key`), the time spent waiting and
the callers who hung up waiting, beside the steps and their menu choices."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf
from queue_callbacks.world import T0, Call, booked

from ccdsl.runtime.operations.store import CallStore
from reports import backends


@pytest.fixture(params=backends.BACKENDS)
def on(request):
    """Where the tests' store is read: the SQLite file, or its copy in PostgreSQL."""
    return lambda path: backends.on(request, path)


def _store(tmp_path: Path) -> str:
    path = tmp_path / "calls.db"
    with CallStore(path, timezone="UTC") as s:
        booked(s, "c1", waited_ms=60_000)  # pressed 1 after a minute, booked a call-back
        c = Call(s, "c2", start=T0.replace(minute=10))
        c.emit("step_entered", step="to_agent")
        c.emit("queue_joined", queue="service", priority=0, position=2)
        c.emit("queue_left", 30_000, queue="service", outcome="hangup", wait_ms=30_000)
        c.emit("hangup", by="caller")
        c.emit("call_ended", outcome="abandoned")
        c = Call(s, "c3", start=T0.replace(minute=20))
        c.emit("step_entered", step="to_agent")
        c.emit("menu_choice", key="2")
        c.emit("queue_joined", queue="service", priority=0, position=1)
        # the order the runtimes emit them in: the leaving, then the key that caused it
        c.emit("queue_left", 90_000, queue="service", outcome="key", wait_ms=90_000)
        c.emit("queue_key", queue="service", key="0", waited_ms=90_000, position=1)
        c.emit("hangup", 1000, by="flow")
        c.emit("call_ended", outcome="voicemail")
    return str(path)


def _section(store: str, name: str) -> list[list[str]]:
    out = ccf("report", "--store", store, "--section", name, "--format", "csv",
              "--from", "2026-11-30", "--to", "2026-12-01")
    assert out.exit_code == 0, out.output
    return [line.split(",") for line in out.stdout.splitlines()[1:] if line]


def test_the_queue_is_a_node_with_its_visits_waits_and_drops(tmp_path: Path, on) -> None:
    rows = {r[0]: r for r in _section(on(_store(tmp_path)), "nodes")}
    queue = rows["queue service"]
    # node, kind, visits, choices made, time spent, avg time, dropped, dropped %
    assert queue[1:4] == ["queue", "3", "2"]
    assert queue[4] == str(60_000 + 30_000 + 90_000)
    assert queue[6] == "1"
    assert rows["to_agent"][1:4] == ["step", "3", "1"]  # the step keeps its own choice


def test_the_keys_pressed_in_a_queue_are_its_choices(tmp_path: Path, on) -> None:
    rows = [r[:3] for r in _section(on(_store(tmp_path)), "choices")]
    assert ["queue service", "1", "1"] in rows
    assert ["queue service", "0", "1"] in rows
    assert ["to_agent", "2", "1"] in rows
