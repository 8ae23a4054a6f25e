"""`ccf serve --simulate`: a wrap-up saved while its call still runs waits for the call's end and
is then stored, as ccf serve on Asterisk stores it; one still waiting when the console stops is
stored by the stop."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from ccdsl.runtime.operations import store_wrapups
from ccdsl.runtime.sim import ScriptedCaller
from ccdsl.runtime.sim.script import parse_press
from tests.console.rig import read_live
from tests.console.sim_console import CUSTOMER, SimConsole, sim_console


def _talking(sim: SimConsole) -> str:
    """A call placed, offered to ann and answered: its id."""
    call_id = sim.run(_place(sim))
    read_live(sim.web, lambda seen: any(k == "pop" for k, _ in seen))
    assert sim.web.post(f"/desk/call/{call_id}/answer", headers=sim.headers).json()["ok"]
    return call_id


async def _place(sim: SimConsole) -> str:
    return sim.console.centre.place_call("live", CUSTOMER, ScriptedCaller(parse_press("1")))


def _saved_while_talking(sim: SimConsole, call_id: str) -> None:
    saved = sim.web.post(f"/desk/wrapup/{call_id}", headers=sim.headers,
                         data={"f.reason": "held then stored"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["stored"] == "when the call ends"


def _values(sim: SimConsole, call_id: str) -> list:
    record = sim.store.call(call_id) or {}
    return [(w.get("agent"), w.get("values")) for w in record.get("wrapups") or ()]


def test_a_wrapup_saved_during_the_call_is_stored_when_it_ends(tmp_path: Path) -> None:
    with sim_console(tmp_path) as sim:
        call_id = _talking(sim)
        _saved_while_talking(sim, call_id)
        assert sim.web.post(f"/desk/call/{call_id}/hangup", headers=sim.headers).json()["ok"]
        deadline = time.monotonic() + 10
        while _values(sim, call_id) != [("ann", {"reason": "held then stored"})]:
            assert time.monotonic() < deadline, _values(sim, call_id)
            time.sleep(0.05)
    sim.store.close()


def test_a_wrapup_still_held_when_the_console_stops_is_stored(tmp_path: Path) -> None:
    with sim_console(tmp_path) as sim:
        call_id = _talking(sim)
        _saved_while_talking(sim, call_id)
    # the stop ended the call (hung up by the centre) and stored what waited for its end
    assert _values(sim, call_id) == [("ann", {"reason": "held then stored"})]
    sim.store.close()


def test_a_held_wrapup_given_up_waits_on_the_agents_desk_again(tmp_path: Path,
                                                              monkeypatch) -> None:
    """As on ccf serve (service.py): a held save the store keeps refusing is given up and its
    form handed back to the agent's desk, to be saved again; the desk does not lose it."""
    monkeypatch.setattr(store_wrapups, "CLAIM_WAIT_S", 0.2)
    with sim_console(tmp_path) as sim:
        held = sim.console._held.desk
        held.held_tries = 1  # one refused try, then given up
        call_id = _talking(sim)
        _saved_while_talking(sim, call_id)
        desk = sim.console.ctx.desk
        assert desk.status("ann").wrapups == ()  # taken as saved
        sim.store.flush()
        lock = sqlite3.connect(tmp_path / "calls.db", isolation_level=None)
        try:
            lock.execute("BEGIN IMMEDIATE")
            sim.run(held.call_ended(call_id))
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        assert desk.status("ann").wrapups == (call_id,)
    sim.store.close()
