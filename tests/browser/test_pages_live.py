"""The supervisor's pages in Chromium as people meet them (tests/pages_fixes has the server
side): a page one's role may not open, the agents page kept live by the wallboard's stream
(states, actions and the Console column),
hold on the wallboard, and every page at 390 px wide with what matters in view.
Screenshots: build/screenshots/pages-*.png at 1280 and 390 px."""

from __future__ import annotations

from datetime import UTC, datetime

from ccdsl.runtime.core.events import Event
from tests.console.rig import PASSWORD
from tests.console.test_history_calls import store_call
from tests.console.test_wall import on_call

from .consoles import with_sups_device  # noqa: F401 - the `console` of this module
from .screens import logged_in, shoot
from .wall_rig import ZHANG, zhang_held, zhang_on_the_wall

NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


def in_view(page, selector: str) -> bool:
    """The element is drawn and lies within the window's width (nothing to scroll to)."""
    return page.evaluate("""(s) => { const n = document.querySelector(s);
      if (!n) return false; const r = n.getBoundingClientRect();
      return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth; }""", selector)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def both_widths(page, name: str) -> None:
    for size, label in ((WIDE, "1280"), (NARROW, "390")):
        page.set_viewport_size(size)
        shoot(page, f"pages-{name}-{label}")


def text_of(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def test_an_agent_opening_the_wallboard_gets_a_page_back_to_the_desk(browser, console) -> None:
    with logged_in(browser, console.base, "zhang", PASSWORD) as (page, watched):
        assert page.url.endswith("/desk")
        answer = page.goto("/wall")
        assert answer.status == 403
        assert text_of(page, "h1") == "This page is for supervisors and administrators"
        assert page.locator("header.top nav a[href='/desk']").count() == 1
        both_widths(page, "refused")
        assert fits(page)
        with page.expect_navigation():
            page.click("a.back")
        assert page.url.endswith("/desk")


def test_the_agents_page_is_live_and_offers_no_log_out_during_a_call(browser, console) -> None:
    li = "#agents-table tr[data-agent=li]"
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.goto("/agents")
        page.wait_for_selector("#agents-live.live")
        page.evaluate("window.__same_page = 1")
        assert "ready" in text_of(page, f"{li} td.state")
        assert page.is_enabled(f"{li} button[data-action=logout]")
        # the Console column follows li's console sessions without a reload
        assert text_of(page, f"{li} td.console") == "–"
        desks = [console.client("li")]
        page.wait_for_function(f"() => document.querySelector('{li} td.console')"
                               ".textContent === 'logged in'")
        desks.append(console.client("li"))
        page.wait_for_function(f"() => document.querySelector('{li} td.console')"
                               ".textContent === 'logged in (2)'")
        shoot(page, "pages-agents-console")

        on_call(console, "li", "live-1")
        page.wait_for_function(f"() => document.querySelector('{li} td.state')"
                               ".textContent.startsWith('on call')")
        assert page.is_disabled(f"{li} button[data-action=logout]")
        assert "after the call" in text_of(page, li)
        assert page.is_hidden(f"{li} button[data-action=pause]")
        console.run(console.desk.hold("li", "live-1", True))
        page.wait_for_function(f"() => document.querySelector('{li} td.state')"
                               ".textContent.startsWith('on hold')")
        both_widths(page, "agents-on-call")
        assert in_view(page, f"{li} button[data-action=logout]") and fits(page)
        page.set_viewport_size(WIDE)

        console.call_soon(console.desk.emit, Event("live-1", 9, datetime.now(UTC),
                                                   "conversation_ended", {"agent": "li"}))
        page.wait_for_function(f"() => document.querySelector('{li} td.state')"
                               ".textContent.startsWith('ready')")
        assert page.is_enabled(f"{li} button[data-action=logout]")
        assert page.is_visible(f"{li} button[data-action=pause]")
        # li leaves the console in one tab, then in the other
        assert console.post(desks[0], "/logout").headers["location"] == "/login"
        page.wait_for_function(f"() => document.querySelector('{li} td.console')"
                               ".textContent === 'logged in'")
        assert console.post(desks[1], "/logout").headers["location"] == "/login"
        page.wait_for_function(f"() => document.querySelector('{li} td.console')"
                               ".textContent === '–'")
        assert text_of(page, f"{li} td.state").startswith("logged out")
        for desk in desks:
            desk.close()
        assert page.evaluate("window.__same_page") == 1  # never reloaded
        assert not watched.errors, watched.errors


def test_the_wallboard_shows_hold_and_its_controls_at_390_px(browser, console) -> None:
    zhang = ZHANG
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        on_call(console, "zhang", "live-1")
        zhang_on_the_wall(page)
        zhang_held(console, page)
        both_widths(page, "wall-on-hold")
        for mode in ("listen", "whisper", "barge"):
            assert in_view(page, f"{zhang} button[data-monitor={mode}]"), mode
        assert in_view(page, f"{zhang} td.step")
        assert in_view(page, "#wall-queues tr[data-queue=service] td.staffing")
        assert fits(page)

        # an error notice can be closed, and while it shows the page's end scrolls above it
        page.evaluate("ccf.notice('the centre refused: try again', true)")
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        shoot(page, "pages-wall-notice-390")
        gap = page.evaluate("""() => document.getElementById('notice').getBoundingClientRect().top
            - document.querySelector('main > #wall').getBoundingClientRect().bottom""")
        assert gap >= 0, gap
        page.click("#notice button.close")
        assert page.is_hidden("#notice")
        assert not watched.errors, watched.errors


def test_a_calls_events_show_their_data_at_390_px(browser, console) -> None:
    store_call(console.store, "narrow-1")
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.goto("/history/narrow-1")
        both_widths(page, "call")
        assert in_view(page, "#call-events tr:nth-child(3) td.data")
        assert fits(page)
        page.goto("/history")
        both_widths(page, "history")
        assert fits(page)
