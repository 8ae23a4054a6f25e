"""The pop's last calls, shown live: links only to what the agent may open."""

from __future__ import annotations

from tests.console.desk_calls import pop, ringing

from .desk_rig import desk_of
from .screens import Watched

RECENT = [{"call_id": "old-mine", "time": "2026-11-30T02:00:00+00:00", "outcome": "hangup",
           "agent": "zhang", "wrapup": None, "recorded": True},
          {"call_id": "old-plain", "time": "2026-11-30T01:00:00+00:00", "outcome": "hangup",
           "agent": "zhang", "wrapup": None, "recorded": False},
          {"call_id": "old-li", "time": "2026-11-29T02:00:00+00:00", "outcome": "abandoned",
           "agent": "li", "wrapup": None, "recorded": True}]



def test_the_live_pop_links_only_the_agents_own_calls_and_recordings(browser, console) -> None:
    watched = Watched()
    context, desk = desk_of(browser, console, watched)
    try:
        ringing(console, "now")
        payload = pop(console, "now", recent=RECENT)
        console.call_soon(lambda: console.feed.publish("pop", payload, agent="zhang"))
        desk.wait_for_function(
            "() => document.querySelectorAll('#recent-calls li').length === 3")
        links = desk.eval_on_selector_all("#recent-calls a",
                                          "as => as.map(a => a.getAttribute('href'))")
        assert links == ["/history/old-mine", "/recordings/old-mine", "/history/old-plain"]
        assert "agent li" in desk.inner_text("#recent-calls")
    finally:
        context.close()
    assert watched.errors == []
