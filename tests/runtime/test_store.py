"""The call store on a real SQLite file and a real PostgreSQL database (store_target): events
and call records, a record after a hang-up and after an error, last_agent, the schema made
once, reopening, and the report tables. The migrations from a file's older versions and the
file's own settings are SQLite's alone (test_sqlite_*): a PostgreSQL store starts at
schema 10."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from store_faults.rig import on_disk, wait_for
from store_files import set_back

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.core.values import to_json
from ccdsl.runtime.operations.database import connect, is_postgres
from ccdsl.runtime.operations.store import CallStore, StoreError
from ccdsl.runtime.operations.store_record import dumps
from ccdsl.runtime.operations.store_schema import SCHEMA_VERSION

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
LOC = {"file": "hotline.ccf", "line": 12, "column": 3}


class Call:
    """Emits one call's events with increasing seq and time."""

    def __init__(self, store: CallStore, call_id: str, caller: str = "+8613800000001",
                 start: datetime = T0) -> None:
        self.store, self.call_id, self.seq, self.now = store, call_id, 0, start
        self.emit("call_started", caller=caller, dialled="4008001234", flow="hotline",
                  flow_version="1.0.0")

    def emit(self, kind: str, /, after_ms: int = 0, loc: dict | None = None, **data) -> None:
        self.now += timedelta(milliseconds=after_ms)
        self.seq += 1
        self.store.emit(Event(self.call_id, self.seq, self.now, kind, data, loc))


def answered_by_agent(store: CallStore, call_id: str = "c1", agent: str = "li",
                      caller: str = "+8613800000001", start: datetime = T0) -> Call:
    c = Call(store, call_id, caller, start)
    c.emit("answered")
    c.emit("crm_query", 40, operation="customer", args={"phone": caller},
           result={"kind": "customer", "id": "C042", "name": "Wang Fang"}, ms=40)
    c.emit("step_entered", loc=LOC, step="main_menu")
    c.emit("prompt_played", loc=LOC, sounds=[{"kind": "tts", "text": "Press 0", "language":
                                               "en-US"}], prompt="menu", interrupted_by=None)
    c.emit("keys", 3000, keys="0", timed_out=False, purpose="menu")
    c.emit("menu_choice", menu=LOC, key="0", attempt=1)
    c.emit("step_entered", step="to_agent")
    c.emit("routing_decision", routing="to_service", rule=0, outcome="skip",
           reason="owner zhang is busy")
    c.emit("queue_joined", queue="service", priority=10, position=1)
    c.emit("agent_offered", 8000, agent="wang", via="queue")
    c.emit("agent_offered", 15000, agent=agent, via="queue")
    c.emit("agent_answered", 2000, agent=agent, ring_ms=2000)
    c.emit("queue_left", outcome="answered", wait_ms=25000, queue="service")
    c.emit("recording_started", file="recordings/c1.wav")
    c.emit("wrapup_requested", agent=agent, fields=["reason", "resolved"])
    c.emit("conversation_ended", 90000, agent=agent, talk_ms=90000, ended_by="agent")
    c.emit("hangup", by="flow", step="to_agent")
    c.emit("call_ended", outcome="hangup", duration_ms=int((c.now - start).total_seconds()
                                                            * 1000))
    return c


