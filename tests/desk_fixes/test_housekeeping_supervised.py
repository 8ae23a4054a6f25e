"""The console's housekeeping (the wrap-up watch, the session sweep) never dies silently: a
fault escaping a chore is logged with its traceback and the chore starts again after a backoff
that doubles up to a cap; stopping the console ends every chore."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ccdsl.runtime.console import chores, desk_wrapups
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import ALL_UNSAVED_SQL, claim
from tests.console import rig
from tests.console.desk_calls import store_call, wrapping_up
from tests.console.rig import Console, read_live


class FailsOnce:
    """A call store whose read of every agent's forms (the watch's first) fails once, with an
    error no reader expects; everything else is the real store's."""

    def __init__(self, store: CallStore) -> None:
        self._store = store
        self.failed = False

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def query(self, sql: str, args=()):
        if sql == ALL_UNSAVED_SQL and not self.failed:
            self.failed = True
            raise RuntimeError("the read went wrong in a way nobody caught")
        return self._store.query(sql, args)


def test_a_watch_that_fails_is_logged_and_started_again(tmp_path, monkeypatch, caplog) -> None:
    """Before the chores were supervised, the failing watch ended the housekeeping for good
    and the desk never heard of the save made elsewhere."""
    monkeypatch.setattr(rig, "CallStore", lambda path: FailsOnce(CallStore(path)))
    monkeypatch.setattr(chores, "FIRST_BACKOFF_S", 0.05)
    monkeypatch.setattr(desk_wrapups, "WATCH_S", 0.1)
    caplog.set_level(logging.INFO, logger="ccdsl.console")
    console = Console(tmp_path)
    try:
        store_call(console, "w1")
        web = console.client("zhang")
        wrapping_up(console, "w1")
        assert console.desk.status("zhang").state == "wrapup"
        with CallStore(tmp_path / "calls.db") as elsewhere:  # `ccf wrapup`'s own store
            assert claim(elsewhere, "w1", {"reason": "order", "resolved": True},
                         agent="zhang")
        read_live(web, lambda seen: any(k == "agent" and d.get("agent") == "zhang"
                                        and d["state"] == "ready" for k, d in seen))
        assert console.store.failed
        failed = [r for r in caplog.records if "wrap-up watch stopped on an error" in r.message]
        assert len(failed) == 1
        assert failed[0].name == "ccdsl.console" and failed[0].levelno == logging.ERROR
        assert failed[0].exc_info is not None and "nobody caught" in caplog.text
        assert "Traceback" in caplog.text
    finally:
        console.close()
    # the console's stop ended its chores, not left them running
    assert console.server._chores is not None and console.server._chores.done()


def test_the_backoff_doubles_up_to_its_cap_and_a_cancel_ends_it(caplog) -> None:
    waits: list[float] = []
    runs = 0

    async def chore() -> None:
        nonlocal runs
        runs += 1
        raise ValueError(f"fault {runs}")

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 6:  # the console stopping, in the middle of a backoff
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(chores.supervised("test chore", chore, first_s=1, max_s=8, sleep=sleep))
    assert waits == [1, 2, 4, 8, 8, 8]
    assert runs == 6
    logged = [r for r in caplog.records if r.name == "ccdsl.console"]
    assert [r.getMessage() for r in logged][:2] == [
        "console: the test chore stopped on an error; started again in 1 s",
        "console: the test chore stopped on an error; started again in 2 s"]
    assert all(r.exc_info and isinstance(r.exc_info[1], ValueError) for r in logged)


def test_a_chore_that_returns_is_started_again_and_a_cancel_ends_a_running_one() -> None:
    async def main() -> tuple[int, bool]:
        started = 0
        hang = asyncio.Event()

        async def chore() -> None:
            nonlocal started
            started += 1
            if started == 2:
                await hang.wait()  # runs until the console stops

        async def sleep(seconds: float) -> None:
            await asyncio.sleep(0)

        task = asyncio.create_task(chores.supervised("test chore", chore, sleep=sleep))
        while started < 2:
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.wait([task])
        return started, task.cancelled()

    assert asyncio.run(main()) == (2, True)
