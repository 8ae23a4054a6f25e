"""The console's Flows page in Chromium, as a supervisor opens it on a screen and on a
phone: every flow drawn with its calls, fitted to the card's width (its text still
readable), at its own size scrolling inside its box when unticked, a title made of markup
shown as text, no console error (the CSP allows the inline SVG) and no sideways scroll of
the body. Screenshots: build/screenshots/console-flows-*.png."""

from __future__ import annotations

import pytest

from browser.consoles import flows_drawn  # noqa: F401 - the `console` of this module
from browser.screens import logged_in, shoot
from tests.console.flows_rig import DAY, HOSTILE_TITLE
from tests.console.rig import PASSWORD

MIN_TEXT_PX = 6.0  # the smallest rendered text a screen's drawing may shrink to


def text_heights(section) -> list[float]:
    return section.locator("svg g.node text").evaluate_all(
        "ts => ts.map(t => t.getBoundingClientRect().height)")


@pytest.mark.parametrize("width", [1280, 390])
def test_the_flows_page_reads_on_a_screen_and_a_phone(browser, console, width: int) -> None:
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.set_viewport_size({"width": width, "height": 900})
        page.click("header.top nav a[href='/flows']")
        page.wait_for_url("**/flows")
        page.goto(f"/flows?since={DAY}&until={DAY}")
        assert page.locator("section.flow .flow-graph svg").count() == 2
        hotline = page.locator("section.flow[data-flow=hotline]")
        assert "Traffic: 5 calls" in hotline.locator("p.covers").inner_text()
        assert hotline.locator("svg g.node text", has_text="5 calls").count() >= 1
        # the hostile title is text in the drawing, never markup
        assert page.locator("section.flow[data-flow=hostile] svg text",
                            has_text=HOSTILE_TITLE).count() == 1
        assert page.locator("main script, main img").count() == 0
        page.wait_for_load_state("load")
        fitted = width == 1280  # a phone opens on the flows at their own size
        for _ in range(2):
            if fitted:  # the drawing inside its card; on a screen its text still reads
                for flow in ("hotline", "hostile"):
                    box = page.locator(f"section.flow[data-flow={flow}] .flow-graph")
                    svg = box.locator("svg").bounding_box()
                    assert svg["width"] <= box.bounding_box()["width"] + 0.5, flow
                if width == 1280:
                    assert min(text_heights(hotline)) >= MIN_TEXT_PX
            else:  # its points as pixels, scrolling in its box on a phone
                assert min(text_heights(hotline)) >= 9.5  # the smallest: 9-point ends
                if width == 390:
                    assert hotline.locator(".flow-graph").evaluate(
                        "g => g.scrollWidth > g.clientWidth")
                    # scrolled to where calls start, not the box's empty corner
                    box = hotline.locator(".flow-graph").bounding_box()
                    start = hotline.locator("svg g.node", has_text="on start").bounding_box()
                    assert box["x"] <= start["x"] and \
                        start["x"] + start["width"] <= box["x"] + box["width"], (box, start)
                    assert box["y"] <= start["y"] < box["y"] + box["height"], (box, start)
            # either way the page never scrolls sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate("document.body.scrollWidth") <= width
            shoot(page, f"console-flows-{width}" + ("" if fitted == (width == 1280)
                                                     else "-toggled"))
            hotline.locator("label").click()
            page.locator("section.flow[data-flow=hostile] label").click()
            fitted = not fitted
        assert watched.errors == []
        assert [f for f in watched.failed if "/live: net::ERR_ABORTED" not in f] == []