def test_events_and_call_record_in_a_real_store(store_target):
    path = store_target
    with CallStore(path) as store:
        answered_by_agent(store)
    kinds = [k for (k,) in on_disk(path, "SELECT kind FROM events WHERE call_id='c1' "
                                         "ORDER BY seq")]
    assert kinds[0] == "call_started" and kinds[-1] == "call_ended" and len(kinds) == 19
    [(step, line, col, file)] = on_disk(
        path, "SELECT step, line, col, file FROM events WHERE kind='prompt_played'")
    assert (step, line, col, file) == ("main_menu", 12, 3, "hotline.ccf")

    with CallStore(path) as store:
        call = store.call("c1")
        assert call["flow"] == "hotline" and call["flow_version"] == "1.0.0"
        assert call["caller"] == "+8613800000001" and call["dialled"] == "4008001234"
        assert call["customer_id"] == "C042"
        assert call["outcome"] == "hangup" and call["ended_by"] == "flow"
        assert (call["queue"], call["wait_ms"], call["agent"], call["talk_ms"]) == \
            ("service", 25000, "li", 90000)
        assert call["talked_to_agent"] == 1 and call["recording"] == "recordings/c1.wav"
        assert call["wrapup"] == {"agent": "li", "fields": ["reason", "resolved"],
                                  "values": None}
        assert call["duration_ms"] == 118040 and call["error"] is None
        events = store.events("c1")
        assert events[5]["data"] == {"keys": "0", "timed_out": False, "purpose": "menu"}


def test_report_tables_are_filled(store_target):
    with CallStore(store_target) as store:
        answered_by_agent(store)
        legs = store.query("SELECT agent, outcome, ring_ms, talk_ms, queue FROM agent_legs "
                           "ORDER BY seq")
        assert legs == [
            {"agent": "wang", "outcome": "missed", "ring_ms": None, "talk_ms": None,
             "queue": "service"},
            {"agent": "li", "outcome": "answered", "ring_ms": 2000, "talk_ms": 90000,
             "queue": "service"},
        ]
        [visit] = store.query("SELECT queue, priority, wait_ms, outcome, agent, talk_ms "
                              "FROM queue_visits")
        assert visit == {"queue": "service", "priority": 10, "wait_ms": 25000,
                         "outcome": "answered", "agent": "li", "talk_ms": 90000}
        nodes = store.query("SELECT node, duration_ms, choice, dropped FROM node_visits "
                            "ORDER BY seq")
        assert nodes == [
            {"node": "main_menu", "duration_ms": 3000, "choice": "0", "dropped": 0},
            {"node": "to_agent", "duration_ms": 115000, "choice": None, "dropped": 0},
            # the wait in the queue is a node of its own (reports' per-node sections)
            {"node": "queue service", "duration_ms": 25000, "choice": None, "dropped": 0},
        ]
        store.set_wrapup("c1", {"reason": "order status", "resolved": True}, wrapup_ms=30000)
        assert store.call("c1")["wrapup"]["values"] == {"reason": "order status",
                                                        "resolved": True}
        [handling] = store.query("SELECT sum(talk_ms + coalesce(wrapup_ms, 0)) AS ms "
                                 "FROM agent_legs WHERE agent='li'")
        assert handling["ms"] == 120000


def test_record_after_a_caller_hang_up(store_target):
    with CallStore(store_target) as store:
        c = Call(store, "h1")
        c.emit("answered")
        c.emit("step_entered", step="main_menu")
        c.emit("queue_joined", 1000, queue="service", priority=0, position=2)
        c.emit("agent_offered", 1000, agent="li", via="queue")
        c.emit("hangup", 4000, by="caller", step="main_menu")
        c.emit("queue_left", outcome="hangup", wait_ms=5000, queue="service")
        c.emit("handler_entered", handler="hangup")
        c.emit("call_ended", outcome="hangup", duration_ms=6000)
        call = store.call("h1")
        assert (call["outcome"], call["ended_by"], call["duration_ms"]) == \
            ("hangup", "caller", 6000)
        assert call["talked_to_agent"] == 0 and call["agent"] is None
        drops = store.query("SELECT node FROM node_visits WHERE dropped=1 ORDER BY seq")
        assert drops == [{"node": "main_menu"}, {"node": "queue service"}]  # hung up waiting
        assert store.query("SELECT outcome FROM agent_legs") == [{"outcome": "caller_gone"}]
        assert store.query("SELECT outcome FROM queue_visits") == [{"outcome": "hangup"}]


