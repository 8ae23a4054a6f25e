"""The console over a PostgreSQL store whose server refuses its login (the role's password changed
under a running console): no wait mends it, so the answer is 503 saying what is wrong, with no "try
again" and never the password, logged on one line as an error (configuration, not a bug: no
traceback). Once the password is mended the same page answers as before.

Real components: a PostgreSQL store on the throwaway cluster, the console's real web server."""

from __future__ import annotations

import logging

from ccdsl.runtime.operations import database
from tests import pg_cluster as pg
from tests.console.test_store_down import assert_answers_again, pg_console  # noqa: F401

WRONG = "not-the-password-4711"


def test_a_store_refusing_the_login_says_so_without_try_again(pg_console, pg_cluster,  # noqa: F811
                                                               pg_url, caplog,
                                                               monkeypatch) -> None:
    monkeypatch.setattr(database, "POOL_WAIT_S", 1.0)
    client = pg_console.client("sup")
    name = pg_url.rsplit("/", 1)[1]
    pg_cluster.psql(f"ALTER ROLE {pg.USER} PASSWORD '{WRONG}'")
    try:
        pg_cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        f"WHERE datname = '{name}'")
        with caplog.at_level(logging.WARNING):
            answer = client.get("/history", headers={"accept": "application/json"},
                                timeout=60)
    finally:
        pg_cluster.psql(f"ALTER ROLE {pg.USER} PASSWORD '{pg.PASSWORD}'")
    said = answer.json()["error"]
    assert answer.status_code == 503, said
    assert said.startswith("the call store cannot be read (the PostgreSQL server refuses the "
                           "store's login: a wrong password (set in CCF_STORE_PASSWORD) or no "
                           "such role: "), said
    assert said.endswith("; the call store must be mended first (its administrator: "
                         "docs/store.md)"), said
    assert "try again" not in said and WRONG not in said and pg.PASSWORD not in said
    errors = [r for r in caplog.records if r.name == "ccdsl.runtime.console.refusals"]
    assert errors and errors[-1].levelno == logging.ERROR and not errors[-1].exc_info
    assert_answers_again(client, "/history", 200)


def test_reports_over_a_store_refusing_the_login_say_so_without_try_again(
        pg_console, pg_cluster, pg_url, monkeypatch) -> None:  # noqa: F811
    # the Reports page opens the store afresh (reports/query.py), not through the console's
    # pool: its refused login must be told apart there too
    monkeypatch.setattr(database, "POOL_WAIT_S", 1.0)
    client = pg_console.client("sup")
    pg_cluster.psql(f"ALTER ROLE {pg.USER} PASSWORD '{WRONG}'")
    try:
        answer = client.get("/reports", timeout=60)
    finally:
        pg_cluster.psql(f"ALTER ROLE {pg.USER} PASSWORD '{pg.PASSWORD}'")
    assert answer.status_code == 503, answer.text[:400]
    said = answer.text
    assert "refuses the store&#39;s login" in said or "refuses the store's login" in said, \
        said[:2000]
    assert "must be mended first" in said
    assert "try again" not in said and WRONG not in said and pg.PASSWORD not in said
    assert_answers_again(client, "/reports", 200)
