"""A call's wrap-up is saved once: a second save (a double click, another tab, a later
re-post) is refused with 409, so the CRM gets one log_call and the saved values stay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.centre_control import ControlError
from ccdsl.runtime.operations.store import CallStore
from ccdsl.runtime.operations.wrapup import WrapupDesk
from tests.console.desk_calls import store_call, wrapping_up
from tests.store_faults.rig import Locker


class Crm:
    """log_call kept; `gate` (when set) holds each log until it is opened."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.logged: list[dict] = []
        self.gate = gate
        self.entered = 0  # log_calls begun, held at the gate or not

    async def log_call(self, entry) -> None:
        self.entered += 1
        if self.gate is not None:
            await self.gate.wait()
        self.logged.append(entry)


def wire(console, crm: Crm) -> WrapupDesk:
    desk = WrapupDesk(console.store, crm, None)

    async def submit(call_id, body):
        outcome = await desk.submit(call_id, body)
        return outcome.status, outcome.body

    console.ctx.wrapup = submit
    return desk


def end_call(console, call_id: str) -> None:
    """The caller hangs up a call store_call(ended=False) left running."""
    for seq, kind in ((6, "hangup"), (7, "call_ended")):
        data = {"by": "caller"} if kind == "hangup" else {"outcome": "hangup"}
        console.store.emit(Event(call_id, seq, datetime.now(UTC), kind, data))
    console.store.flush()


def test_a_second_save_is_refused_and_the_first_values_stay(console) -> None:
    crm = Crm()
    wire(console, crm)
    store_call(console, "w1")
    web = console.client("zhang")
    wrapping_up(console, "w1")
    first = console.post(web, "/desk/wrapup/w1", **{"f.reason": "order", "f.resolved": "yes"})
    assert first.status_code == 200, first.text
    again = console.post(web, "/desk/wrapup/w1", **{"f.reason": "changed", "f.resolved": "no"})
    assert again.status_code == 409, again.text
    assert "already saved" in again.json()["error"]
    assert again.json()["me"]["wrapups"] == []  # its form waits no more
    assert console.store.call("w1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
    assert len(crm.logged) == 1


def test_two_saves_at_once_write_the_crm_once(console) -> None:
    async def main():
        crm = Crm(asyncio.Event())
        desk = WrapupDesk(console.store, crm, None)
        body = {"agent": "zhang", "fields": {"reason": "order", "resolved": "yes"}}
        first = asyncio.ensure_future(desk.submit("w1", body))
        while not first.done() and not crm.gate.is_set():
            await asyncio.sleep(0.01)
            if desk.saving:  # the first is in the CRM's log_call now
                break
        second = await desk.submit("w1", body)
        crm.gate.set()
        return await first, second, crm.logged

    store_call(console, "w1")
    first, second, logged = console.run(main())
    assert first.status == 200 and second.status == 409, (first, second)
    assert "being saved" in second.body["error"]
    assert len(logged) == 1


def test_a_saved_wrap_up_is_refused_over_the_api_too(console) -> None:
    async def main():
        desk = WrapupDesk(console.store, None, None, running=lambda call_id: True)
        body = {"fields": {"reason": "order", "resolved": "yes"}}
        return await desk.submit("w1", body), await desk.submit("w1", body)

    store_call(console, "w1", ended=False)
    taken, again = console.run(main())
    assert taken.status == 200 and taken.body["stored"] == "when the call ends"
    assert again.status == 409 and "already saved" in again.body["error"]



def test_a_save_while_the_ended_call_is_being_stored_is_refused(tmp_path) -> None:
    """call_ended stores the wrap-up that waited; a re-post while it is being stored is
    refused. It got through when the store's writer had not written the wrap-up yet
    (another process held the file's lock): the CRM logged twice, the values were
    overwritten. Now the store decides first: call_ended waits out the lock before the CRM
    hears of it. The store reads as `ccf serve`'s does (wait_s: memory reads do not wait)."""
    store = CallStore(tmp_path / "calls.db", wait_s=0.25)
    rig = SimpleNamespace(store=store)

    async def main():
        crm = Crm(asyncio.Event())
        live = {"w1": True}
        desk = WrapupDesk(store, crm, None, running=lambda call_id: live[call_id])
        first = await desk.submit("w1", {"agent": "zhang",
                                         "fields": {"reason": "order", "resolved": "yes"}})
        live["w1"] = False
        end_call(rig, "w1")
        with Locker(tmp_path / "calls.db"):  # the store waits: the wrap-up is not stored yet
            ending = asyncio.ensure_future(desk.call_ended("w1"))  # storing it: saving
            while not ending.done() and ("w1", "zhang") not in desk.saving:
                await asyncio.sleep(0.01)
            again = await desk.submit(
                "w1", {"agent": "zhang", "fields": {"reason": "changed", "resolved": "no"}})
            assert not crm.entered  # nothing logged before the store took it
        crm.gate.set()
        await ending
        return first, again, crm.logged, desk.saving

    try:
        store_call(rig, "w1", ended=False)
        first, again, logged, saving = asyncio.run(main())
        assert first.status == 200 and first.body["stored"] == "when the call ends"
        assert again.status == 409, again
        assert len(logged) == 1
        assert store.call("w1")["wrapup"]["values"] == {"reason": "order", "resolved": True}
        assert not saving
    finally:
        store.close()


def test_a_save_refused_as_saved_clears_the_form_though_the_centre_fails(console) -> None:
    """Saved over the API first; the desk's save then gets the 409 with the desk's state,
    so the form clears, though the phone system refuses to take the agent off pause (the
    same warning as a first save's: it was a 503 and the form stayed)."""
    desk = wire(console, Crm())
    store_call(console, "w1")
    wrapping_up(console, "w1")
    taken = console.run(desk.submit("w1", {"agent": "zhang",
                                           "fields": {"reason": "order", "resolved": "yes"}}))
    assert taken.status == 200
    console.control.refuse["agent_pause"] = ControlError("the phone system is down", 503)
    again = console.post(console.client("zhang"), "/desk/wrapup/w1",
                 **{"f.reason": "changed", "f.resolved": "no"})
    assert again.status_code == 409, again.text
    assert again.json()["me"]["wrapups"] == []
    assert again.json()["ready"] is False and "phone system is down" in again.json()["warning"]
    page = console.client("zhang").get("/desk").text  # a reload asks for no saved form
    assert '<span id="wrapup-of"></span>' in page


def test_a_save_is_one_change_of_the_agent_on_the_live_feed(console) -> None:
    """Saving the form of the call wrapped up now: the agent is ready and the form no longer
    waits, in one change (pages saw a 'wrap-up, no form' state between two)."""
    seen = []
    console.feed.listen(lambda change: seen.append(change))
    wire(console, Crm())
    store_call(console, "w1")
    web = console.client("zhang")
    wrapping_up(console, "w1")
    seen.clear()
    saved = console.post(web, "/desk/wrapup/w1", **{"f.reason": "order", "f.resolved": "yes"})
    assert saved.status_code == 200, saved.text
    changes = [c.data for c in seen if c.kind == "agent" and c.data.get("agent") == "zhang"]
    assert [(c["state"], c["wrapups"]) for c in changes] == [("ready", [])]