def test_record_after_an_error(store_target):
    with CallStore(store_target) as store:
        c = Call(store, "e1")
        c.emit("step_entered", step="lookup")
        c.emit("crm_query", 3000, operation="customer", args={}, result=None, ms=3000,
               error="timed out after 3000 ms")
        c.emit("error", loc=LOC, message="the CRM did not answer in 3000 ms", kind="external")
        c.emit("hangup", by="flow", step="lookup")
        c.emit("call_ended", outcome="error", duration_ms=3000)
        call = store.call("e1")
        assert call["outcome"] == "error"
        assert call["error"] == "the CRM did not answer in 3000 ms"
        assert call["customer_id"] is None


def test_a_call_that_never_ends_still_has_a_record(store_target):
    path = store_target
    store = CallStore(path)
    c = Call(store, "x1")
    c.emit("step_entered", step="main_menu")
    store.flush()
    # visible as in progress while the call runs
    assert on_disk(path, "SELECT outcome FROM calls WHERE call_id='x1'") == [(None,)]
    store.close()
    with CallStore(path) as again:
        call = again.call("x1")
        assert call["outcome"] == "error" and "had not ended" in call["error"]


def test_last_agent(store_target):
    with CallStore(store_target) as store:
        assert store.last_agent("+8613800000001") is None
        answered_by_agent(store, "c1", agent="li", start=T0)
        answered_by_agent(store, "c2", agent="wang", start=T0 + timedelta(days=2))
        answered_by_agent(store, "c3", agent="zhao", caller="+8613900000009")
        unanswered = Call(store, "c4", start=T0 + timedelta(days=3))
        unanswered.emit("call_ended", outcome="hangup", duration_ms=0)
        assert store.last_agent("+8613800000001") == "wang"
        assert store.last_agent("+8613800000001", since=T0 + timedelta(days=5)) is None
        assert store.last_agent("+8613900000009") == "zhao"


def test_schema_created_once_and_reopen_works(store_target, tmp_path):
    # a file in a folder that is not there yet (made); a PostgreSQL database as it is
    path = store_target if is_postgres(store_target) else tmp_path / "sub" / "calls.db"
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        answered_by_agent(store, "c1")
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        answered_by_agent(store, "c2", start=T0 + timedelta(hours=1))
        assert [r["n"] for r in store.query("SELECT count(*) AS n FROM calls")] == [2]
    assert on_disk(path, "SELECT count(*) FROM meta WHERE key='schema_version'") == [(1,)]


def test_sqlite_a_store_file_is_in_wal_mode(tmp_path):
    CallStore(tmp_path / "calls.db").close()
    raw = sqlite3.connect(tmp_path / "calls.db")
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def _indexes(path) -> set[str]:
    raw = sqlite3.connect(path)
    try:
        return {r[0] for r in raw.execute(
            "SELECT name FROM sqlite_master WHERE type='index' "
            "AND tbl_name IN ('events', 'event_batches', 'menu_choices')")}
    finally:
        raw.close()


# what a new store has: each table's key, nothing more
CURRENT_INDEXES = {"sqlite_autoindex_event_batches_1"}  # menu_choices is its key
MENU_CHOICES = ("SELECT step AS node, choice, count(*) AS times FROM menu_choices "
                "WHERE at_ms >= :from AND at_ms < :to GROUP BY node, choice ORDER BY node")


def test_sqlite_a_version_1_store_is_migrated_and_keeps_its_calls(tmp_path):
    path = tmp_path / "calls.db"
    with CallStore(path) as store:
        answered_by_agent(store, "c1")
    # as ccdsl wrote it before version 2: the events_step index, version 1
    set_back(path, 1, "CREATE INDEX events_step ON events (step, kind)")
    assert "events_step" in _indexes(path)
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.last_agent("+8613800000001") == "li"
        answered_by_agent(store, "c2", start=T0 + timedelta(hours=1))
        assert [r["n"] for r in store.query("SELECT count(DISTINCT call_id) AS n "
                                             "FROM events")] == [2]
    assert _indexes(path) == CURRENT_INDEXES


