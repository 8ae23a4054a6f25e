"""Every SQL block of docs/store.md and docs/reports.md (```sql and ```sqlite) runs on a SQLite
store and on PostgreSQL and gives the same rows: the calls written into a SQLite file, copied
into a real PostgreSQL database (store_copy), each block run on both."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from queue_callbacks.world import T0, Call

from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_copy import copy_store

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("store.md", "reports.md")
ARGS = {"from": 0, "to": 10**13, "n": 30, "offset": 28_800_000, "customer": "C042",
        "call": "c1", "agent": "zhang"}


def blocks() -> list[tuple[str, str]]:
    """(where, text) of every sql and sqlite block of the pages."""
    found = []
    for page in PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        for match in re.finditer(r"```(?:sql|sqlite)\n(.*?)```", text, re.S):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page}:{line}", match.group(1)))
    return found


def _fill(path: str) -> None:
    """c1: a known caller chooses 0, waits, li answers after wang missed, recorded; c2: a
    caller who gave up in the queue; c3: a message for zhang, called back."""
    with CallStore(path, timezone="Asia/Shanghai") as store:
        c = Call(store, "c1")
        c.emit("answered")
        c.emit("crm_query", 40, operation="customer", args={"phone": "+8613800000001"},
               result={"kind": "customer", "id": "C042"}, ms=40)
        c.emit("step_entered", step="main_menu")
        c.emit("menu_choice", 3000, key="0", attempt=1)
        c.emit("step_entered", step="to_agent")
        c.emit("queue_joined", queue="service", priority=0, position=1)
        c.emit("agent_offered", 8000, agent="wang", via="queue")
        c.emit("agent_offered", 15000, agent="li", via="queue")
        c.emit("agent_answered", 2000, agent="li", ring_ms=2000)
        c.emit("queue_left", outcome="answered", wait_ms=25000, queue="service")
        c.emit("recording_started", file="recordings/c1.wav")
        c.emit("conversation_ended", 90000, agent="li", talk_ms=90000, ended_by="agent")
        c.emit("hangup", by="flow", step="to_agent")
        c.emit("call_ended", outcome="hangup")
        g = Call(store, "c2", "+8613900000000", T0 + timedelta(hours=2))
        g.emit("step_entered", step="main_menu")
        g.emit("queue_joined", 1000, queue="service", priority=0, position=1)
        g.emit("hangup", 40000, by="caller", step="main_menu")
        g.emit("queue_left", outcome="hangup", wait_ms=40000, queue="service")
        g.emit("call_ended", outcome="hangup")
        v = Call(store, "c3", start=T0 + timedelta(hours=3))
        v.emit("crm_query", 40, operation="customer", args={"phone": "+8613800000001"},
               result={"kind": "customer", "id": "C042"}, ms=40)
        v.emit("voicemail", 30_000, mailbox="zhang", file="/vm/c3.wav", stored=True,
               duration_ms=12_000)
        v.emit("hangup", by="caller")
        v.emit("call_ended", outcome="voicemail")
        store.record_centre_event("serve", "callback", {"status": "done", "agent": "zhang"},
                                  T0 + timedelta(hours=4), call_id="c3")


def _plain(rows: list) -> list[dict]:
    """Rows as both back ends' values compare: PostgreSQL's numeric averages as floats."""
    return [{k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}
            for row in rows]


@pytest.fixture(scope="module")
def pages_blocks() -> list[tuple[str, str]]:
    found = blocks()
    assert len(found) >= 9  # the report queries, the recordings' and the messages'
    return found


def test_every_documented_query_runs_alike_on_both(pages_blocks, pg_url, tmp_path) -> None:
    sqlite = str(tmp_path / "calls.db")
    _fill(sqlite)
    copy_store(sqlite, pg_url)
    results = {}
    for name, target in (("sqlite", sqlite), ("postgresql", pg_url)):
        with CallStore(target) as store:
            results[name] = [_plain(store.query(sql, ARGS)) for _, sql in pages_blocks]
    for (where, _), lite, pg in zip(pages_blocks, results["sqlite"], results["postgresql"],
                                    strict=True):
        assert lite, f"{where}: no rows on the test store"
        assert lite == pg, where
