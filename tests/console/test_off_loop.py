"""The console reads the call store off the event loop: while a page waits for a PostgreSQL
store (another session holds `LOCK TABLE calls`), the same server still answers the rest.

Real components: a PostgreSQL store on the throwaway cluster, the console's real web server,
a second psycopg session holding the lock. Ordering, not timing: the other request is
answered while the page is still waiting, before the lock is released.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from ccdsl.runtime.operations.database import PASSWORD_ENV
from ccdsl.runtime.operations.store import CallStore
from tests.console import rig as console_rig

WAITING_FOR_LOCK = ("SELECT count(*) FROM pg_locks WHERE NOT granted "
                    "AND relation = 'calls'::regclass")


@pytest.fixture
def pg_console(tmp_path, pg_url, monkeypatch):
    monkeypatch.setattr(console_rig, "CallStore", lambda _path: CallStore(pg_url))
    console = console_rig.Console(tmp_path)
    yield console, pg_url
    console.close()


def wait_until_blocked(db, page: threading.Thread) -> None:
    """Until the console's read waits for the lock (a deadline only against a hang)."""
    deadline = time.monotonic() + 30
    while db.execute(WAITING_FOR_LOCK).fetchone()[0] == 0:
        assert page.is_alive(), "the page answered while the table was locked"
        assert time.monotonic() < deadline, "the page's read never reached the store"
        time.sleep(0.02)


# each reads the calls table: searches, a call's page (unknown: its own 404), the report, the
# wallboard's and the desk's figures of today, the wrap-up check, the API's call record
PAGES = [("/history", "sup", 200), ("/history?agent=zhang", "zhang", 200),
         ("/history/some-call", "sup", 404), ("/reports", "sup", 200), ("/wall", "sup", 200),
         ("/desk", "zhang", 200), ("/desk/wrapup/some-call", "zhang", 404),
         ("/calls/some-call", None, 404)]


@pytest.mark.parametrize("path, user, status", PAGES)
def test_a_page_waiting_for_the_store_holds_up_nothing_else(pg_console, path, user,
                                                            status) -> None:
    import psycopg

    console, url = pg_console
    reader = console.client(user)
    other = console.client("li")
    answered: dict[str, int] = {}
    page = threading.Thread(
        target=lambda: answered.setdefault("page", reader.get(path, timeout=60).status_code))
    with psycopg.connect(url, password=os.environ.get(PASSWORD_ENV)) as db:
        db.execute("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")  # in a transaction: held
        page.start()
        wait_until_blocked(db, page)
        me = other.get("/me")  # touches no store: answered while the page still waits
        assert me.status_code == 200 and me.json()["user"] == "li"
        assert page.is_alive() and "page" not in answered
        db.rollback()  # the lock goes: the page's read goes on
    page.join(60)
    assert answered["page"] == status