def test_sqlite_a_new_store_has_only_the_indexes_reports_use(tmp_path):
    CallStore(tmp_path / "calls.db").close()
    assert _indexes(tmp_path / "calls.db") == CURRENT_INDEXES


def test_sqlite_a_version_8_store_loses_the_events_kind_index_and_keeps_its_calls(tmp_path):
    path = tmp_path / "calls.db"
    with CallStore(path) as store:
        answered_by_agent(store, "c1")
    # as ccdsl wrote it before version 9: events_kind on (kind, at_ms)
    set_back(path, 8, "CREATE INDEX events_kind ON events (kind, at_ms)")
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.last_agent("+8613800000001") == "li"
    assert _indexes(path) == CURRENT_INDEXES


def test_sqlite_a_version_9_store_gets_one_events_row_a_call_and_reads_the_same(tmp_path):
    path = tmp_path / "calls.db"
    window = {"from": 0, "to": 2**62}
    with CallStore(path) as store:
        answered_by_agent(store, "c1")
        answered_by_agent(store, "c2", start=T0 + timedelta(hours=1))
        before = {c: store.events(c) for c in ("c1", "c2")}
        choices = store.query(MENU_CHOICES, window)
        rows = store.query("SELECT * FROM events ORDER BY call_id, seq")
    assert [c["choice"] for c in choices] == ["0"]
    assert choices[0]["times"] == 2
    set_back(path, 9)
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == len(rows)
    raw.close()
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert {c: store.events(c) for c in ("c1", "c2")} == before
        assert store.query(MENU_CHOICES, window) == choices
        assert store.query("SELECT * FROM events ORDER BY call_id, seq") == rows
        assert [r["n"] for r in store.query("SELECT count(*) AS n FROM event_batches")] == [2]
    assert _indexes(path) == CURRENT_INDEXES


def test_a_newer_schema_is_refused(store_target):
    path = store_target
    CallStore(path).close()
    raw = connect(path)
    raw.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    raw.close()
    with pytest.raises(StoreError, match="newer"):
        CallStore(path)


def test_many_calls_interleaved(store_target):
    # coroutines of one process interleave their events; each call stays whole
    with CallStore(store_target) as store:
        calls = [Call(store, f"m{i}", caller=f"+86138000{i:05d}") for i in range(50)]
        for c in calls:
            c.emit("answered", 100)
        for c in calls:
            c.emit("hangup", 1000, by="caller", step=None)
        for c in calls:
            c.emit("call_ended", outcome="hangup", duration_ms=1100)
        rows = store.query("SELECT outcome, count(*) AS n FROM calls GROUP BY outcome")
        assert rows == [{"outcome": "hangup", "n": 50}]
        assert store.query("SELECT count(*) AS n FROM events")[0]["n"] == 200


def _doc_queries() -> list[str]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "store.md").read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", text, re.S)


def test_the_documented_report_queries_run_and_count_right(store_target):
    queries = _doc_queries()
    assert len(queries) >= 6
    args = {"from": 0, "to": 10**13, "n": 30, "offset": 28_800_000, "customer": "C042",
            "call": "c1"}
    with CallStore(store_target) as store:
        answered_by_agent(store, "c1")
        c = Call(store, "h1", start=T0 + timedelta(hours=2))
        c.emit("step_entered", step="main_menu")
        c.emit("queue_joined", 1000, queue="service", priority=0, position=1)
        c.emit("hangup", 40000, by="caller", step="main_menu")
        c.emit("queue_left", outcome="hangup", wait_ms=40000, queue="service")
        c.emit("call_ended", outcome="hangup", duration_ms=41000)
        results = [store.query(q, args) for q in queries]
        for q in queries if not is_postgres(store_target) else ():  # SQLite's plans
            plan = " ".join(r["detail"] for r in store.query("EXPLAIN QUERY PLAN " + q, args))
            assert "USING INDEX" in plan or "USING COVERING INDEX" in plan \
                or "PRIMARY KEY" in plan, f"{q}\n{plan}"
    hours, queues, agents, nodes, choices, customer, trace = results
    assert [(h["calls"], h["answered_by_agent"]) for h in hours] == [(1, 1), (1, 0)]
    # 10:00 and 12:00 UTC are 18:00 and 20:00 in the centre's zone (:offset, UTC+8)
    assert [h["hour"] for h in hours] == ["2026-11-30 18:00", "2026-11-30 20:00"]
    assert queues == [{"queue": "service", "offered": 2, "answered": 1, "abandoned": 1,
                       "answered_within_n": 1, "avg_wait_ms": 32500.0,
                       "avg_talk_ms": 90000.0}]
    assert [(a["agent"], a["calls"], a["missed"]) for a in agents] == \
        [("li", 1, 0), ("wang", 0, 1)]
    assert {n["node"]: (n["visits"], n["drops"]) for n in nodes} == \
        {"main_menu": (2, 1), "to_agent": (1, 0)}
    assert [(c["node"], c["choice"], c["times"]) for c in choices] == [("main_menu", "0", 1)]
    assert [r["call_id"] for r in customer] == ["c1"]
    assert trace[0]["kind"] == "call_started" and len(trace) == 19


