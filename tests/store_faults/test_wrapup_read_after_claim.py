"""PostgreSQL only: the server gone in the instant after a wrap-up's values were claimed (stored),
before the call's record was read for the CRM's entry. The answer says the values were saved (200,
never "not saved; save it again"), and that the CRM is not told yet; the entry is not lost: it is
told once the store can be read again (tried again with doubling waits, as a held save is), or, at
a stop while the server is still gone, said as not told in the log and in the `wrapup_stored` note.

Real components: a PostgreSQL store on the throwaway cluster, halted by a hook right after the
real claim committed (the read after it then fails for real); the desk and its held saves."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from ccdsl.runtime.operations import store_wrapups, wrapup
from ccdsl.runtime.operations.held_wrapups import HeldSaves
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_errors import passing
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import store_call
from tests.desk_fixes.test_wrapup_once import Crm

BODY = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}
FAST = {"retry_s": (0.05, 0.4)}


@pytest.fixture
def halted_after_claim(monkeypatch, pg_cluster):
    """The server halted right after each successful claim (the values committed)."""
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.5)
    real = wrapup.claim
    halted = []

    def claim_then_halt(*args, **kw):
        taken = real(*args, **kw)
        if taken:
            pg_cluster.halt()
            halted.append(True)
        return taken

    def start_again():
        if halted:
            halted.clear()
            pg_cluster.start_again()

    monkeypatch.setattr(wrapup, "claim", claim_then_halt)
    yield start_again
    start_again()  # whatever the test came to: the next test's server runs


@contextmanager
def _desk_on(pg_url):
    """The store with call w1 in it, and the desk (with its held saves) telling a recording CRM."""
    crm = Crm()
    with CallStore(pg_url, wait_s=0.25) as store:
        store_call(SimpleNamespace(store=store), "w1")
        store.flush()
        desk = WrapupDesk(store, crm, None, **FAST)
        yield SimpleNamespace(store=store, crm=crm, desk=desk, held=HeldSaves(desk))


def _notes(store) -> list[dict]:
    """The wrap-up notes, read once the store reads again after the server came back (its
    pool may still be waiting out the backoff of its failed connects: a passing error, to be
    tried again; a deadline only against a hang)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            rows = store.query("SELECT data FROM centre_events WHERE kind = 'wrapup_stored' "
                               "ORDER BY id")
        except sqlite3.OperationalError as exc:
            assert passing(exc) and time.monotonic() < deadline, exc
            time.sleep(0.2)
            continue
        return [json.loads(r["data"]) for r in rows]


def test_postgresql_values_saved_then_the_server_gone_are_said_saved_and_told_later(
        pg_url, pg_cluster, halted_after_claim) -> None:
    with _desk_on(pg_url) as on:
        store, crm, desk, held = on.store, on.crm, on.desk, on.held

        async def scenario():
            answer = await desk.submit("w1", BODY)
            untold = list(crm.logged)
            await asyncio.to_thread(halted_after_claim)
            # told once the store is read again: a deadline only against a hang
            await asyncio.wait_for(asyncio.gather(*held.tasks, *desk.telling), 60)
            again = await desk.submit("w1", BODY)
            return answer, untold, again

        answer, untold, again = asyncio.run(scenario())
        store.flush()
        notes = _notes(store)
        stored = store.call("w1")["wrapup"]["values"]
    assert answer.status == 200, answer
    assert answer.body["stored"] == "now"
    said = answer.body["crm"]
    assert said.startswith("not told yet: the call store could not be read after the values "
                           "were stored ("), said
    assert said.endswith("); told once it can be read"), said
    assert "save it again" not in said
    assert untold == []  # not told while the store could not be read
    assert stored == {"reason": "order", "resolved": True}
    assert len(crm.logged) == 1  # told once, from the call's record
    entry = crm.logged[0]
    assert entry["call_id"] == "w1" and entry["caller"] == "+8613800000001"
    assert entry["wrapup"] == {"reason": "order", "resolved": True}
    assert again.status == 409, again  # the values were saved: a second save is refused
    assert [n["crm"] for n in notes] == ["logged"]


def test_postgresql_an_untold_entry_at_a_stop_is_said_not_told(
        pg_url, pg_cluster, halted_after_claim, caplog) -> None:
    with _desk_on(pg_url) as on:
        store, crm, desk, held = on.store, on.crm, on.desk, on.held

        async def scenario():
            answer = await desk.submit("w1", BODY)
            await held.stop()  # ccf serve stopping, the server still gone
            return answer

        try:
            with caplog.at_level(logging.WARNING, logger="ccdsl.wrapup"):
                answer = asyncio.run(scenario())
        finally:
            halted_after_claim()
        store.flush()
        notes = _notes(store)
    assert answer.status == 200 and answer.body["stored"] == "now", answer
    assert crm.logged == []
    said = [r.getMessage() for r in caplog.records if r.name == "ccdsl.wrapup"]
    assert any(line.startswith("wrap-up of call w1 by zhang stored, but the CRM was not told "
                               "of it: stopping while the call store could not be read")
               for line in said), said
    assert len(notes) == 1 and notes[0]["crm"].startswith(
        "failed: not told: stopping while the call store could not be read"), notes
