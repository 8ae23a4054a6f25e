"""Hold on the wallboard: an agent whose caller is on hold shows "on hold (m:ss)", the time
since the hold began (not since the call was answered), on the page and in the live events."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.console.rig import read_live
from tests.console.test_wall import on_call

HTML = {"Accept": "text/html"}


def wall_events(web, until):
    pairs = read_live(web, lambda seen: any(kind == "wall" and until(data)
                                            for kind, data in seen))
    return [data for kind, data in pairs if kind == "wall" and until(data)][-1]


def row_of(snapshot: dict, agent: str) -> dict:
    return next(a for a in snapshot["agents"] if a["id"] == agent)


def test_an_agent_on_hold_shows_on_hold_with_the_holds_time(console) -> None:
    on_call(console, "zhang", "live-1")
    console.run(console.desk.hold("zhang", "live-1", True))
    sup = console.client("sup")
    held = row_of(wall_events(sup, lambda d: row_of(d, "zhang")["held"]), "zhang")
    assert held["state"] == "on_call" and held["held_seconds"] is not None
    assert 0 <= held["held_seconds"] <= held["seconds"]
    page = sup.get("/wall", headers=HTML).text
    row = re.search(r'<tr data-agent="zhang">.*?</tr>', page, re.S)[0]
    assert re.search(r"on hold \(\d+:\d\d\)", row), row
    assert "on call" not in row

    console.run(console.desk.hold("zhang", "live-1", False))
    back = row_of(wall_events(sup, lambda d: not row_of(d, "zhang")["held"]), "zhang")
    assert back["held_seconds"] is None
    row = re.search(r'<tr data-agent="zhang">.*?</tr>', sup.get("/wall", headers=HTML).text,
                    re.S)[0]
    assert "on call (" in row and "on hold" not in row


def test_a_hold_is_timed_from_when_the_desk_held_it_on_both_pages(console) -> None:
    """The desk keeps when the hold began (AgentStatus.held_since); the wallboard and the
    agents page read the same time."""
    on_call(console, "zhang", "live-2")
    real = console.desk.now
    console.desk.now = lambda: datetime.now(UTC) - timedelta(minutes=10)  # held long ago
    try:
        console.run(console.desk.hold("zhang", "live-2", True))
    finally:
        console.desk.now = real
    status = console.desk.status("zhang")
    assert status.held and status.held_since is not None
    sup = console.client("sup")
    held = row_of(wall_events(sup, lambda d: row_of(d, "zhang")["held"]), "zhang")
    assert held["held_seconds"] >= 600
    row = re.search(r'<tr data-agent="zhang">.*?</tr>', sup.get("/agents", headers=HTML).text,
                    re.S)
    assert row and re.search(r"on hold <small[^>]*>\((1[0-9]):\d\d\)", row[0]), row
    console.run(console.desk.hold("zhang", "live-2", False))
    assert console.desk.status("zhang").held_since is None
