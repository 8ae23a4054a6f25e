"""Wrap-ups held for a running call's end (saved while the call ran) are stored each on its own
when the call ends: one agent's stuck save (its row locked by another writer, or its CRM log
hanging) holds up no other agent's of the same call (a transferred call has two). A save the
store keeps refusing ends after its tries: nothing stored, nothing logged, and the form waits on
the agent's desk again (the store still has it unsaved), to be saved again, once. Stopping the
desk (`ccf serve` stopping) ends a save still retrying the same way; the form is in the store,
unsaved, for the desk rebuilt at the next start. Before, call_ended stored the agents' wrap-ups
one after another and retried a locked one for ever. Real locks of another connection, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations import store_wrapups
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.store_wrapups import waiting, waiting_all
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import FORM, store_call, wrapping_up
from tests.desk_fixes.test_wrapup_once import end_call
from tests.store_faults.rig import WAIT_S, Locker, until

FAST = {"retry_s": (0.01, 0.05)}  # the waits between a held save's tries, for the tests
BODY = {"fields": {"reason": "order", "resolved": "yes"}}


@pytest.fixture(autouse=True)
def _short_store_waits(monkeypatch):
    # a save waits this long for another writer's lock before it is refused (10 s in service)
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.3)


class Crm:
    """log_call kept; an agent named in `gates` is held at its gate until it is opened."""

    def __init__(self, gates: dict[str, asyncio.Event] | None = None) -> None:
        self.logged: list[dict] = []
        self.gates = gates or {}

    async def log_call(self, entry) -> None:
        gate = self.gates.get(entry["agent"])
        if gate is not None:
            await gate.wait()
        self.logged.append(entry)


def wrapups_lock(target: str, agent: str | None = None) -> Locker:
    """Another connection's open transaction holding the lock a save of the wrap-ups needs:
    SQLite's write lock of the file; on PostgreSQL a row lock on the wrapups rows of `agent`,
    or the whole table's (writers wait, readers do not)."""
    if agent is None:
        return Locker(target, tables="wrapups")
    return Locker(target, tables="wrapups", rows=("agent = %s", (agent,)))


def running_transfer(store: CallStore, call_id: str = "t1") -> None:
    """A call zhang answered and transferred to li, whose talk ended too: both were asked for
    the form; the caller is still on the line (a survey)."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    names = [f["name"] for f in FORM]
    kinds = [("call_started", {"caller": "+8613800000007", "flow": "hotline"})]
    for agent in ("zhang", "li"):
        kinds += [("agent_offered", {"agent": agent, "via": "queue", "queue": "service"}),
                  ("agent_answered", {"agent": agent, "ring_ms": 2000}),
                  ("conversation_ended", {"agent": agent, "talk_ms": 30_000, "wrapup": True}),
                  ("wrapup_requested", {"agent": agent, "fields": names, "form": FORM})]
    for seq, (kind, data) in enumerate(kinds, 1):
        store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))
    store.flush()


def end(store: CallStore, call_id: str = "t1") -> None:
    for seq, kind in ((10, "hangup"), (11, "call_ended")):
        data = {"by": "caller"} if kind == "hangup" else {"outcome": "hangup"}
        store.emit(Event(call_id, seq, datetime.now(UTC), kind, data))
    store.flush()


def saved(store: CallStore, call_id: str) -> dict:
    return {w["agent"]: w["values"] for w in store.call(call_id)["wrapups"]
            if w["values"] is not None}


async def hold_both(store: CallStore, crm: Crm, **kw) -> WrapupDesk:
    live = {"t1": True}
    desk = WrapupDesk(store, crm, None, running=lambda call_id: live[call_id], **FAST, **kw)
    for agent, reason in (("zhang", "order"), ("li", "refund")):
        taken = await desk.submit("t1", {"agent": agent,
                                         "fields": {"reason": reason, "resolved": "yes"}})
        assert taken.status == 200 and taken.body["stored"] == "when the call ends", taken
    live["t1"] = False
    return desk


def test_a_locked_row_of_one_agent_holds_up_no_other_agents_save(pg_url) -> None:
    """zhang's row is locked by another connection: li's wrap-up of the call is stored and
    logged meanwhile; zhang's once the lock is gone, each once."""
    crm = Crm()

    async def main(store: CallStore) -> None:
        desk = await hold_both(store, crm)
        end(store)
        with wrapups_lock(pg_url, "zhang"):
            ending = asyncio.ensure_future(desk.call_ended("t1"))
            await until(lambda: [e["agent"] for e in crm.logged] == ["li"], "li's logged")
            assert "zhang" not in saved(store, "t1") and not ending.done()
        await asyncio.wait_for(ending, WAIT_S)

    with CallStore(pg_url, wait_s=0.25) as store:
        running_transfer(store)
        asyncio.run(main(store))
        assert saved(store, "t1") == {"zhang": {"reason": "order", "resolved": True},
                                      "li": {"reason": "refund", "resolved": True}}
    assert sorted(e["agent"] for e in crm.logged) == ["li", "zhang"]


