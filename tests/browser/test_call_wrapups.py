"""A transferred call's wrap-ups in Chromium: the call's page shows each agent's (zhang's saved,
li's asked and not filled in), and the pop's last calls name each agent's saved wrap-up."""

from __future__ import annotations

from tests.console.rig import PASSWORD
from tests.desk_fixes.test_wrapup_per_agent import store_transferred

from .desk_rig import at_desk, pop_with_last_calls
from .screens import logged_in, shoot

RECENT = [{"call_id": "old-moved", "time": "2026-11-30T02:00:00+00:00", "outcome": "hangup",
           "agent": "li", "wrapup": {"reason": "refund"}, "recorded": False,
           "wrapups": [{"agent": "zhang", "values": {"reason": "order status"}},
                       {"agent": "li", "values": {"reason": "refund"}}]}]


def test_the_call_page_shows_each_agents_wrap_up(browser, console) -> None:
    store_transferred(console, "t1")
    console.store.set_wrapup("t1", {"reason": "order status", "resolved": True}, agent="zhang")
    console.store.flush()
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.goto("/history/t1")
        page.wait_for_selector("#call-wrapup")
        box = page.inner_text("#call-wrapup")
        shoot(page, "call-wrapups")
        assert "by zhang" in box and "order status" in box
        assert "asked of li; not filled in yet" in box
        assert box.index("by zhang") < box.index("asked of li")  # in the order asked
        page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing cut off
        shoot(page, "call-wrapups-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert watched.errors == []


def test_the_pop_names_each_agents_wrap_up_of_a_last_call(browser, console) -> None:
    with at_desk(browser, console) as (desk, watched):
        pop_with_last_calls(console, desk, RECENT)
        shown = desk.inner_text("#recent-calls")
        shoot(desk, "desk-last-call-wrapups")
        assert "zhang: reason: order status; li: reason: refund" in shown
    assert watched.errors == []
