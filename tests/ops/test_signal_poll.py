"""The ccf-answered signal poll, on SQLite and on a real PostgreSQL, counted at the connection
API: a worker running no call asks the database nothing; one running calls sends one read per
poll on a connection it keeps, and a claim only when one of its own calls' signals waits, never
reading or claiming another worker's; a signal is claimed by one worker only, however many
race for it."""

from __future__ import annotations

import threading

import pytest

from ccdsl.runtime.operations import shared_db, workers
from ccdsl.runtime.operations.store_runs import Process
from ccdsl.runtime.operations.workers import WorkerRows

A = Process("host-a", 101, "boot:1")
B = Process("host-b", 202, "boot:2")


class Counted:
    """A real connection whose statements, and the rows they gave, are written down."""

    def __init__(self, db, said: list) -> None:
        self.db = db
        self.said = said

    def execute(self, sql, params=()):
        cursor = self.db.execute(sql, params)
        entry = {"sql": sql, "params": tuple(params or ()), "rows": []}
        self.said.append(entry)
        return _Rows(cursor, entry)

    def __getattr__(self, name):
        return getattr(self.db, name)



class _Rows:
    def __init__(self, cursor, entry: dict) -> None:
        self.cursor = cursor
        self.entry = entry

    def fetchall(self):
        rows = [tuple(r) for r in self.cursor.fetchall()]
        self.entry["rows"] += rows
        return rows

    def fetchone(self):
        row = self.cursor.fetchone()
        if row is not None:
            self.entry["rows"].append(tuple(row))
        return row

    def __iter__(self):
        return iter(self.fetchall())

    def __getattr__(self, name):
        return getattr(self.cursor, name)


@pytest.fixture
def counted(monkeypatch):
    """Every statement sent through the poll's own connection, and every connection opened
    (the poll's own and the shared ones)."""
    said: list = []
    opened: list = []

    real_connect, real_opened = shared_db.connect, workers.opened

    def connect(target, **kwargs):
        opened.append(target)
        return real_connect(target, **kwargs)

    # every connection opened is counted; the statements of the poll's own alone (the shared
    # connections' are the store's own: migrations read the driver's type)
    monkeypatch.setattr(shared_db, "connect", connect)
    monkeypatch.setattr(workers, "opened",
                        lambda target, **kwargs: Counted(real_opened(target, **kwargs), said))
    return said, opened


def polls(said: list) -> list[dict]:
    """The claims (the writes) among the statements."""
    return [s for s in said if "SET taken_by" in s["sql"]]


def reads(said: list) -> list[dict]:
    return [s for s in said if s["sql"].lstrip().upper().startswith("SELECT")]


def test_a_worker_running_no_call_asks_the_database_nothing(store_target, counted):
    said, opened = counted
    rows = WorkerRows(store_target, A, address="a:1")
    assert rows.take_answered([]) == []
    assert rows.take_answered(iter(())) == []
    assert said == [] and opened == []


def test_a_signal_for_another_workers_call_is_neither_read_nor_claimed(store_target, counted):
    said, opened = counted
    sender = WorkerRows(store_target, Process("host-c", 303, None), address="c:1")
    mine = WorkerRows(store_target, A, address="a:1")
    theirs = WorkerRows(store_target, B, address="b:1")
    at_mine = sender.send_answered("a.1", "li", "PJSIP/8001-01")
    at_theirs = sender.send_answered("b.1", "wang", "PJSIP/8002-02")
    said.clear()
    taken = mine.take_answered(["a.1", "a.2", "a.1"])
    assert taken == [("a.1", at_mine, "li", "PJSIP/8001-01")]
    # a read, then one claim, which returned this worker's signal alone
    assert [reads(said), polls(said)] == [said[:1], said[1:]] and len(said) == 2
    assert said[1]["rows"] == [("a.1", at_mine, "li", "PJSIP/8001-01")]
    assert all("b.1" not in s["params"] for s in said)
    assert sender.signal_state("b.1", at_theirs, "PJSIP/8002-02") == (None, False)
    # the next poll: nothing waits, so one read and no write, on the connection kept
    said.clear()
    kept = len(opened)
    assert mine.take_answered(["a.1"]) == []  # taken already
    assert reads(said) == said and len(said) == 1 and len(opened) == kept
    assert theirs.take_answered(["b.1"]) == [("b.1", at_theirs, "wang", "PJSIP/8002-02")]
    assert sender.signal_state("b.1", at_theirs, "PJSIP/8002-02") == (theirs.id, False)
    assert sender.signal_state("a.1", at_mine, "PJSIP/8001-01") == (mine.id, False)
    mine.close()
    theirs.close()


