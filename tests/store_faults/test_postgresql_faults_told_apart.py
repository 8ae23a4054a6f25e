"""PostgreSQL only: the store's errors told apart by their SQLSTATE, each on a real cluster. A
server that does not answer passes ("try again shortly", "save it again"); a wrong password or
unknown role (28P01, 28000) and a missing database (3D000) do not: the words say what is wrong
and never show the password; a missing table or column (42P01, 42703) is a schema fault, never
"save it again". A wrap-up refused for one stores nothing and tells the CRM nothing."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from types import SimpleNamespace

import pytest

from ccdsl.runtime.operations import database, store_wrapups
from ccdsl.runtime.operations.database import (
    Misconfigured,
    SchemaFault,
    Unreachable,
    close_pools,
    connect,
)
from ccdsl.runtime.operations.store import CallStore, StoreError
from ccdsl.runtime.operations.store_errors import (
    StoreBusy,
    StoreFault,
    busy,
    passing,
    read_or_busy,
)
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests import pg_cluster as pg
from tests.console.desk_calls import store_call
from tests.desk_fixes.test_wrapup_once import Crm

BODY = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}
WRONG = "not-the-password-4711"  # must never be shown


@pytest.fixture(autouse=True)
def _short_waits(monkeypatch):
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.5)
    monkeypatch.setattr(database, "POOL_WAIT_S", 1.0)


def _refused_save(store, call_id: str = "w1"):
    """A wrap-up submitted to the desk over `store`: (the answer, the CRM it did not tell)."""
    crm = Crm()
    answer = asyncio.run(WrapupDesk(store, crm, None).submit(call_id, BODY))
    return answer, crm


def _not_to_save_again(answer) -> str:
    said = answer.body["error"]
    assert answer.status == 503, answer
    assert said.startswith("the wrap-up of call w1 is not saved: the call store ")
    assert "save it again" not in said and "try again" not in said, said
    assert "must be mended" in said, said
    return said


def test_postgresql_a_server_that_does_not_answer_passes(pg_url, pg_cluster) -> None:
    pg_cluster.halt()
    try:
        with pytest.raises(Unreachable) as down:
            connect(pg_url)
    finally:
        pg_cluster.start_again()
    assert passing(down.value)
    assert down.value.sqlstate.startswith("08")
    assert not isinstance(busy(down.value), StoreFault)


@pytest.mark.parametrize("user", [pg.USER, "nobody"])
def test_postgresql_a_wrong_password_or_role_is_said_and_does_not_pass(
        pg_url, pg_cluster, monkeypatch, user) -> None:
    CallStore(pg_url).close()
    close_pools()
    monkeypatch.setenv(database.PASSWORD_ENV, WRONG)
    url = pg_url.replace(f"//{pg.USER}@", f"//{user}@")
    with pytest.raises(Misconfigured) as refused:
        connect(url)
    said = str(refused.value)
    assert refused.value.sqlstate in ("28P01", "28000")
    assert not passing(refused.value)
    assert said.startswith("the PostgreSQL server refuses the store's login: a wrong password "
                           "(set in CCF_STORE_PASSWORD) or no such role: "), said
    assert f'password authentication failed for user "{user}"' in said
    assert WRONG not in said and "try again" not in said
    assert isinstance(busy(refused.value), StoreFault)


def test_postgresql_a_password_changed_under_a_running_store_is_said(
        pg_url, pg_cluster) -> None:
    """The role's password changed (rotated, the service not told) while the store runs: its
    connections, once lost, cannot be made again, and a save says why."""
    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        store.flush()
        name = pg_url.rsplit("/", 1)[1]
        pg_cluster.psql(f"ALTER ROLE {pg.USER} PASSWORD '{WRONG}'")
        try:
            pg_cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            f"WHERE datname = '{name}'")
            answer, crm = _refused_save(store)
        finally:
            pg_cluster.psql(f"ALTER ROLE {pg.USER} PASSWORD '{pg.PASSWORD}'")
        said = _not_to_save_again(answer)
        assert "refuses the store's login: a wrong password" in said, said
        assert pg.PASSWORD not in said and WRONG not in said
        assert crm.logged == []
        # mended: the same save goes through, once the pool has connected again (its retries
        # back off; a deadline only against a hang)
        deadline = time.monotonic() + 60
        while (saved := asyncio.run(WrapupDesk(store, crm, None).submit("w1", BODY))).status \
                == 503:
            assert time.monotonic() < deadline, saved
            time.sleep(0.2)
        assert saved.status == 200, saved
        assert len(crm.logged) == 1


def test_postgresql_a_dropped_database_is_said_and_does_not_pass(pg_url, pg_cluster) -> None:
    store = CallStore(pg_url, wait_s=0.25)
    try:
        store_call(SimpleNamespace(store=store), "w1")
        store.flush()
        pg_cluster.drop_database(pg_url.rsplit("/", 1)[1])
        with pytest.raises(StoreFault) as gone:
            read_or_busy(store.call, "w1")
        assert isinstance(gone.value.__cause__, Misconfigured)
        assert gone.value.__cause__.sqlstate == "3D000"
        assert "the PostgreSQL server has no such database" in str(gone.value)
        answer, crm = _refused_save(store)
    finally:
        with contextlib.suppress(StoreError):  # its run's end cannot be written: no database
            store.close()
    said = _not_to_save_again(answer)
    assert "does not exist" in said, said
    assert crm.logged == []


@pytest.mark.parametrize("change, state", [
    ("DROP TABLE wrapups", "42P01"),
    ("ALTER TABLE wrapups DROP COLUMN entered", "42703"),
])
def test_postgresql_a_missing_table_or_column_is_a_schema_fault(pg_url, pg_cluster, change,
                                                                 state) -> None:
    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        store.flush()
        pg_cluster.psql(change, pg_url.rsplit("/", 1)[1])
        with pytest.raises(SchemaFault) as broken:
            store.call("w1")
        assert broken.value.sqlstate == state
        assert isinstance(broken.value, sqlite3.OperationalError)  # the store's one class
        assert not passing(broken.value)
        assert str(broken.value).startswith("the call store lacks a table or column this ccf "
                                            "reads (`ccf store migrate`, or one dropped by hand)")
        answer, crm = _refused_save(store)
    _not_to_save_again(answer)
    assert crm.logged == []


def test_a_fault_is_still_a_store_busy_for_what_keeps_the_values() -> None:
    """A save refused for a fault stores nothing, as one refused while the store is busy:
    whatever catches StoreBusy (a held save, `ccf wrapup`) keeps the values."""
    assert issubclass(StoreFault, StoreBusy)


@pytest.mark.parametrize("command", [
    ("wrapup", "w1", "--store", "URL", "-f", "reason=order", "-f", "resolved=yes"),
    ("calls", "show", "w1", "--store", "URL"),
])
def test_a_command_over_a_store_missing_a_column_says_to_mend_it(pg_url, pg_cluster,
                                                                  command) -> None:
    """`ccf wrapup --store` says what the desk says of a store that needs mending, and so does
    any command whose read of the store meets it (caught by no command: cli/store_unreadable):
    the reason and "must be mended first", exit 2 (a store it cannot use), never "save it
    again", never "internal error"."""
    from ccf_cli import ccf

    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
    pg_cluster.psql("ALTER TABLE wrapups DROP COLUMN entered", pg_url.rsplit("/", 1)[1])
    said = ccf(*(pg_url if arg == "URL" else arg for arg in command))
    assert said.exit_code == 2, said.output
    assert "Traceback" not in said.output
    assert "the call store must be mended first" in said.output, said.output
    assert "save it again" not in said.output and "internal error" not in said.output
