"""The pop's "Last calls": only the caller's finished calls that started before this one,
each linked to its page and recording only where the agent may open them and a recording
exists."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ccdsl.runtime.core.events import Event
from ccdsl.runtime.operations.screenpop import recent_calls
from tests.console.desk_calls import pop

CALLER = "+8613800000001"
NOW = datetime.now(UTC).replace(microsecond=0)
HTML = {"Accept": "text/html"}


def call(console, call_id: str, minutes_ago: float, *, agent: str | None = "zhang",
         ended: bool = True, recorded: bool = False) -> None:
    start = NOW - timedelta(minutes=minutes_ago)
    kinds = [("call_started", {"caller": CALLER, "dialled": "4008001234", "flow": "hotline"})]
    if recorded:
        kinds.append(("recording_started", {"file": f"/rec/{call_id}.wav"}))
    if agent:
        kinds += [("agent_offered", {"agent": agent, "via": "queue"}),
                  ("agent_answered", {"agent": agent, "ring_ms": 1000})]
    if ended:
        kinds += [("hangup", {"by": "caller"}), ("call_ended", {"outcome": "hangup"})]
    for seq, (kind, data) in enumerate(kinds, 1):
        console.store.emit(Event(call_id, seq, start + timedelta(seconds=seq), kind, data))


def test_only_finished_calls_before_this_one_are_listed(console) -> None:
    call(console, "old-mine", 60, recorded=True)
    call(console, "old-li", 50, agent="li")
    call(console, "still-on", 20, ended=False)  # another line of the same caller, going on
    call(console, "now", 10, ended=False)
    call(console, "later", 5)  # started after this call (and ended): not "last"
    call(console, "later-on", 2, ended=False)
    rows = recent_calls(console.store.recent_calls, CALLER, "now")
    assert [r["call_id"] for r in rows] == ["old-li", "old-mine"]
    assert [(r["outcome"], r["agent"], r["recorded"]) for r in rows] == [
        ("hangup", "li", False), ("hangup", "zhang", True)]
    console.store.flush()  # the same once written to the file
    rows = recent_calls(console.store.recent_calls, CALLER, "now")
    assert [r["call_id"] for r in rows] == ["old-li", "old-mine"]


def test_links_only_where_the_agent_may_open_them(console) -> None:
    recent = [{"call_id": "old-mine", "time": "2026-11-30T02:00:00+00:00", "outcome": "hangup",
               "agent": "zhang", "wrapup": None, "recorded": True},
              {"call_id": "old-plain", "time": "2026-11-30T01:00:00+00:00",
               "outcome": "hangup", "agent": "zhang", "wrapup": None, "recorded": False},
              {"call_id": "old-li", "time": "2026-11-29T02:00:00+00:00", "outcome": "hangup",
               "agent": "li", "wrapup": None, "recorded": True}]
    pop(console, "now", recent=recent)
    page = console.client("zhang").get("/desk", headers=HTML).text
    listed = page[page.index('id="recent-calls"'):page.index('id="wrapup"')]
    assert re.findall(r'href="(/[^"]+)"', listed) == [
        "/history/old-mine", "/recordings/old-mine", "/history/old-plain"]