def test_many_running_calls_are_asked_about_in_chunks(store_target, counted, monkeypatch):
    said, _ = counted
    monkeypatch.setattr(workers, "SIGNAL_CHUNK", 3)
    sender = WorkerRows(store_target, B, address="b:1")
    running = [f"c.{n}" for n in range(8)]
    sent = {call: sender.send_answered(call, "li", "") for call in ("c.0", "c.4", "c.7")}
    sender.send_answered("elsewhere.1", "li", "")
    rows = WorkerRows(store_target, A, address="a:1")
    said.clear()
    taken = rows.take_answered(running)
    assert sorted(taken) == sorted((call, at, "li", "") for call, at in sent.items())
    # 8 calls, 3 a statement: each chunk read, and claimed where a signal waits (all three)
    assert len(reads(said)) == len(polls(said)) == 3 and len(said) == 6
    assert [len(s["params"]) - 2 for s in polls(said)] == [3, 3, 2]
    assert [len(s["params"]) - 1 for s in reads(said)] == [3, 3, 2]
    assert all(row[0] != "elsewhere.1" for s in said for row in s["rows"])
    rows.close()


def test_two_workers_racing_for_one_signal_one_claims_it(store_target):
    sender = WorkerRows(store_target, Process("host-c", 303, None), address="c:1")
    at = sender.send_answered("x.1", "li", "PJSIP/8001-01")
    racers = [WorkerRows(store_target, Process(f"host-{n}", n, None), address=f"{n}:1")
              for n in range(4)]
    start = threading.Barrier(len(racers))
    taken: list = []
    lock = threading.Lock()

    def race(rows: WorkerRows) -> None:
        start.wait()
        found = rows.take_answered(["x.1"])
        with lock:
            taken.extend((rows.id, t) for t in found)

    threads = [threading.Thread(target=race, args=(r,)) for r in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [t for _, t in taken] == [("x.1", at, "li", "PJSIP/8001-01")]
    assert sender.signal_state("x.1", at, "PJSIP/8001-01") == (taken[0][0], False)
    for rows in racers:
        rows.close()


def test_a_signal_past_its_time_is_not_claimed(store_target):
    rows = WorkerRows(store_target, A, address="a:1")
    sender = WorkerRows(store_target, B, address="b:1")
    at = sender.send_answered("old.1", "li", "")
    with shared_db.shared(store_target) as db:
        db.execute("UPDATE answered_signals SET at_ms = ?",
                   (at - int(workers.SIGNAL_TTL_S * 1000) - 1,))
    assert rows.take_answered(["old.1"]) == []
    assert sender.signal_state("old.1", at - int(workers.SIGNAL_TTL_S * 1000) - 1, "") == \
        (None, False)
    rows.close()


def test_a_poll_after_the_store_was_lost_opens_a_new_connection(pg_url, pg_cluster):
    """PostgreSQL restarted under a worker: the poll fails once (said as the store's error),
    then goes on on a new connection."""
    from ccdsl.runtime.operations.shared_db import SharedStoreError

    rows = WorkerRows(pg_url, A, address="a:1")
    sender = WorkerRows(pg_url, B, address="b:1")
    assert rows.take_answered(["r.1"]) == []
    pg_cluster.halt()
    pg_cluster.start_again()
    at = sender.send_answered("r.1", "li", "")
    try:
        first = rows.take_answered(["r.1"])
    except SharedStoreError:
        first = rows.take_answered(["r.1"])
    assert first == [("r.1", at, "li", "")]
    rows.close()
