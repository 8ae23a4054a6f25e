"""A save that finds the call store busy (another connection holds the lock the save needs past
the store's wait) is one store-level error on both back ends, StoreBusy: the desk answers 503
"... not saved: ...; save it again", `ccf wrapup --store` says the same and exits 1; nothing
is stored and the CRM is not told. SQLite's lock is the file's; PostgreSQL's a row lock of
another session (its lock_timeout), the same for the desk and the CLI."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from ccf_cli import ccf

from ccdsl.runtime.operations import store_wrapups
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_errors import StoreBusy
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import store_call
from tests.desk_fixes.test_wrapup_held_apart import wrapups_lock
from tests.desk_fixes.test_wrapup_once import Crm

BODY = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}


@pytest.fixture(autouse=True)
def _short_store_waits(monkeypatch):
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.3)


def test_a_save_on_a_busy_store_raises_store_busy_and_stores_nothing(store_target) -> None:
    with CallStore(store_target, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        with wrapups_lock(store_target, "zhang"), pytest.raises(StoreBusy) as busy:
            store_wrapups.claim(store, "w1", {"reason": "order"}, None, "zhang")
        assert "save it again" not in str(busy.value)  # the reason only: callers say the rest
        assert store.call("w1")["wrapup"]["values"] is None
        assert store_wrapups.claim(store, "w1", {"reason": "order"}, None, "zhang")


def test_the_desk_answers_503_save_it_again(store_target) -> None:
    crm = Crm()
    with CallStore(store_target, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        desk = WrapupDesk(store, crm, None)
        with wrapups_lock(store_target, "zhang"):
            busy = asyncio.run(desk.submit("w1", BODY))
        assert store.call("w1")["wrapup"]["values"] is None
        again = asyncio.run(desk.submit("w1", BODY))
    assert busy.status == 503, busy
    assert busy.body["error"].startswith("the wrap-up of call w1 is not saved: the call store "
                                         "is busy")
    assert busy.body["error"].endswith("; save it again")
    assert again.status == 200
    assert len(crm.logged) == 1


def test_ccf_wrapup_store_says_save_it_again_and_exits_1(store_target, tmp_path) -> None:
    with CallStore(store_target, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
    args = ("wrapup", "w1", "--store", store_target, "-f", "reason=order", "-f", "resolved=yes")
    with wrapups_lock(store_target, "zhang"):
        busy = ccf(*args)
    assert busy.exit_code == 1, busy.output
    assert "error: the wrap-up of call w1 is not saved: the call store is busy" in busy.output
    assert busy.output.rstrip().endswith("save it again")
    assert "Traceback" not in busy.output
    again = ccf(*args)
    assert again.exit_code == 0, again.output