def test_odd_event_data_never_breaks_the_call(store_target):
    from ccdsl.runtime.core.values import Record

    with CallStore(store_target, calls_per_commit=10) as store:
        c = Call(store, "o1")
        c.emit("queue_joined", queue=None, priority="high", position=None)
        c.emit("agent_offered", agent=Record("agent", {"id": "li"}), via="dial")
        c.emit("queue_left", outcome="timeout", wait_ms="soon")
        c.emit("call_ended", outcome="error", duration_ms=None)
        assert store.last_error is None
        call = store.call("o1")
        assert call["outcome"] == "error" and call["wait_ms"] == 0
        [leg] = store.query("SELECT agent FROM agent_legs")
        assert leg["agent"] == '{"kind":"agent","id":"li"}'


def test_batched_commits_lose_nothing_when_the_store_closes_mid_batch(store_target, monkeypatch):
    # a bulk simulation commits every N calls; closing the store (the end of
    # the run) writes the calls of the unfinished batch, and the call still
    # running gets its record too
    import ccdsl.runtime.operations.store_queue as queue_module

    monkeypatch.setattr(queue_module, "FLUSH_SECONDS", 3600.0)  # batches by count alone
    path = store_target
    store = CallStore(path, calls_per_commit=5)
    for i in range(5):
        answered_by_agent(store, f"b{i}", start=T0 + timedelta(minutes=i))
    # the first five are one commit
    wait_for(lambda: on_disk(path, "SELECT count(*) FROM calls") == [(5,)], "5 calls in the file")
    assert on_disk(path, "SELECT count(*) FROM events") == [(5 * 19,)]
    for i in range(5, 7):
        answered_by_agent(store, f"b{i}", start=T0 + timedelta(minutes=i))
    running = Call(store, "b7", start=T0 + timedelta(hours=1))
    running.emit("step_entered", step="main_menu")
    # the other two (and the call still running) wait for their batch
    assert on_disk(path, "SELECT count(*) FROM calls") == [(5,)]
    store.close()
    assert on_disk(path, "SELECT outcome, count(*) FROM calls GROUP BY outcome "
                          "ORDER BY outcome") == [("error", 1), ("hangup", 7)]
    assert on_disk(path, "SELECT count(*) FROM events") == [(7 * 19 + 2,)]
    assert on_disk(path, "SELECT count(*) FROM agent_legs") == [(7 * 2,)]
    assert on_disk(path, "SELECT count(DISTINCT call_id) FROM node_visits") == [(8,)]


