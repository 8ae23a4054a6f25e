"""The Flows and Reports pages over a call store that cannot be read, in Chromium at 1280 and
390 px: a store down says to try again shortly, one to mend says what is wrong and that it must
be mended first, as every console page says them (tests/console/test_flows_page.py and
test_store_misconfigured.py check the words against a real store). Screenshots:
pages-flows-store-down-*.png, pages-reports-store-to-mend-*.png."""

from __future__ import annotations

import importlib

from browser.consoles import flows_drawn  # noqa: F401 - the `console` of this module
from browser.screens import logged_in
from ccdsl.runtime.operations.reports import query
from tests.console.rig import PASSWORD

from .test_pages_live import both_widths, fits

MEND = ("`calls.db` lacks the table node_visits a report reads; the call store must be mended "
        "first (its administrator: docs/store.md)")


def test_the_flows_page_says_the_store_is_down_and_to_try_again(browser, console,
                                                                monkeypatch) -> None:
    def down(*_args, **_kw):
        raise query.StoreUnreachable("connection refused; Is the server running?")

    traffic = importlib.import_module("ccdsl.runtime.operations.reports.flow_traffic")
    monkeypatch.setattr(traffic, "flow_traffic", down)
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        answer = page.goto("/flows?since=2026-10-03&until=2026-10-03")
        assert answer.status == 200  # the drawings' page; each drawing says why it is missing
        said = page.locator("section.flow p.unavailable").all_inner_texts()
        assert len(said) == 2, said
        for line in said:
            assert line == ("the call store cannot be read now: connection refused; Is the "
                            "server running?; try again shortly"), line
        both_widths(page, "flows-store-down")
        assert fits(page)
        assert not watched.errors, watched.errors


def test_the_reports_page_says_the_store_must_be_mended(browser, console, monkeypatch) -> None:
    reports = importlib.import_module("ccdsl.runtime.operations.reports")

    def to_mend(*_args, **_kw):
        raise query.StoreNeedsMending(MEND)

    monkeypatch.setattr(reports, "make_report", to_mend)
    with logged_in(browser, console.base, "sup", PASSWORD) as (page, watched):
        answer = page.goto("/reports")
        assert answer.status == 503
        said = page.locator("main p[role=alert]").first.inner_text()
        assert said == MEND, said
        assert "try again" not in page.locator("main").inner_text()
        both_widths(page, "reports-store-to-mend")
        assert fits(page)
        # Chromium logs the page's own 503 as an error; nothing else may be one
        others = [e for e in watched.errors if "status of 503" not in e]
        assert not others, others
