"""One wrap-up is taken once across workers: two workers (two stores over one database, each
with its own event loop) saving the same call's wrap-up at the same instant both read it as
not saved yet; the store decides which save is the one, the other gets the 409 a double click
gets, and the CRM logs the call once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import store_call

MEET_S = 30.0  # how long one worker waits for the other at the meeting point (a bound only)


class Crm:
    """One CRM both workers log to (a thread-safe list)."""

    def __init__(self) -> None:
        self.logged: list[dict] = []
        self._lock = threading.Lock()

    async def log_call(self, entry) -> None:
        with self._lock:
            self.logged.append(entry)


class Meeting:
    """A worker's store that, after its first read of the call, waits for the other worker
    to have read it too: both then go on from the same instant, neither having saved."""

    def __init__(self, store: CallStore, meet: threading.Barrier) -> None:
        self.store = store
        self.meet = meet
        self.met = False

    def call(self, call_id: str):
        record = self.store.call(call_id)
        if not self.met:
            self.met = True
            self.meet.wait(MEET_S)
        return record

    def __getattr__(self, name: str):
        return getattr(self.store, name)


def test_two_workers_saving_at_once_store_one_wrap_up(store_target) -> None:
    setup = CallStore(store_target)
    try:
        store_call(SimpleNamespace(store=setup), "w1")
    finally:
        setup.close()
    crm = Crm()
    meet = threading.Barrier(2)
    outcomes: dict[str, object] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with CallStore(store_target, wait_s=0.25) as store:  # as ccf serve opens it
                desk = WrapupDesk(Meeting(store, meet), crm, None)
                body = {"agent": "zhang", "fields": {"reason": f"by {name}", "resolved": "yes"}}
                outcomes[name] = asyncio.run(desk.submit("w1", body))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            meet.abort()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    statuses = sorted(o.status for o in outcomes.values())
    assert statuses == [200, 409], outcomes
    winner = next(n for n, o in outcomes.items() if o.status == 200)
    loser = outcomes["b" if winner == "a" else "a"]
    assert loser.body["already"] == "saved" and "already saved" in loser.body["error"]
    assert len(crm.logged) == 1
    assert crm.logged[0]["wrapup"]["reason"] == f"by {winner}"
    with CallStore(store_target) as store:
        assert store.call("w1")["wrapup"]["values"] == {"reason": f"by {winner}",
                                                        "resolved": True}


def test_a_save_on_another_worker_outlives_the_running_calls_last_row(store_target) -> None:
    """The call runs on worker A (its row in A's memory, written as it goes); the agent's
    wrap-up is saved through worker B. A's last write of the row, at the call's end, must
    not put the row's unsaved form back over B's values; A's own later save is refused."""
    from datetime import UTC, datetime

    from ccdsl.runtime.core.events import Event

    async def main(a: CallStore, b: CallStore):
        crm = Crm()
        on_b = WrapupDesk(b, crm, None)
        saved = await on_b.submit("w1", {"agent": "zhang",
                                         "fields": {"reason": "on b", "resolved": "yes"}})
        on_a = WrapupDesk(a, crm, None, running=lambda call_id: True)
        held = await on_a.submit("w1", {"agent": "zhang",
                                        "fields": {"reason": "on a", "resolved": "no"}})
        for seq, kind in ((6, "hangup"), (7, "call_ended")):
            a.emit(Event("w1", seq, datetime.now(UTC), kind,
                         {"by": "caller"} if kind == "hangup" else {"outcome": "hangup"}))
        a.flush()
        await on_a.call_ended("w1")
        return saved, held, crm.logged

    with CallStore(store_target, wait_s=0.25) as a, CallStore(store_target, wait_s=0.25) as b:
        store_call(SimpleNamespace(store=a), "w1", ended=False)
        saved, held, logged = asyncio.run(main(a, b))
        assert saved.status == 200 and saved.body["stored"] == "now", saved
        assert [e["wrapup"]["reason"] for e in logged] == ["on b"]
    with CallStore(store_target) as store:
        record = store.call("w1")
        assert record["outcome"] == "hangup"
        assert record["wrapup"]["values"] == {"reason": "on b", "resolved": True}


def test_a_store_locked_too_long_stores_nothing_and_a_held_wrap_up_is_tried_again(
        tmp_path, monkeypatch) -> None:
    """Another writer holds the store's lock: a save answers 503 (nothing stored, the CRM
    not told) and may be made again; a wrap-up held for the call's end is tried again until
    the store takes it, then logged once."""

    from ccdsl.runtime.operations import store_wrapups, wrapup
    from tests.desk_fixes.test_wrapup_once import end_call
    from tests.store_faults.rig import Locker

    tries: list[str] = []

    def claim(*args, **kwargs):
        tries.append(args[1])
        return store_wrapups.claim(*args, **kwargs, wait_s=0.2)

    monkeypatch.setattr(wrapup, "claim", claim)
    body = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}

    async def main(store: CallStore):
        crm = Crm()
        desk = WrapupDesk(store, crm, None)
        with Locker(tmp_path / "calls.db"):
            busy = await desk.submit("w1", body)
            logged_while_busy = list(crm.logged)
        saved = await desk.submit("w1", body)
        live = {"w2": True}
        held = WrapupDesk(store, crm, None, running=lambda call_id: live[call_id])
        assert (await held.submit("w2", body)).status == 200
        live["w2"] = False
        end_call(SimpleNamespace(store=store), "w2")
        with Locker(tmp_path / "calls.db"):
            ending = asyncio.ensure_future(held.call_ended("w2"))
            while tries.count("w2") < 2 and not ending.done():  # refused once, tried again
                await asyncio.sleep(0.01)
        await ending
        return busy, logged_while_busy, saved, crm.logged

    with CallStore(tmp_path / "calls.db", wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        store_call(SimpleNamespace(store=store), "w2", ended=False)
        busy, logged_while_busy, saved, logged = asyncio.run(main(store))
        assert busy.status == 503 and "save it again" in busy.body["error"], busy
        assert logged_while_busy == []
        assert saved.status == 200
        assert tries.count("w2") >= 2
        assert [e["call_id"] for e in logged] == ["w1", "w2"]
        assert store.call("w2")["wrapup"]["values"] == {"reason": "order", "resolved": True}
