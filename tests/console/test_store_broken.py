"""The console over a call store that no retry mends (a table gone): the answer is 503 with the
store's reason and that it must be mended first (as the Reports page says it), never to try
again shortly, and the log has the traceback (a fault to look into, unlike a server that is
down: tests/console/test_store_down.py).

Real components: a SQLite store file with its `calls` table dropped, the console's real web
server."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from tests.console import rig as console_rig


@pytest.fixture
def console(tmp_path):
    console = console_rig.Console(tmp_path)
    yield console
    console.close()


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_store_missing_a_table_is_not_said_to_pass(console, tmp_path, caplog,
                                                     accept) -> None:
    client = console.client("sup")
    with sqlite3.connect(tmp_path / "calls.db") as db:
        db.execute("DROP TABLE calls")
    with caplog.at_level(logging.WARNING):
        answer = client.get("/history", headers={"accept": accept}, timeout=30)
    assert answer.status_code == 503, answer.text[:400]
    said = answer.json()["error"] if accept == "application/json" else answer.text
    assert "no such table" in said and "try again" not in said, said[:600]
    assert "the call store must be mended first" in said, said[:600]
    faults = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert faults and "no such table" in faults[0].getMessage()
