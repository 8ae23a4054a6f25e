"""The console while its PostgreSQL store's server is down (stopped, restarted, the network
cut): a page or API answer that is the store's data says so, 503 and what to do (try again
shortly), on a page of the console's own for a browser and as JSON for the API; no 500, no
traceback in the log. The live pages (the desk, the wallboard) still work without the day's
figures. Once the server is back the same requests
answer as before.

Real components: a PostgreSQL store on the throwaway cluster, halted and started again, the
console's real web server."""

from __future__ import annotations

import logging
import time

import pytest

from ccdsl.runtime.operations.store import CallStore
from tests.console import rig as console_rig
from tests.console.test_off_loop import PAGES


def assert_answers_again(client, path: str, status: int) -> None:
    """Once the server is back the page answers as before: at once, or after the store's
    connection pool has connected again (its retries back off; a deadline only against a hang)."""
    deadline = time.monotonic() + 60
    while (answer := client.get(path, timeout=60)).status_code == 503:
        assert time.monotonic() < deadline, answer.text[:400]
        time.sleep(0.2)
    assert answer.status_code == status, answer.text[:400]


@pytest.fixture
def pg_console(tmp_path, pg_url, monkeypatch):
    monkeypatch.setattr(console_rig, "CallStore", lambda _path: CallStore(pg_url, wait_s=0.25))
    console = console_rig.Console(tmp_path)
    yield console
    console.close()


def asked_while_down(client, path: str, cluster, caplog):
    """The answer to GET `path` with the cluster halted (started again after, whatever
    happened), what was logged captured from warnings up."""
    cluster.halt()
    try:
        with caplog.at_level(logging.WARNING):
            return client.get(path, timeout=60)
    finally:
        cluster.start_again()


# the pages that go on without the store: the live ones
GO_ON = ("/wall", "/desk")


@pytest.mark.parametrize("path, user, status", [p for p in PAGES if p[0] not in GO_ON])
def test_a_page_while_the_store_is_down_answers_503_then_as_before(
        pg_console, pg_cluster, caplog, path, user, status) -> None:
    client = pg_console.client(user)
    down = asked_while_down(client, path, pg_cluster, caplog)
    assert down.status_code == 503, (down.status_code, down.text[:400])
    if down.headers["content-type"].startswith("application/json"):
        said = down.json()["error"]
    else:
        said = down.text
        assert "<h1" in said and "Internal Server Error" not in said
    assert "store" in said and "try again" in said, said[:600]
    assert "Traceback" not in caplog.text
    assert_answers_again(client, path, status)


@pytest.mark.parametrize("path, user, status", [p for p in PAGES if p[0] in GO_ON])
def test_the_live_pages_go_on_while_the_store_is_down(
        pg_console, pg_cluster, caplog, path, user, status) -> None:
    client = pg_console.client(user)
    down = asked_while_down(client, path, pg_cluster, caplog)
    assert down.status_code == 200, (down.status_code, down.text[:400])
    assert "<h1" in down.text
    assert "Traceback" not in caplog.text
    assert_answers_again(client, path, status)



def test_a_store_not_reached_is_one_line_in_the_report_error() -> None:
    # PostgreSQL's connection errors come on several lines ("... failed: Connection refused\n
    # Is the server running ..."): the Reports page's error line and `ccf report` show one
    import sqlite3

    from ccdsl.runtime.operations.reports import query

    def refused(*_args, **_kw):
        raise sqlite3.OperationalError("connection failed: refused\n\tIs the server running?")

    original = query.database.connect
    query.database.connect = refused
    try:
        with pytest.raises(query.StoreUnreachable) as down:
            query.open_store("postgresql://ccf@127.0.0.1:1/none")
    finally:
        query.database.connect = original
    assert str(down.value) == "connection failed: refused; Is the server running?"
