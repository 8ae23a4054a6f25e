"""The Flows page with flows drawn and the Reports page with its charts, as a keyboard and
screen-reader user meets them (tests/browser/a11y.py), over the flows rig's calls."""

from __future__ import annotations

import pytest

from tests.console.flows_rig import DAY
from tests.console.rig import PASSWORD

from .a11y import kept
from .consoles import flows_drawn  # noqa: F401 - the `console` of this module
from .screens import logged_in


@pytest.mark.parametrize("path", [f"/flows?since={DAY}&until={DAY}",
                                  f"/reports?since={DAY}&until={DAY}"])
def test_the_drawn_pages_keep_the_rules(browser, console, path: str) -> None:
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        page.goto(path)
        name = path.split("?")[0].strip("/")
        stops = kept(page, f"{name}-drawn")
        if name == "flows":
            # each flow's fit box is a named checkbox, reached by Tab
            fit = page.get_by_role("checkbox", name="Fit the flow to the page")
            assert fit.count() == 2
            assert "Fit the flow to the page" in [s["name"] for s in stops]
        else:
            charts = page.locator("svg.chart")
            assert charts.count() > 0
            for label in charts.evaluate_all("cs => cs.map(c => c.getAttribute('aria-label'))"):
                assert label, "a chart without a name"
        assert not watched.errors, watched.errors
