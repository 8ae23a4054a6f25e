"""The HTML report (`ccf report -f html`) in Chromium, as a supervisor opens it on a screen
and on a phone: no two texts of a chart overlap and none leaves its chart (the boxes
Chromium lays out, measured), the page does not scroll sideways at 390 px, and nothing goes
to the console. Screenshots: build/screenshots/report-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from ccf_cli import ccf
from reports import busy

from browser.screens import MEASURE, shoot, viewing


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """A busy day per hour, and a month of it per day (long period labels)."""
    folder = tmp_path_factory.mktemp("report-html")
    store = busy.write_busy_store(folder / "calls.db")
    made = {}
    for name, args in (("day", ("--from", busy.DAY, "--to", busy.DAY)),
                       ("month", ("--from", "2026-11-01", "--to", "2026-11-30",
                                  "--interval", "day"))):
        out = folder / f"{name}.html"
        result = ccf("report", "--store", store, "-f", "html", "-o", str(out), *args)
        assert result.exit_code == 0, result.output
        made[name] = out
    return made


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("which", ["day", "month"])
def test_the_report_reads_in_chromium(browser, pages, which: str, width: int) -> None:
    with viewing(browser, pages[which].as_uri(), width) as (page, watched):
        charts = page.locator("svg.chart").count()
        assert charts >= 7
        assert page.evaluate(MEASURE) == []
        # the body never scrolls sideways: wide tables scroll in their own box
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("document.body.scrollWidth") <= width
        # the charts shrink to the page's width and keep their proportions
        widths = page.evaluate("[...document.querySelectorAll('svg.chart')].map("
                               "s => s.getBoundingClientRect().width)")
        assert max(widths) <= width and min(widths) > min(width - 60, 500)
        assert page.locator("#agents >> text=<script>").count() >= 1  # shown as text
        shoot(page, f"report-{which}-{width}")
        assert watched.errors == [] and watched.failed == []