def test_a_bulk_batch_waits_for_the_queues_delay_and_no_longer(store_target, monkeypatch):
    # a bulk simulation's rows wait for their batch FLUSH_SECONDS at most
    # (store_queue.py), however few calls have ended: written by the first
    # event after the delay, and not before it
    import time

    import ccdsl.runtime.operations.store_queue as queue_module

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(queue_module, "FLUSH_SECONDS", 30.0)
    path = store_target
    store = CallStore(path, calls_per_commit=100)
    call = Call(store, "w1")
    clock[0] += 5  # well past the default delay: this store's is 30 s
    call.emit("step_entered", step="main_menu")
    assert on_disk(path, "SELECT count(*) FROM events") == [(0,)]
    clock[0] += 26
    call.emit("prompt_played", 500, sounds=[], prompt="hello", interrupted_by=None)
    assert on_disk(path, "SELECT kind FROM events ORDER BY seq") == [
        ("call_started",), ("step_entered",), ("prompt_played",)]
    store.close()


def test_reads_see_the_calls_of_an_unwritten_batch(store_target):
    with CallStore(store_target, calls_per_commit=100) as store:
        answered_by_agent(store, "c1", agent="li")
        assert on_disk(store_target, "SELECT count(*) FROM calls") == [(0,)]
        assert store.last_agent("+8613800000001") == "li"  # a read flushes first
        assert store.call("c1")["outcome"] == "hangup"


def test_a_batch_is_not_cut_short_by_the_event_bound(store_target, monkeypatch):
    # calls of ~19 events each: 100 calls are 1,900 events, past FLUSH_EVENTS,
    # yet they are written as one batch (the bound grows with the batch)
    import ccdsl.runtime.operations.store_queue as queue_module
    from ccdsl.runtime.operations.store import FLUSH_EVENTS

    monkeypatch.setattr(queue_module, "FLUSH_SECONDS", 3600.0)  # batches by count alone
    path = store_target
    store = CallStore(path, calls_per_commit=100)
    for i in range(99):
        answered_by_agent(store, f"c{i}", start=T0 + timedelta(minutes=i))
    assert 99 * 19 > FLUSH_EVENTS and store.flush_events >= 100 * 19
    assert on_disk(path, "SELECT count(*) FROM calls") == [(0,)]
    answered_by_agent(store, "c99", start=T0 + timedelta(hours=2))
    wait_for(lambda: on_disk(path, "SELECT count(*) FROM calls") == [(100,)],
             "100 calls in the file")
    store.close()


def test_every_call_of_a_batch_gets_its_own_report_rows(store_target):
    # the visits of all the calls of a batch are written together
    with CallStore(store_target, calls_per_commit=3) as store:
        answered_by_agent(store, "a1", agent="li")
        gone = Call(store, "a2")
        gone.emit("step_entered", step="main_menu")
        gone.emit("queue_joined", 1000, queue="service", priority=0, position=1)
        gone.emit("agent_offered", 1000, agent="wang", via="queue")
        gone.emit("agent_offered", agent="zhang", via="queue")
        gone.emit("prompt_played", 500, sounds=[], prompt="hold", interrupted_by=None)
        gone.emit("agent_offered", agent="li", via="queue")
        gone.emit("hangup", 4000, by="caller", step="main_menu")
        gone.emit("queue_left", outcome="hangup", wait_ms=6500, queue="service")
        gone.emit("call_ended", outcome="hangup", duration_ms=6500)
        answered_by_agent(store, "a3", agent="zhang")
        legs = store.query("SELECT call_id, agent, outcome FROM agent_legs ORDER BY call_id, seq")
        assert legs == [
            {"call_id": "a1", "agent": "wang", "outcome": "missed"},
            {"call_id": "a1", "agent": "li", "outcome": "answered"},
            # the hold prompt moved the call on past the first two offers
            {"call_id": "a2", "agent": "wang", "outcome": "missed"},
            {"call_id": "a2", "agent": "zhang", "outcome": "missed"},
            {"call_id": "a2", "agent": "li", "outcome": "caller_gone"},
            {"call_id": "a3", "agent": "wang", "outcome": "missed"},
            {"call_id": "a3", "agent": "zhang", "outcome": "answered"},
        ]
        nodes = store.query("SELECT call_id, count(*) AS n FROM node_visits GROUP BY call_id "
                            "ORDER BY call_id")
        # each call's steps and its wait in the queue
        assert nodes == [{"call_id": "a1", "n": 3}, {"call_id": "a2", "n": 2},
                         {"call_id": "a3", "n": 3}]