def test_a_hanging_crm_log_of_one_agent_holds_up_no_other_agents_save(store_target) -> None:
    gate = asyncio.Event()
    crm = Crm({"zhang": gate})

    async def main(store: CallStore) -> None:
        desk = await hold_both(store, crm)
        end(store)
        ending = asyncio.ensure_future(desk.call_ended("t1"))
        await until(lambda: [e["agent"] for e in crm.logged] == ["li"], "li's logged")
        assert not ending.done()
        gate.set()
        await asyncio.wait_for(ending, WAIT_S)

    with CallStore(store_target, wait_s=0.25) as store:
        running_transfer(store)
        asyncio.run(main(store))
    assert sorted(e["agent"] for e in crm.logged) == ["li", "zhang"]


def test_a_save_the_store_keeps_refusing_ends_and_its_form_waits_again(store_target,
                                                                       caplog) -> None:
    """The store stays locked through every try: the held save ends (no endless retry),
    stores nothing and logs nothing, and hands the form back to the agent's desk; once
    the store is free the agent saves it again, stored and logged once."""
    crm = Crm()
    back: list[tuple[str, str | None]] = []

    async def main(store: CallStore):
        desk = await hold_both(store, crm, held_tries=3,
                               on_unsaved=lambda agent, call_id: back.append((call_id, agent)))
        end(store)
        with wrapups_lock(store_target):
            await asyncio.wait_for(desk.call_ended("t1"), WAIT_S)
            assert crm.logged == [] and not desk.saving and not desk.pending
        again = await desk.submit("t1", {"agent": "zhang", **BODY})
        return again

    with CallStore(store_target, wait_s=0.25) as store, \
            caplog.at_level(logging.WARNING, logger="ccdsl.wrapup"):
        running_transfer(store)
        again = asyncio.run(main(store))
        now_ms = int(time.time() * 1000)
        assert again.status == 200 and again.body["stored"] == "now", again
        assert saved(store, "t1") == {"zhang": {"reason": "order", "resolved": True}}
        assert waiting(store, "li", now_ms, limit=50).unsaved == ("t1",)  # li's still waits
    assert sorted(back) == [("t1", "li"), ("t1", "zhang")]
    assert [e["agent"] for e in crm.logged] == ["zhang"]
    said = [r.getMessage() for r in caplog.records if r.name == "ccdsl.wrapup"]
    assert any("wrap-up of call t1 by zhang not saved after 3 tries: the call store is busy"
               in s and "waits on the agent's desk again" in s for s in said), said


def test_stopping_ends_a_save_still_retrying_and_the_store_keeps_the_form(store_target,
                                                                          caplog) -> None:
    crm = Crm()
    back: list[tuple[str, str | None]] = []
    tries: list[str] = []

    def counted(*args, **kwargs):
        tries.append(args[1])
        return store_wrapups.claim(*args, **kwargs)

    async def main(store: CallStore) -> None:
        desk = await hold_both(store, crm, held_tries=1000,
                               on_unsaved=lambda agent, call_id: back.append((call_id, agent)))
        end(store)
        with wrapups_lock(store_target):
            ending = asyncio.ensure_future(desk.call_ended("t1"))
            await until(lambda: len(tries) >= 4, "each save refused twice")
            desk.stop()
            await asyncio.wait_for(ending, WAIT_S)
            assert not desk.saving and not desk.pending

    with pytest.MonkeyPatch.context() as patch, \
            caplog.at_level(logging.WARNING, logger="ccdsl.wrapup"):
        from ccdsl.runtime.operations import wrapup

        patch.setattr(wrapup, "claim", counted)
        with CallStore(store_target, wait_s=0.25) as store:
            running_transfer(store)
            asyncio.run(main(store))
    assert crm.logged == []
    assert sorted(back) == [("t1", "li"), ("t1", "zhang")]
    said = [r.getMessage() for r in caplog.records if r.name == "ccdsl.wrapup"]
    assert any("wrap-up of call t1 by li not saved: stopping while the call store is busy"
               in s for s in said), said
    # what the desk rebuilt at the next start reads: each agent's form, unsaved
    with CallStore(store_target) as store:
        found = waiting_all(store, int(time.time() * 1000), limit=50)
        assert saved(store, "t1") == {}
    assert found == {"zhang": ("t1",), "li": ("t1",)}


def test_the_form_given_back_is_on_the_agents_desk_again(console) -> None:
    crm = Crm()
    live = {"w1": True}
    desk = WrapupDesk(console.store, crm, None, running=lambda call_id: live[call_id],
                      held_tries=2, on_unsaved=console.desk.wrapup_unsaved, **FAST)

    async def submit(call_id, body):
        outcome = await desk.submit(call_id, body)
        return outcome.status, outcome.body

    console.ctx.wrapup = submit
    store_call(console, "w1", ended=False)
    wrapping_up(console, "w1")
    web = console.client("zhang")
    taken = console.post(web, "/desk/wrapup/w1", **{"f.reason": "order", "f.resolved": "yes"})
    assert taken.status_code == 200 and taken.json()["me"]["wrapups"] == [], taken.text
    live["w1"] = False
    end_call(console, "w1")
    with wrapups_lock(str(console.store.path)):
        console.run(desk.call_ended("w1"), timeout=WAIT_S)
    assert console.desk.status("zhang").wrapups == ("w1",)
    again = console.post(web, "/desk/wrapup/w1", **{"f.reason": "order", "f.resolved": "yes"})
    assert again.status_code == 200 and again.json()["me"]["wrapups"] == [], again.text
    assert len(crm.logged) == 1
    assert console.store.call("w1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
