"""The console's Reports page in Chromium, as a supervisor opens it on a screen and on a
phone, over the reports' busy day (tests/reports/busy.py): the report's charts (service
trend, calls stacked per queue, agents' time in state), no chart text over another, the
summary one figure a line, handlers apart from steps, and no sideways scroll of the body.
Screenshots: build/screenshots/console-reports-*.png."""

from __future__ import annotations

import pytest
from reports import busy

from browser.screens import MEASURE, logged_in, shoot
from tests.console.rig import PASSWORD, Console


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console-reports")
    busy.write_busy_store(folder / "calls.db")  # the console opens this store
    rig = Console(folder)
    try:
        yield rig
    finally:
        rig.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_reports_page_reads_on_a_screen_and_a_phone(browser, console, width: int) -> None:
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/reports?since={busy.DAY}&until={busy.DAY}")
        for name, kind in (("service", "trend"), ("queues", "across"),
                           ("agent_time", "across"), ("calls", "columns")):
            assert page.locator(f"#report-{name} svg.chart.{kind}").count() == 1, name
        assert page.evaluate(MEASURE) == []
        # the summary (IVR containment among its figures) reads down, one figure a line
        summary = page.locator("#table-summary tr")
        assert summary.count() >= 12
        assert "IVR containment %" in page.locator("#table-summary").inner_text()
        # handlers (on hangup) in a table of their own, not among the steps and menus
        assert "on hangup" in page.locator("#table-nodes-handler").inner_text()
        assert "on hangup" not in page.locator("#table-nodes").inner_text()
        # a day per hour: the day once, in the heading; each row its hour
        assert page.locator("#table-calls th").first.inner_text() == f"Hour ({busy.DAY})"
        assert page.locator("#table-calls tbody tr td").first.inner_text() == "00:00"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("document.body.scrollWidth") <= width
        shoot(page, f"console-reports-{width}")
        # the wallboard's live stream, cut when the page goes to Reports, is no failure
        assert watched.errors == []
        assert [f for f in watched.failed if "/live: net::ERR_ABORTED" not in f] == []