def test_events_at_one_moment_and_at_the_next_keep_their_own_times(store_target):
    # the store converts each instant once; a new instant is converted again
    moment = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    later = moment + timedelta(milliseconds=1)
    with CallStore(store_target) as store:
        for seq, at, kind in ((1, moment, "call_started"), (2, moment, "answered"),
                              (3, later, "step_entered"), (4, moment, "log"),
                              (5, later, "call_ended")):
            store.emit(Event("t1", seq, at, kind, {}))
        rows = store.query("SELECT seq, at, at_ms FROM events ORDER BY seq")
    base = int(moment.timestamp() * 1000)
    assert [(r["at"], r["at_ms"] - base) for r in rows] == [
        (moment.isoformat(), 0), (moment.isoformat(), 0), (later.isoformat(), 1),
        (moment.isoformat(), 0), (later.isoformat(), 1)]


def test_event_data_is_stored_as_compact_json_whatever_it_holds(store_target):
    """Event data goes into `events.data` as JSON: plain data as it is,
    run-time values in their JSON form, keys JSON cannot take through the
    full walk, and an empty map as {}."""
    from ccdsl.runtime.core.values import Duration, Record

    with CallStore(store_target) as store:
        c = Call(store, "j1")
        c.emit("answered")
        c.emit("variable_set", name="wait", value=Duration(1500))
        c.emit("screen_pop", agent="li", data=[Record("customer", {"id": "C1", "name": "王芳"})])
        c.emit("log", message='say "hi"\n')
        c.emit("call_ended", outcome="hangup")
        store.emit(Event("j2", 1, T0, "log", {("a", 1): 1}))
        stored = {(r["call_id"], r["kind"]): r["data"]
                  for r in store.query("SELECT call_id, kind, data FROM events")}
    assert stored["j1", "answered"] == "{}"
    assert stored["j1", "log"] == '{"message":"say \\"hi\\"\\n"}'
    assert '"王芳"' in stored["j1", "screen_pop"]
    assert json.loads(stored["j1", "variable_set"])["name"] == "wait"
    assert json.loads(stored["j2", "log"]) == json.loads(dumps(to_json({("a", 1): 1})))


def test_only_ringing_offers_are_settled_when_the_call_moves_on(store_target):
    """A prompt (a kind the record does not fold) after an unanswered
    offer makes that offer missed; the answering agent's own offer stays
    answered."""
    with CallStore(store_target) as store:
        c = Call(store, "r1")
        c.emit("agent_offered", agent="li", via="dial")
        c.emit("agent_offered", agent="wang", via="dial")
        c.emit("agent_answered", 3000, agent="wang", ring_ms=3000)
        c.emit("conversation_ended", 60_000, agent="wang", talk_ms=60_000, ended_by="agent")
        c.emit("prompt_played", sounds=[], prompt=None, interrupted_by=None)
        c.emit("call_ended", outcome="hangup")
        legs = {r["agent"]: r for r in store.query("SELECT * FROM agent_legs")}
    assert legs["li"]["outcome"] == "missed"
    assert legs["wang"]["outcome"] == "answered" and legs["wang"]["talk_ms"] == 60_000


def test_an_empty_second_message_does_not_erase_the_first(store_target):
    # found by the runtime properties: two voicemail ops in one call, the
    # second with nothing said; the record must still name the stored message
    with CallStore(store_target) as store:
        c = Call(store, "v1")
        c.emit("voicemail", 1000, mailbox="service", stored=True,
               file="voicemail/service/v1", duration_ms=4000)
        c.emit("voicemail", 9000, mailbox="zhang", stored=False, file=None, duration_ms=0)
        c.emit("hangup", by="caller", step="done")
        c.emit("call_ended", outcome="voicemail", duration_ms=12000)
        call = store.call("v1")
        assert (call["voicemail_mailbox"], call["voicemail_file"]) == \
            ("service", "voicemail/service/v1")


