"""Another process holds the store's write lock (an admin's open transaction,
VACUUM, another ccf command; on PostgreSQL a session's LOCK TABLE): calls go on at
their own pace and the HTTP API answers, the records wait in memory, and once the
lock is gone every one is written. A locked store delays records, never calls."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from ccdsl.runtime.asterisk.service import LiveCentre
from ccdsl.runtime.console.serve import ServedCentre
from store_faults.rig import (
    WAIT_S,
    Locker,
    centre,
    held_flow,
    live_config,
    on_disk,
    place,
    until,
)

CALLS = 20


def test_calls_run_through_a_locked_store_and_are_written_after(tmp_path: Path,
                                                                store_target: str) -> None:
    config = live_config(centre(tmp_path, {"line": held_flow(wait=None)}, store_target))
    store = config.store_path

    async def main():
        live = LiveCentre(config, port=0, api_port=0, use_ami=False)
        _, port = await ServedCentre(live).start()
        assert live.api_address is not None, live.api_error
        await place(port, "line", "1796200000.0")  # one call before: the file is in use
        await until(lambda: on_disk(store, "SELECT count(*) FROM calls")[0][0] == 1,
                    "the first call in the file")
        admin = Locker(store)  # held: nobody else writes
        locked_at = time.monotonic()
        try:
            async def call(n: int):
                return await place(port, "line", f"1796200000.{n}",
                                   callerid=f"+86138000000{n:02d}")

            calls = asyncio.gather(*(call(n) for n in range(1, CALLS + 1)))
            status = None
            async with httpx.AsyncClient() as client:
                host, api_port = live.api_address
                status = await client.get(f"http://{host}:{api_port}/status",
                                          timeout=WAIT_S)
            # calls that cannot end while the lock is held fail at this bound
            reports = await asyncio.wait_for(calls, WAIT_S)
            # every call ended while the lock was held, and none could be written
            held_for = time.monotonic() - locked_at
            still_locked = on_disk(store, "SELECT count(*) FROM calls")
        finally:
            admin.release()
        await until(lambda: on_disk(store, "SELECT count(*) FROM calls WHERE outcome = "
                                           "'hangup'")[0][0] == CALLS + 1,
                    "every record once the lock is gone", timeout=WAIT_S)
        # the rows are in the file a moment before the writer hands its batch back (the
        # commit, then `written` under the store's lock): drained, not at that instant
        await until(lambda: live.store.backlog == 0, "the backlog drained", timeout=WAIT_S)
        backlog = live.store.backlog
        await live.stop(1.0)
        return reports, status, held_for, still_locked, backlog

    reports, status, held_for, still_locked, backlog = asyncio.run(main())
    assert status.status_code == 200
    assert all(r.commands and r.commands[-1] == "HANGUP" for r in reports)
    assert held_for < WAIT_S and still_locked == [(1,)]
    assert backlog == 0
    events = on_disk(store, "SELECT call_id, count(*) FROM events GROUP BY call_id")
    assert len(events) == CALLS + 1
    assert len({n for _, n in events}) == 1  # every call has all its events


def test_ccf_serve_starts_and_takes_calls_while_another_process_holds_the_lock(
        tmp_path: Path, store_target: str) -> None:
    # on PostgreSQL the strongest lock: ACCESS EXCLUSIVE stops readers of calls too
    config = live_config(centre(tmp_path, {"line": held_flow(wait=None)}, store_target))
    store = config.store_path

    async def main():
        first = LiveCentre(config, port=0, api_port=0, use_ami=False)
        await ServedCentre(first).start()  # makes the store, schema and all
        await first.stop(1.0)
        admin = Locker(store, "ACCESS EXCLUSIVE")
        try:
            live = LiveCentre(config, port=0, api_port=0, use_ami=False)
            _, port = await asyncio.wait_for(live.start(), WAIT_S)
            report = await asyncio.wait_for(place(port, "line", "1796200001.1"), WAIT_S)
        finally:
            admin.release()
        await until(lambda: on_disk(store, "SELECT outcome FROM calls") == [("hangup",)],
                    "the call once the lock is gone")
        await live.stop(1.0)
        return report

    report = asyncio.run(main())
    assert report.commands[-1] == "HANGUP"


def test_the_wrapup_time_is_measured_while_the_store_is_locked(store_target) -> None:
    """The wrap-up's handling time runs from the conversation's end, which
    the store's writer may still hold while another process locks the file."""
    from datetime import UTC, datetime, timedelta

    from ccdsl.runtime.asterisk.service import STORE_READ_WAIT_S
    from ccdsl.runtime.core.events import Event
    from ccdsl.runtime.operations.store import CallStore
    from ccdsl.runtime.operations.wrapup import WrapupDesk

    path = store_target
    talked = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    with CallStore(path, wait_s=STORE_READ_WAIT_S) as store:  # as ccf serve opens it
        store.emit(Event("w1", 1, talked, "call_started", {"flow": "line"}))
        with Locker(path):
            store.emit(Event("w1", 2, talked, "conversation_ended",
                             {"agent": "li", "talk_ms": 1000, "ended_by": "agent"}))
            desk = WrapupDesk(store, None, None, now=lambda: talked + timedelta(seconds=45))
            assert desk._wrapup_ms(store.events("w1")) == 45_000


def test_a_screen_pops_recent_calls_include_one_not_yet_written(store_target) -> None:
    """A call that ended while another process locks the file is still in
    the caller's recent calls (a screen pop's), newest first."""
    from datetime import UTC, datetime, timedelta

    from ccdsl.runtime.asterisk.service import STORE_READ_WAIT_S
    from ccdsl.runtime.core.events import Event
    from ccdsl.runtime.operations.store import CallStore

    path = store_target
    caller = "+8613800000001"
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

    def a_call(store: CallStore, call_id: str, start: datetime) -> None:
        store.emit(Event(call_id, 1, start, "call_started", {"flow": "line", "caller": caller}))
        store.emit(Event(call_id, 2, start + timedelta(seconds=30), "call_ended",
                         {"outcome": "hangup", "duration_ms": 30_000}))

    with CallStore(path, wait_s=STORE_READ_WAIT_S) as store:
        a_call(store, "old", at)
        store.flush()
        with Locker(path):
            a_call(store, "just-ended", at + timedelta(hours=1))
            recent = store.recent_calls(caller, "now", 5)
            assert [r["call_id"] for r in recent] == ["just-ended", "old"]
            assert recent[0]["outcome"] == "hangup"
            assert [r["call_id"] for r in store.recent_calls(caller, "just-ended", 5)] == ["old"]
