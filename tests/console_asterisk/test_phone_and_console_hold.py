"""The console's hold and the agent's phone's hold of one call, each its own: the real ccf serve
linked to the AMI double (the phone's Hold / Unhold as Asterisk 22 sends them, the console's
hold as MuteAudio and the music's ChanSpy). Whichever came first, the console's Resume ends the
console's hold only: the agent's desk reads "on hold (phone)" until the phone's Unhold."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from types import SimpleNamespace

import httpx
from asterisk.centre import WAIT_S, until

from ccdsl.runtime.operations.console_users import load_users, new_user, save_users
from tests.console_asterisk.served import PASSWORD, Rig
from tests.console_asterisk.test_phone_hold import AGENT_LEG, CALL, TRUNK, run

HTML = {"Accept": "text/html"}


@contextlib.asynccontextmanager
async def agent_desk(rig: Rig):
    """zhang logged in to this ccf serve's console (the users file the rig wrote, plus zhang)."""
    assert rig.served.ctx is not None and rig.live.control is not None
    # the flow's call on its FastAGI connection, as the console's control finds it (the rig's
    # call runs on the AMI double only; harness.py stands in the same way)
    rig.live.control.running = lambda call_id: (
        SimpleNamespace(info=SimpleNamespace(channel=TRUNK)) if call_id == CALL else None)
    for name in (TRUNK, AGENT_LEG):  # the call's channels in ccf serve's mirror of Asterisk
        rig.peer.emit({"Event": "Newchannel", "Privilege": "call,all",
                       **rig.peer.channels[name].fields()})
    await until(lambda: AGENT_LEG in rig.live.centre.channels, "the call's channels read")
    path = Path(rig.served.ctx.settings.users)
    users = load_users(path)
    users["zhang"] = new_user("zhang", "agent", PASSWORD, "Zhang Wei")
    save_users(path, users)
    async with httpx.AsyncClient(base_url=str(rig.web.base_url), timeout=WAIT_S) as web:
        ok = await web.post("/login", data={"user": "zhang", "password": PASSWORD})
        assert ok.status_code == 303, ok.text
        web.cookies.set("ccf_session", ok.cookies["ccf_session"])
        yield web


async def press(web: httpx.AsyncClient, action: str) -> httpx.Response:
    csrf = (await web.get("/me")).json()["csrf"]
    return await web.post(f"/desk/call/{CALL}/{action}", headers={"X-CSRF-Token": csrf})


async def state_text(web: httpx.AsyncClient) -> str:
    page = (await web.get("/desk", headers=HTML)).text
    start = page.index('<span id="state"')
    return page[page.index(">", start) + 1:page.index("</span>", start)]


def hold_rows(rig: Rig) -> list[dict]:
    rig.live.store.flush()
    return [json.loads(r["data"]) for r in rig.live.store.query(
        "SELECT data FROM centre_events WHERE kind = 'call_hold' ORDER BY id")]


def test_console_first_then_phone_resume_leaves_the_phones_hold(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        async with agent_desk(rig) as web:
            held = await press(web, "hold")
            assert held.status_code == 200, held.text
            assert held.json()["me"]["held_by"] == ["console"]
            assert rig.peer.muted.get(TRUNK) is True
            rig.peer.phone_hold(AGENT_LEG, True)
            await until(lambda: rig.status().holders == ("console", "phone"), "both hold")
            assert await state_text(web) == "on hold (console and phone)"
            resumed = await press(web, "resume")
            assert resumed.status_code == 200, resumed.text
            me = resumed.json()["me"]
            assert me["held"] is True and me["held_by"] == ["phone"]
            assert rig.peer.muted.get(TRUNK) is False  # the console's hold is off
            assert await state_text(web) == "on hold (phone)"
            # a second Resume is the console's no more: the phone must resume
            again = await press(web, "resume")
            assert again.status_code == 409 and "own phone holds" in again.json()["error"]
            rig.peer.phone_hold(AGENT_LEG, False)
            await until(lambda: not rig.status().held, "the phone's Unhold")
            assert await state_text(web) == "on call"
        # one hold of the caller, from the console's Hold to the phone's Unhold
        assert hold_rows(rig) == [{"agent": "zhang", "on": True},
                                  {"agent": "zhang", "on": False, "by": "phone"}]

    run(tmp_path, scenario)


def test_phone_first_then_console_hold_and_resume(tmp_path: Path) -> None:
    async def scenario(rig: Rig) -> None:
        async with agent_desk(rig) as web:
            rig.peer.phone_hold(AGENT_LEG, True)
            await until(lambda: rig.status().held, "the phone's hold")
            assert await state_text(web) == "on hold (phone)"
            held = await press(web, "hold")  # the console holds too: its own hold
            assert held.status_code == 200, held.text
            assert held.json()["me"]["held_by"] == ["console", "phone"]
            assert rig.peer.muted.get(TRUNK) is True
            rig.peer.phone_hold(AGENT_LEG, False)  # the phone resumes: the console still holds
            await until(lambda: rig.status().holders == ("console",), "the phone's Unhold")
            assert await state_text(web) == "on hold"
            resumed = await press(web, "resume")
            assert resumed.status_code == 200, resumed.text
            assert resumed.json()["me"]["held"] is False
            assert await state_text(web) == "on call"
        assert hold_rows(rig) == [{"agent": "zhang", "on": True, "by": "phone"},
                                  {"agent": "zhang", "on": False}]

    run(tmp_path, scenario)
