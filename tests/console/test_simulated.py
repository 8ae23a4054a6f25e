"""The console over the simulated centre (`ccf serve --simulate`), end to end over HTTP: a person
logged in as an agent is offered a call, sees the pop with the CRM record and the IVR path,
answers, reads a text to the caller, hangs up and wraps up; the call and the states are stored."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ccdsl.runtime.sim import ScriptedCaller
from ccdsl.runtime.sim.script import parse_press
from tests.console.rig import read_live
from tests.console.sim_console import CUSTOMER, sim_console


def test_a_person_takes_a_simulated_call_from_pop_to_wrap_up(tmp_path: Path) -> None:
    with sim_console(tmp_path) as sim:
        console, store, web, headers, run = sim.console, sim.store, sim.web, sim.headers, sim.run

        async def call():
            return console.centre.place_call("live", CUSTOMER,
                                             ScriptedCaller(parse_press("1")))
        call_id = run(call())
        events = read_live(web, lambda seen: any(k == "pop" for k, _ in seen))
        pop = next(d for k, d in events if k == "pop")
        assert pop["call"]["id"] == call_id and pop["call"]["caller"] == CUSTOMER
        assert pop["customer"]["id"] == "C1"
        # the caller's path: the menu of `on start`, key 1, then the step that queued
        assert pop["call"]["path"] == [{"menu": "on start", "key": "1"}, {"step": "talk"}]
        page = web.get("/desk").text
        assert "Chen &lt;b&gt;VIP&lt;/b&gt;" in page and "<b>VIP</b>" not in page

        assert web.post(f"/desk/call/{call_id}/answer", headers=headers).json()["ok"]
        read = web.post(f"/desk/call/{call_id}/read", headers=headers,
                        data={"text": "Your order shipped", "language": "en-US"})
        assert read.json()["ok"], read.text
        assert web.post(f"/desk/call/{call_id}/hangup", headers=headers).json()["ok"]
        deadline = time.monotonic() + 10
        while store.call(call_id) is None or web.get("/desk/summary").json()["me"]["state"] \
                != "wrapup":
            assert time.monotonic() < deadline, web.get("/desk/summary").json()
            time.sleep(0.05)
        saved = web.post(f"/desk/wrapup/{call_id}", headers=headers,
                         data={"f.reason": "order status"})
        assert saved.json()["ok"], saved.text
        assert web.get("/desk/summary").json()["me"]["state"] == "ready"
    record = store.call(call_id)
    assert record["agent"] == "ann"
    assert record["wrapup"]["values"] == {"reason": "order status"}, record["wrapup"]
    said = [e for e in store.events(call_id) if e["kind"] == "prompt_played"
            and "Your order shipped" in json.dumps(e["data"])]
    assert said, "the text read to the caller is in the call's events"
    rows = store.query("SELECT at_ms, data FROM centre_events WHERE kind = 'agent_state' "
                       "ORDER BY at_ms, rowid")
    states = [json.loads(row["data"]) for row in rows]
    # stamped on the centre's clock, as the call's events are (a report puts them together)
    [span] = store.query("SELECT min(at_ms) AS first, max(at_ms) AS last FROM events "
                         "WHERE call_id = ?", (call_id,))
    ringing, on_call = rows[0]["at_ms"], rows[1]["at_ms"]
    assert span["first"] <= ringing <= on_call <= span["last"], (dict(span), ringing, on_call)
    store.close()
    assert [s["state"] for s in states if s["agent"] == "ann"] == [
        "ringing", "on_call", "wrapup", "ready"]
