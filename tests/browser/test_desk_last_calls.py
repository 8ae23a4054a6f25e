"""The pop's last calls, shown live: links only to what the agent may open."""

from __future__ import annotations

from .desk_rig import at_desk, pop_with_last_calls

RECENT = [{"call_id": "old-mine", "time": "2026-11-30T02:00:00+00:00", "outcome": "hangup",
           "agent": "zhang", "wrapup": None, "recorded": True},
          {"call_id": "old-plain", "time": "2026-11-30T01:00:00+00:00", "outcome": "hangup",
           "agent": "zhang", "wrapup": None, "recorded": False},
          {"call_id": "old-li", "time": "2026-11-29T02:00:00+00:00", "outcome": "abandoned",
           "agent": "li", "wrapup": None, "recorded": True}]



def test_the_live_pop_links_only_the_agents_own_calls_and_recordings(browser, console) -> None:
    with at_desk(browser, console) as (desk, watched):
        pop_with_last_calls(console, desk, RECENT)
        links = desk.eval_on_selector_all("#recent-calls a",
                                          "as => as.map(a => a.getAttribute('href'))")
        assert links == ["/history/old-mine", "/recordings/old-mine", "/history/old-plain"]
        assert "agent li" in desk.inner_text("#recent-calls")
    assert watched.errors == []
