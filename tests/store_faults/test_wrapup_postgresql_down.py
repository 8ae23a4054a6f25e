"""PostgreSQL only: a wrap-up saved while the server is down (stopped, restarted, the network
cut). Nothing is stored and nothing is lost: the save is refused as one that may be made again,
in words that say the server cannot be reached (not another writer's lock), the desk answers 503
"save it again" and the CRM is not told; once the server is back the same save stores the values
once; `ccf wrapup --store` says it cannot connect and exits 4 (a service that did not answer).
A SQLite file has no server to
lose (its locked file: tests/desk_fixes)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from ccdsl.runtime.operations import store_wrapups
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_errors import StoreBusy
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import store_call
from tests.desk_fixes.test_wrapup_once import Crm

BODY = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}


@pytest.fixture(autouse=True)
def _short_store_waits(monkeypatch):
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.5)


def test_postgresql_a_save_while_the_server_is_down_is_refused_then_stored_once(
        pg_url, pg_cluster) -> None:
    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        store.flush()
        pg_cluster.halt()
        try:
            with pytest.raises(StoreBusy) as down:
                store_wrapups.claim(store, "w1", {"reason": "order"}, None, "zhang")
        finally:
            pg_cluster.start_again()
        said = str(down.value)
        assert "lock" not in said, said  # no other writer held anything: the server was gone
        assert "PostgreSQL" in said or "connect" in said, said
        assert store_wrapups.claim(store, "w1", {"reason": "order"}, None, "zhang")
        assert not store_wrapups.claim(store, "w1", {"reason": "order"}, None, "zhang")
        assert store.call("w1")["wrapup"]["values"] == {"reason": "order"}


def test_postgresql_the_desk_answers_503_while_the_server_is_down(pg_url, pg_cluster) -> None:
    crm = Crm()
    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        store.flush()
        desk = WrapupDesk(store, crm, None)
        pg_cluster.halt()
        try:
            down = asyncio.run(desk.submit("w1", BODY))
        finally:
            pg_cluster.start_again()
        assert crm.logged == []  # the CRM hears of a wrap-up only once it is stored
        again = asyncio.run(desk.submit("w1", BODY))
        assert store.call("w1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
    assert down.status == 503, down
    assert down.body["error"].startswith("the wrap-up of call w1 is not saved: the call store ")
    assert down.body["error"].endswith("; save it again")
    assert "lock" not in down.body["error"]
    assert again.status == 200
    assert len(crm.logged) == 1


def test_postgresql_ccf_wrapup_store_while_the_server_is_down_says_so_and_exits_4(
        pg_url, pg_cluster) -> None:
    from ccf_cli import ccf

    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
    args = ("wrapup", "w1", "--store", pg_url, "-f", "reason=order", "-f", "resolved=yes")
    pg_cluster.halt()
    try:
        down = ccf(*args)
    finally:
        pg_cluster.start_again()
    # a server that did not answer, as for every command (README's exit codes)
    assert down.exit_code == 4, down.output
    assert "Traceback" not in down.output
    assert "error: cannot connect to the PostgreSQL store" in down.output, down.output
    again = ccf(*args)
    assert again.exit_code == 0, again.output
    with CallStore(pg_url) as store:
        assert store.call("w1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
