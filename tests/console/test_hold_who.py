"""Who holds a held caller, on the wallboard and the agents page: the console, the agent's
phone or both, in words after the hold's time, in the page and in the `wall` event the live
redraw reads (held_by). A phone's hold is resumed only on the phone, which is why it shows."""

from __future__ import annotations

import re

from tests.console.rig import read_live
from tests.console.test_wall import on_call

HTML = {"Accept": "text/html"}


def row_of(snapshot: dict, agent: str) -> dict:
    return next(a for a in snapshot["agents"] if a["id"] == agent)


def wall_row(web, until) -> dict:
    """zhang's row of the first `wall` event for which `until(row)` holds."""
    pairs = read_live(web, lambda seen: any(kind == "wall" and until(row_of(data, "zhang"))
                                            for kind, data in seen))
    return next(row_of(data, "zhang") for kind, data in pairs
                if kind == "wall" and until(row_of(data, "zhang")))


def state_cell(web, path: str) -> str:
    """The words of zhang's state cell on `path`, tags dropped."""
    row = re.search(r'<tr data-agent="zhang">.*?</tr>', web.get(path, headers=HTML).text,
                    re.S)[0]
    cell = re.search(r'<td class="[^"]*state[^"]*"[^>]*>(.*?)</td>', row, re.S)[1]
    return re.sub(r"<[^>]+>", "", cell)


def phone(console, on: bool) -> None:
    async def go():
        console.desk.phone_hold("zhang", on)
    console.run(go())


def test_the_wall_and_the_agents_page_say_who_holds_the_caller(console) -> None:
    on_call(console, "zhang", "live-1")
    sup = console.client("sup")
    console.run(console.desk.hold("zhang", "live-1", True))
    assert wall_row(sup, lambda r: r["held"])["held_by"] == ["console"]
    for path in ("/wall", "/agents"):
        assert re.fullmatch(r"on hold \(\d+:\d\d\) by the console", state_cell(sup, path)), path

    phone(console, True)  # the agent's phone holds too
    assert wall_row(sup, lambda r: "phone" in r["held_by"])["held_by"] == ["console", "phone"]
    for path in ("/wall", "/agents"):
        assert state_cell(sup, path).endswith(") by the console and the phone"), path

    # the console's Resume leaves the phone's hold: the supervisor reads that only the
    # phone can take the caller off hold now
    console.run(console.desk.hold("zhang", "live-1", False))
    row = wall_row(sup, lambda r: r["held_by"] == ["phone"])
    assert row["held"] and row["held_seconds"] is not None
    for path in ("/wall", "/agents"):
        assert re.fullmatch(r"on hold \(\d+:\d\d\) by the phone", state_cell(sup, path)), path

    phone(console, False)
    row = wall_row(sup, lambda r: not r["held"])
    assert row["held_by"] == [] and row["state"] == "on_call"
    for path in ("/wall", "/agents"):
        cell = state_cell(sup, path)
        assert cell.startswith("on call (") and "hold" not in cell, (path, cell)


def test_an_agent_not_on_a_call_is_held_by_no_one(console) -> None:
    async def go():
        await console.desk.login("li")
    console.run(go())
    sup = console.client("sup")
    pairs = read_live(sup, lambda seen: any(kind == "wall" for kind, _ in seen))
    snapshot = next(data for kind, data in pairs if kind == "wall")
    li = next(a for a in snapshot["agents"] if a["id"] == "li")
    assert li["held"] is False and li["held_by"] == []