def test_sqlite_a_version_2_store_gains_centre_events_and_keeps_its_calls(tmp_path):
    path = tmp_path / "calls.db"
    with CallStore(path) as store:
        answered_by_agent(store, "c1")
    set_back(path, 2, "DROP TABLE centre_events")
    with CallStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.last_agent("+8613800000001") == "li"
        store.record_centre_event("ami", "QueueMemberPause", {"Queue": "ccf-support",
                                                              "Paused": "1"}, T0,
                                  call_id=None)
        rows = store.query("SELECT source, kind, data, at_ms FROM centre_events")
    assert len(rows) == 1
    assert (rows[0]["source"], rows[0]["kind"]) == ("ami", "QueueMemberPause")
    assert json.loads(rows[0]["data"]) == {"Queue": "ccf-support", "Paused": "1"}
    assert rows[0]["at_ms"] == int(T0.timestamp() * 1000)


def test_centre_events_are_written_when_the_store_closes(store_target):
    path = store_target
    store = CallStore(path)
    for n in range(3):
        store.record_centre_event("ami", "DeviceStateChange", {"State": "INUSE", "n": n},
                                  T0 + timedelta(seconds=n), call_id="1795652892.31")
    store.close()
    got = on_disk(path, "SELECT kind, call_id FROM centre_events ORDER BY at_ms")
    assert got == [("DeviceStateChange", "1795652892.31")] * 3


def test_the_last_events_of_a_quiet_centre_are_written_once_due(store_target):
    # Found with ccf serve on Asterisk 22: the Hangup events that ended a call
    # waited in the buffer while no further event came, unseen by reports.
    # The writer writes them once they have waited their delay, no timer needed.
    path = store_target
    store = CallStore(path)
    try:
        store.record_centre_event("ami", "Hangup", {"Channel": "Local/1@x;1"}, T0)
        wait_for(lambda: on_disk(path, "SELECT count(*) FROM centre_events") == [(1,)],
                 "the centre event in the file")
    finally:
        store.close()


def test_event_data_text_is_json_dumps_with_the_stores_options():
    """The stored text is byte for byte what json.dumps gives with the
    store's options (compact, not ASCII-escaped, run-time values by
    to_json), whatever encoder the store uses to make it."""
    from ccdsl.runtime.core.values import Duration, Record

    values = [{}, [], "王芳 \"q\"\n", 7, 2.5, None, True,
              {"a": [1, 2.0, None, False], "b": {"c": "é\t"}, "n": -0.0, "big": 10**20},
              {"wait": Duration(1500), "who": Record("customer", {"id": "C1", "name": "王芳"})}]
    # NaN and Infinity are refused instead (tests/robust/test_infinite_numbers.py)
    for value in values:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                              default=to_json)
        assert dumps(value) == expected


def test_a_reserved_call_id_is_stamped_on_the_callers_clock_and_forgotten_unused(
        store_target) -> None:
    """A simulated centre reserves `sim-N` before its call starts: the row carries the
    simulated clock's time, and a reservation whose call never started (the centre
    stopped first) leaves no call in the store, so reports over it see simulated calls only."""
    path = store_target
    store = CallStore(path)
    used = store.reserve_call_id("sim-", at=T0)
    unused = store.reserve_call_id("sim-", at=T0 + timedelta(seconds=5))
    assert on_disk(path, "SELECT started FROM calls WHERE call_id = ?", (unused,)) == \
        [("2026-11-30T10:00:05+00:00",)]
    Call(store, used, start=T0 + timedelta(seconds=1)).emit("call_ended", 2000, outcome="hangup",
                                                            duration_ms=2000)
    store.close()
    rows = on_disk(path, "SELECT call_id, flow, outcome FROM calls")
    assert rows == [(used, "hotline", "hangup")]
