"""Who holds a held caller, redrawn live in Chromium on the wallboard (wall.js) and the agents
page (admin.js): "by the console", "by the phone" or both, in words after the hold's time,
with the pages keeping the a11y rules (a11y_rules.js) at 1280 and 390 px.
Screenshots: build/screenshots/pages-hold-who-*.png."""

from __future__ import annotations

from tests.console.rig import PASSWORD
from tests.console.test_wall import on_call

from .a11y import breaches
from .consoles import with_sups_device  # noqa: F401 - the `console` of this module
from .screens import logged_in, shoot
from .wall_rig import ZHANG, zhang_on_the_wall

NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
AGENT = "#agents-table tr[data-agent=zhang] td.state"


def reads(page, selector: str, ending: str) -> None:
    """Back when the element's words end with `ending` (the live redraw has come)."""
    page.wait_for_function("([s, e]) => { const n = document.querySelector(s);"
                           " return n && n.textContent.trim().endsWith(e); }",
                           arg=[selector, ending])


def kept_at_both_widths(page, name: str, cell: str) -> None:
    """The a11y rules kept at 1280 and 390 px, and `cell`'s words all drawn (none cut off)."""
    for size, label in ((WIDE, "1280"), (NARROW, "390")):
        page.set_viewport_size(size)
        shoot(page, f"pages-hold-who-{name}-{label}")
        assert breaches(page) == [], label
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), label
        assert page.evaluate("""(s) => { const n = document.querySelector(s);
          const r = n.getBoundingClientRect();
          return n.scrollWidth <= n.clientWidth && r.right <= window.innerWidth; }""",
                             cell), label
    page.set_viewport_size(WIDE)


def test_the_wall_and_the_agents_page_say_live_who_holds_the_caller(browser, console) -> None:
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        on_call(console, "zhang", "live-1")
        zhang_on_the_wall(page)
        page.evaluate("window.__same_page = 1")
        state = f"{ZHANG} td:nth-child(2)"
        console.run(console.desk.hold("zhang", "live-1", True))
        reads(page, state, ") by the console")
        console.call_soon(console.desk.phone_hold, "zhang", True)
        reads(page, state, ") by the console and the phone")
        kept_at_both_widths(page, "wall-both", state)
        console.run(console.desk.hold("zhang", "live-1", False))
        reads(page, state, ") by the phone")
        assert page.locator(state).inner_text().startswith("on hold (")
        shoot(page, "pages-hold-who-wall-phone-1280")
        assert page.evaluate("window.__same_page") == 1  # redrawn, never reloaded

        page.goto("/agents")  # the server's page says it first, then the live events
        page.wait_for_selector("#agents-live.live")
        reads(page, AGENT, ") by the phone")
        page.evaluate("window.__same_page = 1")
        console.run(console.desk.hold("zhang", "live-1", True))
        reads(page, AGENT, ") by the console and the phone")
        kept_at_both_widths(page, "agents-both", AGENT)
        console.call_soon(console.desk.phone_hold, "zhang", False)
        reads(page, AGENT, ") by the console")
        console.run(console.desk.hold("zhang", "live-1", False))
        page.wait_for_function(f"() => document.querySelector('{AGENT}')"
                               ".textContent.startsWith('on call')")
        assert "by the" not in page.locator(AGENT).inner_text()
        assert page.evaluate("window.__same_page") == 1
        assert not watched.errors, watched.errors
